"""The tokenizer and boolean-parser core shared by the tag rule language and tag expressions.

Both small languages of :mod:`persona_rec.tags` join operands with the same
boolean layer, loosest binding first::

    or_expr  := and_expr (("or" | "|" | "||") and_expr)*
    and_expr := not_expr (("and" | "&" | "&&") not_expr)*
    not_expr := ("not" | "!") not_expr | OPERAND

and report a malformed text the same way (the text, the position and a caret
under it). This module holds that part once:

* :class:`Lexicon` says what a front end's words, numbers, strings and
  operators look like, and :func:`tokenize` reads a text with it into
  :class:`Token` objects;
* :class:`BoolParser` parses the boolean layer with a nesting guard and
  leaves ``OPERAND`` (and the nodes it builds) to its subclass;
* :class:`ParsedText` is what both front ends return: the text as written and
  its tree, shown, compared and hashed the same way.

The front ends are :mod:`persona_rec.tags.rules` (comparisons, arithmetic and
functions over profile columns) and :mod:`persona_rec.tags.expressions` (tag
ids). User text is only ever tokenized here, never evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import RuleSyntaxError

__all__ = ["Token", "Lexicon", "tokenize", "syntax_error", "BoolParser", "ParsedText", "MAX_DEPTH"]

#: Deepest nesting of ``(``, ``not`` and unary minus a text may use.
MAX_DEPTH = 100


def syntax_error(label: str, text: str, pos: int, what: str) -> RuleSyntaxError:
    """A :class:`~persona_rec.exceptions.RuleSyntaxError` showing the text with a caret at ``pos``.

    ``label`` names the language in the message (``"Rule"``, ``"Tag expression"``).
    """
    shown = text if len(text) <= 200 else text[:200] + "..."
    caret = " " * min(pos, 203) + "^"
    return RuleSyntaxError(f"{label} {text!r} is malformed at position {pos}: {what}\n  {shown}\n  {caret}")


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is NAME, KW, NUM, STR, OP, LP, RP, LB, RB, COMMA or END.

    ``value`` is the parsed value (a keyword lower-cased, ``&&`` read as ``&``),
    ``text`` the characters as written, ``pos`` where they start.
    """

    kind: str
    value: Any
    pos: int
    text: str


def _is_identifier_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_identifier_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class Lexicon:
    """What one language's tokens look like.

    Attributes
    ----------
    label : str
        The language's name in error messages (``"Rule"``).
    noun : str
        What one text of the language is called in messages (``"rule"``).
    trailing : str
        What may follow a complete text, for the message when something else does.
    keywords : frozenset of str
        Words read as ``KW`` tokens (case-insensitive); other words are ``NAME``.
    word_start, word_char : callable
        Which characters start and continue a word.
    numbers : bool
        Whether ``1``, ``2.5``, ``.5``, ``1e3`` are ``NUM`` tokens (checked before words).
    quotes : bool
        Whether ``"text"``/``'text'`` are ``STR`` tokens and ```name``` a quoted ``NAME``.
    operators : frozenset of str
        Operator spellings of one or two characters (``OP`` tokens); ``&&`` and
        ``||`` are read as ``&`` and ``|``.
    punctuation : str
        Which of ``( ) [ ] ,`` are tokens (``LP RP LB RB COMMA``).
    bad_char : callable
        Message tail for a character no token can start with.
    """

    label: str
    keywords: frozenset[str]
    noun: str = "text"
    trailing: str = "an operator or the end of the text"
    word_start: Callable[[str], bool] = _is_identifier_start
    word_char: Callable[[str], bool] = _is_identifier_char
    numbers: bool = False
    quotes: bool = False
    operators: frozenset[str] = frozenset({"!", "&", "|", "&&", "||"})
    punctuation: str = "()"
    bad_char: Callable[[str], str] = lambda ch: f"unexpected character {ch!r}."


_PUNCT = {"(": "LP", ")": "RP", "[": "LB", "]": "RB", ",": "COMMA"}
_SPELLED = {"&&": "&", "||": "|"}


def _number_end(text: str, i: int, lex: Lexicon) -> int:
    n = len(text)
    j = i
    while j < n and text[j].isdigit():
        j += 1
    if j < n and text[j] == ".":
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isdigit():
            while k < n and text[k].isdigit():
                k += 1
            j = k
    if j < n and (text[j].isalpha() or text[j] == "_"):
        raise syntax_error(lex.label, text, j, f"a number cannot be followed by {text[j]!r}.")
    return j


def _quoted_end(text: str, i: int, lex: Lexicon) -> tuple[int, str]:
    """End (after the closing quote) and content of the quoted token starting at ``i``."""
    n, ch = len(text), text[i]
    j, buf = i + 1, []
    while j < n and text[j] != ch:
        if text[j] == "\\" and j + 1 < n and text[j + 1] in ("\\", ch):
            buf.append(text[j + 1])
            j += 2
        else:
            buf.append(text[j])
            j += 1
    if j >= n:
        what = "column name" if ch == "`" else "string"
        raise syntax_error(lex.label, text, i, f"unterminated {what} starting with {ch}.")
    return j + 1, "".join(buf)


def tokenize(text: str, lex: Lexicon) -> list[Token]:
    """Read ``text`` into tokens (ending with an ``END`` token at ``len(text)``).

    Raises
    ------
    RuleSyntaxError
        A character no token can start with, an unterminated string, an
        empty quoted name or a number run into letters.
    """
    toks: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif lex.numbers and (ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit())):
            j = _number_end(text, i, lex)
            lit = text[i:j]
            toks.append(Token("NUM", float(lit) if any(c in lit for c in ".eE") else int(lit), i, lit))
            i = j
        elif lex.word_start(ch):
            j = i + 1
            while j < n and lex.word_char(text[j]):
                j += 1
            word = text[i:j]
            low = word.lower()
            toks.append(Token("KW", low, i, word) if low in lex.keywords else Token("NAME", word, i, word))
            i = j
        elif lex.quotes and ch in "\"'`":
            j, content = _quoted_end(text, i, lex)
            if ch == "`" and not content:
                raise syntax_error(lex.label, text, i, "empty `` column name.")
            toks.append(Token("NAME" if ch == "`" else "STR", content, i, text[i:j]))
            i = j
        elif i + 1 < n and text[i : i + 2] in lex.operators:
            two = text[i : i + 2]
            toks.append(Token("OP", _SPELLED.get(two, two), i, two))
            i += 2
        elif ch in lex.operators:
            toks.append(Token("OP", ch, i, ch))
            i += 1
        elif ch in lex.punctuation:
            toks.append(Token(_PUNCT[ch], ch, i, ch))
            i += 1
        else:
            raise syntax_error(lex.label, text, i, lex.bad_char(ch))
    toks.append(Token("END", None, n, ""))
    return toks


class BoolParser:
    """Recursive descent over the shared boolean layer; subclasses parse the operands.

    A subclass sets ``lexicon`` (its language's :class:`Lexicon`) and
    implements :meth:`operand`, :meth:`make_bool` and :meth:`make_not`. Every
    ``(``, ``not`` and unary minus goes through :meth:`enter`/:meth:`leave`,
    which bound the nesting at :data:`MAX_DEPTH`.
    """

    lexicon: Lexicon

    def __init__(self, text: str) -> None:
        self.text = text
        self.label = self.lexicon.label
        self.noun = self.lexicon.noun
        self.toks = tokenize(text, self.lexicon)
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------ tokens
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_kw(self, word: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "KW" and t.value == word

    def is_op(self, *ops: str) -> bool:
        t = self.peek()
        return t.kind == "OP" and t.value in ops

    def error(self, pos: int, what: str) -> RuleSyntaxError:
        return syntax_error(self.label, self.text, pos, what)

    def err(self, tok: Token, expected: str) -> RuleSyntaxError:
        found = f"the end of the {self.noun}" if tok.kind == "END" else repr(tok.text)
        return self.error(tok.pos, f"expected {expected} but found {found}.")

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(tok.pos, f"nesting deeper than {MAX_DEPTH} levels.")

    def leave(self) -> None:
        self.depth -= 1

    # ----------------------------------------------------------- grammar
    def parse(self) -> Any:
        if self.peek().kind == "END":
            raise self.error(0, f"the {self.noun} is empty.")
        node = self.or_expr()
        t = self.peek()
        if t.kind != "END":
            raise self.err(t, self.lexicon.trailing)
        return node

    def or_expr(self) -> Any:
        return self._chain("or", "|", self.and_expr)

    def and_expr(self) -> Any:
        return self._chain("and", "&", self.not_expr)

    def _chain(self, word: str, symbol: str, part: Callable[[], Any]) -> Any:
        """``part (op part)*`` with ``op`` the keyword ``word`` or the operator ``symbol``."""
        parts = [part()]
        while self.is_kw(word) or self.is_op(symbol):
            self.take()
            parts.append(part())
        return parts[0] if len(parts) == 1 else self.make_bool(word, tuple(parts))

    def not_expr(self) -> Any:
        t = self.peek()
        if self.is_kw("not") or self.is_op("!"):
            self.take()
            self.enter(t)
            node = self.make_not(self.not_expr())
            self.leave()
            return node
        return self.operand()

    def group(self, open_tok: Token) -> Any:
        """The rest of ``( or_expr )`` after its ``(`` (``open_tok``) was taken."""
        self.enter(open_tok)
        node = self.or_expr()
        close = self.take()
        if close.kind != "RP":
            raise self.err(close, f"')' to close the '(' at position {open_tok.pos}")
        self.leave()
        return node

    # ------------------------------------------------------------- hooks
    def operand(self) -> Any:  # pragma: no cover - every front end overrides it
        raise NotImplementedError

    def make_bool(self, op: str, parts: tuple) -> Any:  # pragma: no cover
        raise NotImplementedError

    def make_not(self, node: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class ParsedText:
    """A parsed text: the source as written (:attr:`text`) and its syntax tree.

    Two parsed texts of the same class are equal (and hash alike) when their
    trees are, however they were written; ``str()`` writes the tree back in
    canonical form with the subclass's ``_render`` function and ``repr()``
    shows the source.
    """

    __slots__ = ("_text", "_root")
    _render: Callable[[Any], str]

    def __init__(self, text: str, root: Any) -> None:
        self._text = text
        self._root = root

    @property
    def text(self) -> str:
        """The text as written."""
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    def __str__(self) -> str:
        return type(self)._render(self._root)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._root == other._root

    def __hash__(self) -> int:
        return hash(self._root)

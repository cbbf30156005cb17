"""Boolean tag expressions such as ``"interest/home & price_sensitive & !churned"``.

The expression language is tiny and parsed by a hand-written tokenizer and
recursive-descent parser; user text is never passed to ``eval``/``exec``.

Grammar (``!`` binds tighter than ``&``, which binds tighter than ``|``)::

    expr    := and_expr (("|" | "or") and_expr)*
    and_expr:= not_expr (("&" | "and") not_expr)*
    not_expr:= ("!" | "not") not_expr | atom
    atom    := TAG | "(" expr ")"
    TAG     := one or more of letters, digits, "/", "_", "-", "."

The words ``and``, ``or`` and ``not`` (any case) are operators, so they cannot
be tag ids. A user "has" a tag when its confidence in the user x tag matrix is
greater than zero (and at least ``min_confidence`` when given).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

import numpy as np
import scipy.sparse as sp

from .._text import is_word_char
from .._validation import check_bool
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from ._grammar import BoolParser, Lexicon, ParsedText

__all__ = [
    "TagExpression",
    "parse_tag_expression",
    "is_valid_tag_id",
    "TAG_ID_CHARS",
    "RESERVED_WORDS",
]

#: Punctuation allowed in a tag id besides letters and digits.
TAG_ID_CHARS = frozenset("/_-.")
#: Words that are operators in tag expressions (case-insensitive).
RESERVED_WORDS = frozenset({"and", "or", "not"})
_MAX_LENGTH = 100_000


def _is_tag_char(ch: str) -> bool:
    return is_word_char(ch) or ch in TAG_ID_CHARS


def is_valid_tag_id(tag_id: Any) -> bool:
    """Return whether ``tag_id`` can be written in a tag expression.

    Parameters
    ----------
    tag_id : Any
        Candidate id.

    Returns
    -------
    bool
        True for a non-empty str made of letters, digits, ``/ _ - .`` that is
        not one of the reserved words ``and``, ``or``, ``not``.

    Examples
    --------
    >>> is_valid_tag_id("interest/home/kitchen"), is_valid_tag_id("a b"), is_valid_tag_id("not")
    (True, False, False)
    """
    return (
        isinstance(tag_id, str)
        and len(tag_id) > 0
        and all(_is_tag_char(c) for c in tag_id)
        and tag_id.lower() not in RESERVED_WORDS
    )


#: The expression language's tokens (read by the shared core in :mod:`persona_rec.tags._grammar`):
#: words are tag ids, ``and``/``or``/``not`` are operators.
_LEXICON = Lexicon(
    label="Tag expression",
    noun="expression",
    trailing="an operator '&', '|' or the end of the expression",
    keywords=RESERVED_WORDS,
    word_start=_is_tag_char,
    word_char=_is_tag_char,
    bad_char=lambda ch: (
        f"unexpected character {ch!r}; tag ids may contain letters, digits, "
        "'/', '_', '-', '.', and the operators are & | ! ( ) and/or/not."
    ),
)


# --------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class _Tag:
    tag: str
    pos: int = field(compare=False)


@dataclass(frozen=True)
class _Not:
    operand: "_Node"


@dataclass(frozen=True)
class _And:
    children: tuple  # of _Node, at least two


@dataclass(frozen=True)
class _Or:
    children: tuple  # of _Node, at least two


_Node = Union[_Tag, _Not, _And, _Or]
T = TypeVar("T")


class _Parser(BoolParser):
    """Tag expressions: the shared boolean layer over tag ids."""

    lexicon = _LEXICON

    def make_bool(self, op: str, parts: tuple) -> _Node:
        return _Or(parts) if op == "or" else _And(parts)

    def make_not(self, node: _Node) -> _Node:
        return _Not(node)

    def operand(self) -> _Node:
        tok = self.take()
        if tok.kind == "NAME":
            return _Tag(tok.text, tok.pos)
        if tok.kind == "LP":
            return self.group(tok)
        raise self.err(tok, "a tag id, '(' or '!'")


def _collect(node: _Node, out: dict[str, int]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, _Tag):
            out.setdefault(n.tag, n.pos)
        elif isinstance(n, _Not):
            stack.append(n.operand)
        else:
            stack.extend(reversed(n.children))


def _render(node: _Node) -> str:
    if isinstance(node, _Tag):
        return node.tag
    if isinstance(node, _Not):
        inner = _render(node.operand)
        return "!" + (inner if isinstance(node.operand, (_Tag, _Not)) else f"({inner})")
    op = " & " if isinstance(node, _And) else " | "
    parts = []
    for child in node.children:
        s = _render(child)
        # parenthesise an OR inside an AND; keep everything else flat
        if isinstance(node, _And) and isinstance(child, _Or):
            s = f"({s})"
        parts.append(s)
    return op.join(parts)


# --------------------------------------------------------------------------- public
class TagExpression(ParsedText):
    """A parsed boolean expression over tag ids.

    Build it with :func:`parse_tag_expression`. It is immutable and can be
    evaluated many times against a :class:`~persona_rec.tags.UserTags` or any
    user x tag matrix.

    Attributes
    ----------
    text : str
        The source text.
    tags : frozenset of str
        Every tag id the expression mentions.

    Examples
    --------
    >>> import numpy as np
    >>> e = parse_tag_expression("interest/home & !churned | vip")
    >>> sorted(e.tags)
    ['churned', 'interest/home', 'vip']
    >>> m = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=bool)
    >>> e.evaluate_matrix(m, {"interest/home": 0, "churned": 1, "vip": 2}).tolist()
    [True, False, True]
    """

    __slots__ = ("_positions",)
    _render = staticmethod(_render)

    def __init__(self, text: str, root: _Node) -> None:
        super().__init__(text, root)
        positions: dict[str, int] = {}
        _collect(root, positions)
        self._positions = positions

    @property
    def tags(self) -> frozenset[str]:
        """Tag ids mentioned by the expression."""
        return frozenset(self._positions)

    # ------------------------------------------------------------------ checks
    def check_known(self, known: Iterable[str]) -> None:
        """Raise if the expression uses a tag id not in ``known``.

        Parameters
        ----------
        known : iterable of str
            The tag ids that exist.

        Raises
        ------
        UnknownIdError
            Naming the expression, the unknown tag(s) and their positions.
        """
        known_set = known if isinstance(known, (set, frozenset, Mapping)) else set(known)
        unknown = sorted((t for t in self._positions if t not in known_set), key=self._positions.get)
        if unknown:
            where = ", ".join(f"{t!r} at position {self._positions[t]}" for t in unknown)
            hint = ""
            close = _close_matches(unknown[0], known_set)
            if close:
                hint = f" Did you mean {close}?"
            raise UnknownIdError(
                f"Tag expression {self._text!r} uses unknown tag(s): {where}.{hint}"
            )

    def validate(self, taxonomy: Any, *, allow_sensitive: bool = False) -> "TagExpression":
        """Check the expression against a taxonomy (or a collection of tag ids).

        Parameters
        ----------
        taxonomy : Taxonomy or iterable of str
            A :class:`~persona_rec.tags.Taxonomy` (its ``tag_ids`` and
            ``sensitive_ids`` are used), a :class:`~persona_rec.tags.UserTags`
            (``tag_ids``, ``sensitive_ids``), or plain tag ids (no sensitivity
            information).
        allow_sensitive : bool, default False
            Whether sensitive tags (e.g. gender, age band) may be used.

        Returns
        -------
        TagExpression
            ``self``, for chaining.

        Raises
        ------
        UnknownIdError
            A tag is not in the taxonomy.
        TaxonomyError
            A sensitive tag is used and ``allow_sensitive`` is False.

        Examples
        --------
        >>> parse_tag_expression("a | b").validate(["a", "b", "c"])
        TagExpression('a | b')
        """
        check_bool(allow_sensitive, "allow_sensitive")
        if hasattr(taxonomy, "tag_ids"):
            known = set(taxonomy.tag_ids)
            sensitive = frozenset(getattr(taxonomy, "sensitive_ids", frozenset()))
        elif isinstance(taxonomy, str):
            raise InvalidDtypeError(
                "taxonomy must be a Taxonomy, UserTags or an iterable of tag ids, got a str "
                f"({taxonomy!r}); wrap a single id in a list."
            )
        else:
            known = set(taxonomy)
            sensitive = frozenset()
        self.check_known(known)
        used = sorted(t for t in self._positions if t in sensitive)
        if used and not allow_sensitive:
            raise TaxonomyError(
                f"Tag expression {self._text!r} uses sensitive tag(s) {used}; "
                "pass allow_sensitive=True to use them explicitly."
            )
        return self

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, user_tags: Any, *, min_confidence: float = 0.0) -> np.ndarray:
        """Evaluate the expression for every user of a ``UserTags``.

        Parameters
        ----------
        user_tags : UserTags
            Anything with ``matrix`` (n_users x n_tags) and ``tag_ids``.
        min_confidence : float, default 0.0
            A user has a tag when its confidence is > 0 and >= this value.

        Returns
        -------
        numpy.ndarray of bool
            One entry per user, in ``user_tags.user_ids`` order.

        Raises
        ------
        UnknownIdError
            The expression uses a tag not in ``user_tags.tag_ids``.
        """
        if not hasattr(user_tags, "matrix") or not hasattr(user_tags, "tag_ids"):
            raise InvalidDtypeError(
                "user_tags must be a UserTags (with .matrix and .tag_ids), "
                f"got {type(user_tags).__name__}; use evaluate_matrix for a bare matrix."
            )
        index = getattr(user_tags, "tag_index", None)
        if index is None:
            index = {t: i for i, t in enumerate(user_tags.tag_ids)}
        return self.evaluate_matrix(user_tags.matrix, index, min_confidence=min_confidence)

    def evaluate_matrix(
        self,
        matrix: Any,
        tag_index: Mapping[str, int],
        *,
        min_confidence: float = 0.0,
    ) -> np.ndarray:
        """Evaluate the expression on a user x tag matrix.

        Parameters
        ----------
        matrix : scipy.sparse matrix or array-like, shape (n_users, n_tags)
            Confidences or booleans; an entry > 0 (and >= ``min_confidence``)
            means the user has the tag.
        tag_index : mapping str -> int
            Column of each tag id.
        min_confidence : float, default 0.0
            Minimum confidence for a tag to count.

        Returns
        -------
        numpy.ndarray of bool, shape (n_users,)

        Raises
        ------
        UnknownIdError
            The expression uses a tag missing from ``tag_index``.
        InvalidDtypeError
            ``matrix`` is not two-dimensional.
        """
        if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float, np.number)) \
                or not np.isfinite(min_confidence) or not 0.0 <= float(min_confidence) <= 1.0:
            raise InvalidParameterError(
                f"The 'min_confidence' parameter must be a number in [0, 1], got {min_confidence!r}."
            )
        self.check_known(tag_index)
        names = sorted(self._positions)
        cols = np.asarray([tag_index[t] for t in names], dtype=np.int64)
        if sp.issparse(matrix):
            if matrix.ndim != 2:
                raise InvalidDtypeError(f"matrix must be 2-D, got shape {matrix.shape}.")
            n_users, n_tags = matrix.shape
            _check_cols(cols, n_tags, names)
            sub = sp.csc_matrix(matrix[:, cols]).tocoo()
            present = np.zeros((n_users, len(cols)), dtype=bool)
            data = np.asarray(sub.data)
            ok = data > 0
            if min_confidence > 0:
                ok &= data >= min_confidence
            present[sub.row[ok], sub.col[ok]] = True
        else:
            arr = np.asarray(matrix)
            if arr.ndim != 2:
                raise InvalidDtypeError(f"matrix must be 2-D, got shape {arr.shape}.")
            n_users = arr.shape[0]
            _check_cols(cols, arr.shape[1], names)
            sub = arr[:, cols]
            if sub.dtype == bool:
                present = sub.copy()
            else:
                sub = sub.astype(np.float64)
                present = sub > 0
                if min_confidence > 0:
                    present &= sub >= min_confidence
        columns = {t: present[:, k] for k, t in enumerate(names)}
        return _eval(self._root, columns, n_users)


def _check_cols(cols: np.ndarray, n_tags: int, names: list[str]) -> None:
    bad = (cols < 0) | (cols >= n_tags)
    if bad.any():
        t = names[int(np.flatnonzero(bad)[0])]
        raise InvalidParameterError(
            f"tag_index maps tag {t!r} to column {int(cols[bad][0])}, outside the matrix's "
            f"{n_tags} columns."
        )


def _fold(
    root: _Node,
    tag: Callable[[str], T],
    negate: Callable[[T], T],
    both: Callable[[T, T], T],
    either: Callable[[T, T], T],
) -> T:
    """Evaluate a tag-expression tree bottom-up with the given operations.

    ``tag(tag_id)`` gives a leaf's value, ``negate``, ``both`` and ``either``
    combine values for ``!``, ``&`` and ``|``; the pandas path folds boolean
    arrays, the Spark path boolean columns. The walk is an iterative
    post-order one, so deep expressions cannot exhaust the stack.
    """
    out: dict[int, T] = {}
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, _Tag):
            out[id(node)] = tag(node.tag)
        elif not done:
            stack.append((node, True))
            if isinstance(node, _Not):
                stack.append((node.operand, False))
            else:
                stack.extend((c, False) for c in node.children)
        elif isinstance(node, _Not):
            out[id(node)] = negate(out.pop(id(node.operand)))
        else:
            join = both if isinstance(node, _And) else either
            parts = [out.pop(id(c)) for c in node.children]
            acc = parts[0]
            for p in parts[1:]:
                acc = join(acc, p)
            out[id(node)] = acc
    return out[id(root)]


def _eval(root: _Node, columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    res = _fold(root, columns.__getitem__, operator.invert, operator.and_, operator.or_)
    return np.array(res, dtype=bool, copy=True).reshape(n)


def _close_matches(tag: str, known: Iterable[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(tag, [str(k) for k in known], n=3, cutoff=0.6)


def parse_tag_expression(expr: str) -> TagExpression:
    """Parse a boolean tag expression.

    Parameters
    ----------
    expr : str
        For example ``"interest/home & price_sensitive & !churned"``. Operators:
        ``&``/``and``, ``|``/``or``, ``!``/``not`` and parentheses; ``!``
        binds tighter than ``&``, which binds tighter than ``|``.

    Returns
    -------
    TagExpression

    Raises
    ------
    RuleSyntaxError
        The text is malformed; the message names the expression and the
        position of the problem.
    InvalidDtypeError
        ``expr`` is not a str.

    Examples
    --------
    >>> str(parse_tag_expression("a | b & !c"))
    'a | b & !c'
    >>> str(parse_tag_expression("(a or b) and not c"))
    '(a | b) & !c'
    >>> parse_tag_expression("a & (b")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.RuleSyntaxError: Tag expression 'a & (b' is malformed at position 6: expected ')' to close the '(' at position 4 but found the end of the expression.
      a & (b
            ^
    """
    if isinstance(expr, TagExpression):
        return expr
    if not isinstance(expr, str):
        raise InvalidDtypeError(
            f"A tag expression must be a str, got {type(expr).__name__} ({expr!r})."
        )
    if len(expr) > _MAX_LENGTH:
        raise RuleSyntaxError(
            f"Tag expression is too long: {len(expr)} characters (at most {_MAX_LENGTH})."
        )
    return TagExpression(expr, _Parser(expr).parse())

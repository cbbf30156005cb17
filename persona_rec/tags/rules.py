"""A small, safe rule language over profile columns.

Rules decide which users get a tag (``"price_sensitivity >= 0.6"``) and,
optionally, with which confidence (``"price_sensitivity"``). They are parsed by
a hand-written tokenizer and recursive-descent parser and evaluated
vectorised on the profile frame; user text never reaches ``eval``/``exec``.

Syntax, loosest binding first::

    or        a or b        a | b
    and       a and b       a & b
    not       not a         !a
    compare   x >= 1   x > 1   x <= 1   x < 1   x == "new"   x != "new"
              x in ["a", "b"]   x not in [1, 2]   x is null   x is not null
    arithmetic  x + y   x - y   x * y   x / y   -x
    atoms     column   `odd column name`   1   2.5   -3   1e3   "text"   'text'
              true   false   (expr)   function(args)

Functions (the only callables; anything else is a syntax error):

* ``affinity("kind", "value")`` -- the user's affinity (0..1) for ``value``
  in ``profiles.affinities[kind]`` (0 when none), e.g.
  ``affinity("category_l1", "home")``;
* ``affinity_rank("kind", "value")`` -- rank of ``value`` among the user's
  affinities of that kind (1 = strongest, ties share the best rank; null when
  the affinity is 0);
* ``quantile(x)`` -- percentile rank of ``x`` among users where it is not
  null, in (0, 1]; when the profiles have the bool column ``known_at_as_of``,
  only users known at ``as_of`` are ranked (the others get null), so users
  first seen later never move the thresholds;
* ``coalesce(x, default)`` -- ``x`` with nulls replaced by ``default``;
* ``abs(x)``, ``clip(x, low, high)``.

Null semantics: a comparison (including ``!=`` and ``not in``) involving a
null value is false; test for nulls with ``is null``. A bare column used as a
condition is true where it is non-null and truthy (boolean columns).
Keywords (``and or not in is null true false``) are case-insensitive.

This module is one cohesive unit, the language's syntax tree, its front end over
``tags/_grammar.py``, its functions and the vectorised evaluator, hence its length.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api import types as pdt

from .._types import ProfileSource
from .._validation import check_instance
from ..exceptions import (
    InvalidDtypeError,
    InvalidValueError,
    MissingColumnError,
    RuleSyntaxError,
    UnknownIdError,
)
from ..profiles.profiles import KNOWN_COLUMN
from ._grammar import BoolParser, Lexicon, ParsedText, Token

__all__ = ["Rule", "parse_rule", "RuleContext", "FUNCTIONS"]

_MAX_LENGTH = 20_000
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}
#: Whitelisted functions: name -> (min args, max args, description).
FUNCTIONS: dict[str, tuple[int, int, str]] = {
    "affinity": (2, 2, 'affinity("kind", "value"): user affinity 0..1'),
    "affinity_rank": (2, 2, 'affinity_rank("kind", "value"): 1 = strongest, null if 0'),
    "quantile": (1, 1, "quantile(x): percentile rank in (0, 1] among non-null users"),
    "coalesce": (2, 2, "coalesce(x, default): nulls replaced"),
    "abs": (1, 1, "abs(x)"),
    "clip": (3, 3, "clip(x, low, high)"),
}


def _bad_char(ch: str) -> str:
    hint = " (use == to compare)" if ch == "=" else ""
    return f"unexpected character {ch!r}{hint}."


#: The rule language's tokens (read by the shared core in :mod:`persona_rec.tags._grammar`).
_LEXICON = Lexicon(
    label="Rule",
    noun="rule",
    trailing="an operator or the end of the rule",
    keywords=frozenset(_KEYWORDS),
    numbers=True,
    quotes=True,
    operators=frozenset({">=", "<=", "==", "!=", "&&", "||", ">", "<", "!", "&", "|", "+", "-", "*", "/"}),
    punctuation="()[],",
    bad_char=_bad_char,
)


# --------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class _Col:
    name: str
    pos: int = field(compare=False)


@dataclass(frozen=True)
class _Lit:
    value: Any  # int, float, str, bool


@dataclass(frozen=True)
class _Call:
    func: str
    args: tuple
    pos: int = field(compare=False)


@dataclass(frozen=True)
class _Arith:
    op: str
    left: Any
    right: Any


#: ``+ - *`` of the rule language, for any operand type (numbers, pandas, Spark columns); each
#: backend writes ``/`` itself, so that a division by zero gives null rather than infinity.
_ARITH_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@dataclass(frozen=True)
class _Neg:
    operand: Any


@dataclass(frozen=True)
class _Cmp:
    op: str  # >= > <= < == !=
    left: Any
    right: Any
    pos: int = field(compare=False)


@dataclass(frozen=True)
class _In:
    operand: Any
    values: tuple
    negate: bool


@dataclass(frozen=True)
class _IsNull:
    operand: Any
    negate: bool


@dataclass(frozen=True)
class _Bool:
    op: str  # and / or
    children: tuple


@dataclass(frozen=True)
class _Not:
    operand: Any


_BOOL_NODES = (_Cmp, _In, _IsNull, _Bool, _Not)
_Node = Union[_Col, _Lit, _Call, _Arith, _Neg, _Cmp, _In, _IsNull, _Bool, _Not]


class _Parser(BoolParser):
    """The rule language: the shared boolean layer over comparisons, arithmetic and calls."""

    lexicon = _LEXICON

    def make_bool(self, op: str, parts: tuple) -> _Node:
        return _Bool(op, parts)

    def make_not(self, node: _Node) -> _Node:
        return _Not(node)

    def operand(self) -> _Node:
        return self.comparison()

    def comparison(self) -> _Node:
        left = self.additive()
        t = self.peek()
        if t.kind == "OP" and t.value in (">=", ">", "<=", "<", "==", "!="):
            self.take()
            right = self.additive()
            nxt = self.peek()
            if nxt.kind == "OP" and nxt.value in (">=", ">", "<=", "<", "==", "!="):
                raise self.error(nxt.pos, "comparisons cannot be chained; join them with 'and'.")
            return _Cmp(t.value, left, right, t.pos)
        if self.is_kw("in") or (self.is_kw("not") and self.is_kw("in", 1)):
            negate = self.is_kw("not")
            if negate:
                self.take()
            self.take()
            return _In(left, self.literal_list(), negate)
        if self.is_kw("is"):
            self.take()
            negate = False
            if self.is_kw("not"):
                self.take()
                negate = True
            t2 = self.take()
            if not (t2.kind == "KW" and t2.value == "null"):
                raise self.err(t2, "'null' after 'is'" + (" not" if negate else ""))
            return _IsNull(left, negate)
        return left

    def literal_list(self) -> tuple:
        t = self.take()
        if t.kind != "LB":
            raise self.err(t, "'[' starting a list of literals")
        values: list[Any] = []
        if self.peek().kind == "RB":
            raise self.err(self.peek(), "at least one literal in the list")
        while True:
            values.append(self.literal())
            t = self.take()
            if t.kind == "RB":
                return tuple(values)
            if t.kind != "COMMA":
                raise self.err(t, "',' or ']' in the list")

    def literal(self) -> Any:
        t = self.take()
        if t.kind in ("NUM", "STR"):
            return t.value
        if t.kind == "KW" and t.value in ("true", "false"):
            return t.value == "true"
        if t.kind == "OP" and t.value == "-" and self.peek().kind == "NUM":
            return -self.take().value
        raise self.err(t, "a number, string, true or false")

    def additive(self) -> _Node:
        node = self.term()
        while self.is_op("+", "-"):
            op = self.take().value
            node = _Arith(op, node, self.term())
        return node

    def term(self) -> _Node:
        node = self.unary()
        while self.is_op("*", "/"):
            op = self.take().value
            node = _Arith(op, node, self.unary())
        return node

    def unary(self) -> _Node:
        t = self.peek()
        if t.kind == "OP" and t.value == "-":
            self.take()
            self.enter(t)
            inner = self.unary()
            self.leave()
            if isinstance(inner, _Lit) and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return _Lit(-inner.value)
            return _Neg(inner)
        return self.primary()

    def primary(self) -> _Node:
        t = self.take()
        if t.kind in ("NUM", "STR"):
            return _Lit(t.value)
        if t.kind == "KW" and t.value in ("true", "false"):
            return _Lit(t.value == "true")
        if t.kind == "KW" and t.value == "null":
            raise self.error(t.pos, "null can only be tested with 'is null' / 'is not null'.")
        if t.kind == "NAME":
            if self.peek().kind == "LP" and not t.text.startswith("`"):
                return self.call(t)
            return _Col(t.value, t.pos)
        if t.kind == "LP":
            return self.group(t)
        raise self.err(t, "a column, number, string, true/false, function call or '('")

    def call(self, name: Token) -> _Node:
        fname = name.value.lower()
        if fname not in FUNCTIONS:
            raise self.error(name.pos, f"unknown function {name.value!r}; allowed functions: {sorted(FUNCTIONS)}.")
        lp = self.take()  # LP
        self.enter(lp)
        args: list[_Node] = []
        if self.peek().kind != "RP":
            while True:
                args.append(self.or_expr())
                t = self.take()
                if t.kind == "RP":
                    break
                if t.kind != "COMMA":
                    raise self.err(t, f"',' or ')' in the call to {fname}()")
        else:
            self.take()
        self.leave()
        lo, hi, doc = FUNCTIONS[fname]
        if not lo <= len(args) <= hi:
            raise self.error(name.pos, f"{fname}() takes {lo} argument(s), got {len(args)}: {doc}.")
        if fname in ("affinity", "affinity_rank"):
            for a in args:
                if not (isinstance(a, _Lit) and isinstance(a.value, str)):
                    raise self.error(name.pos, f"{fname}() takes two string literals: {doc}.")
        return _Call(fname, tuple(args), name.pos)


# --------------------------------------------------------------------------- type check
def _is_bool(node: _Node) -> bool:
    return isinstance(node, _BOOL_NODES)


def _typecheck(node: _Node, text: str) -> None:
    """Reject boolean values used in arithmetic/comparisons and literals used as conditions."""
    stack = [(node, _is_bool(node))]  # (node, used as condition)
    while stack:
        n, as_cond = stack.pop()
        if as_cond and isinstance(n, (_Lit, _Arith, _Neg)):
            raise RuleSyntaxError(
                f"Rule {text!r}: {_show(n)} is a value, not a condition; compare it, "
                "e.g. 'x >= 0.5'."
            )
        if as_cond and isinstance(n, _Call):
            raise RuleSyntaxError(
                f"Rule {text!r}: {n.func}() gives a value, not a condition; compare it, "
                f"e.g. '{n.func}(...) >= 0.5'."
            )
        if not as_cond and _is_bool(n):
            raise RuleSyntaxError(
                f"Rule {text!r}: the condition {_show(n)} is used as a value; "
                "conditions can only be joined with and/or/not."
            )
        if isinstance(n, _Bool):
            stack.extend((c, True) for c in n.children)
        elif isinstance(n, _Not):
            stack.append((n.operand, True))
        elif isinstance(n, _Cmp):
            stack.extend([(n.left, False), (n.right, False)])
        elif isinstance(n, (_In, _IsNull)):
            stack.append((n.operand, False))
        elif isinstance(n, _Arith):
            for side in (n.left, n.right):
                if isinstance(side, _Lit) and isinstance(side.value, (str, bool)):
                    raise RuleSyntaxError(
                        f"Rule {text!r}: arithmetic '{n.op}' needs numbers, got {side.value!r}."
                    )
            stack.extend([(n.left, False), (n.right, False)])
        elif isinstance(n, _Neg):
            stack.append((n.operand, False))
        elif isinstance(n, _Call):
            stack.extend((a, False) for a in n.args)


def _quoted(text: str, quote: str) -> str:
    """Quote ``text`` the way the tokenizer reads it back (only ``\\`` and the quote escape)."""
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _show(n: _Node) -> str:
    if isinstance(n, _Col):
        return n.name if n.name.isidentifier() else _quoted(n.name, "`")
    if isinstance(n, _Lit):
        if isinstance(n.value, bool):
            return "true" if n.value else "false"
        return _quoted(n.value, "'") if isinstance(n.value, str) else str(n.value)
    if isinstance(n, _Call):
        return f"{n.func}({', '.join(_show(a) for a in n.args)})"
    if isinstance(n, _Arith):
        return f"({_show(n.left)} {n.op} {_show(n.right)})"
    if isinstance(n, _Neg):
        return f"-({_show(n.operand)})"
    if isinstance(n, _Cmp):
        return f"{_show(n.left)} {n.op} {_show(n.right)}"
    if isinstance(n, _In):
        vals = ", ".join(_show(_Lit(v)) for v in n.values)
        return f"{_show(n.operand)} {'not in' if n.negate else 'in'} [{vals}]"
    if isinstance(n, _IsNull):
        return f"{_show(n.operand)} is {'not ' if n.negate else ''}null"
    if isinstance(n, _Not):
        return f"not ({_show(n.operand)})"
    return "(" + f" {n.op} ".join(_show(c) for c in n.children) + ")"


def _walk(node: _Node) -> Iterable[_Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, _Bool):
            stack.extend(n.children)
        elif isinstance(n, (_Not, _Neg)):
            stack.append(n.operand)
        elif isinstance(n, (_Cmp, _Arith)):
            stack.extend([n.left, n.right])
        elif isinstance(n, (_In, _IsNull)):
            stack.append(n.operand)
        elif isinstance(n, _Call):
            stack.extend(n.args)


# --------------------------------------------------------------------------- context
class RuleContext:
    """The data a rule is evaluated on: a profile frame plus affinities.

    Built from any object with ``.frame`` (DataFrame indexed by user) and,
    optionally, ``.affinities`` (dict kind -> (csr n_users x n_values, names));
    caches dense affinity columns and ranks between rules.

    Parameters
    ----------
    profiles : Profiles or pandas.DataFrame
        The real :class:`~persona_rec.profiles.Profiles`, a look-alike, or a
        bare frame (then affinity functions are unavailable).
    """

    def __init__(self, profiles: ProfileSource) -> None:
        if isinstance(profiles, pd.DataFrame):
            frame, affinities = profiles, {}
        elif hasattr(profiles, "frame"):
            frame = profiles.frame
            affinities = getattr(profiles, "affinities", None) or {}
        else:
            raise InvalidDtypeError(
                "profiles must be a Profiles (with .frame and .affinities) or a DataFrame, "
                f"got {type(profiles).__name__}."
            )
        check_instance(frame, pd.DataFrame, "profiles.frame must be a DataFrame")
        self.frame = frame
        self.n = len(frame)
        self.affinities: Mapping[str, Any] = affinities
        known = frame.get(KNOWN_COLUMN)
        #: Users known at the profiles' as_of (None: every row counts).
        self.known_mask: np.ndarray | None = (
            known.to_numpy(dtype=bool) if known is not None and known.dtype.kind == "b" else None
        )
        self._value_pos: dict[str, dict[str, int]] = {}
        self._ranks: dict[str, sp.csc_matrix] = {}
        self._csc: dict[str, sp.csc_matrix] = {}
        for kind, entry in affinities.items():
            try:
                mat, names = entry
            except (TypeError, ValueError):
                raise InvalidDtypeError(
                    f"profiles.affinities[{kind!r}] must be a (matrix, names) pair, got {type(entry).__name__}."
                ) from None
            if mat.shape[0] != self.n or mat.shape[1] != len(names):
                raise InvalidValueError(
                    f"profiles.affinities[{kind!r}] has shape {mat.shape} but the frame has "
                    f"{self.n} users and there are {len(names)} value names."
                )

    def value_index(self, kind: str) -> dict[str, int]:
        """Position of each value name of affinity ``kind``."""
        if kind not in self._value_pos:
            _, names = self.affinities[kind]
            self._value_pos[kind] = {str(v): i for i, v in enumerate(names)}
        return self._value_pos[kind]

    def _matrix(self, kind: str) -> sp.csc_matrix:
        if kind not in self._csc:
            self._csc[kind] = sp.csc_matrix(self.affinities[kind][0], dtype=np.float64)
        return self._csc[kind]

    def affinity(self, kind: str, value: str) -> np.ndarray:
        """Dense affinity column (0 where the user has none)."""
        j = self.value_index(kind)[value]
        m = self._matrix(kind)
        out = np.zeros(self.n, dtype=np.float64)
        lo, hi = m.indptr[j], m.indptr[j + 1]
        out[m.indices[lo:hi]] = m.data[lo:hi]
        return out

    def affinity_rank(self, kind: str, value: str) -> np.ndarray:
        """Rank (1 = strongest) of ``value`` in each user's affinities; NaN when 0."""
        if kind not in self._ranks:
            csr = sp.csr_matrix(self.affinities[kind][0], dtype=np.float64)
            csr.sum_duplicates()
            rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
            order = np.lexsort((-csr.data, rows))
            r_sorted, d_sorted = rows[order], csr.data[order]
            # ties share the best rank: rank = 1 + number of strictly larger values in the row
            new_group = np.ones(len(order), dtype=bool)
            new_group[1:] = (r_sorted[1:] != r_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])
            group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
            rank = np.empty(len(order), dtype=np.float64)
            rank[order] = group_start - csr.indptr[r_sorted] + 1
            rank[csr.data <= 0] = np.nan
            ranks = sp.csr_matrix((rank, csr.indices, csr.indptr), shape=csr.shape)
            self._ranks[kind] = ranks.tocsc()
        m = self._ranks[kind]
        j = self.value_index(kind)[value]
        out = np.full(self.n, np.nan)
        lo, hi = m.indptr[j], m.indptr[j + 1]
        out[m.indices[lo:hi]] = m.data[lo:hi]
        return out


# --------------------------------------------------------------------------- evaluation
def _as_series(v: Any, ctx: RuleContext) -> pd.Series:
    if isinstance(v, pd.Series):
        return v
    if isinstance(v, np.ndarray):
        return pd.Series(v, index=ctx.frame.index)
    return pd.Series([v] * ctx.n, index=ctx.frame.index, dtype=object if isinstance(v, str) else None)


def _notna(v: Any, ctx: RuleContext) -> np.ndarray:
    if isinstance(v, (pd.Series, np.ndarray)):
        return np.asarray(pd.notna(v), dtype=bool)
    return np.full(ctx.n, not pd.isna(v), dtype=bool)


def _to_bool(result: Any, n: int) -> np.ndarray:
    if isinstance(result, pd.Series):
        if result.dtype == bool:
            return result.to_numpy()
        return result.fillna(False).astype(bool).to_numpy()
    arr = np.asarray(result)
    if arr.ndim == 0:
        return np.full(n, bool(arr), dtype=bool)
    return arr.astype(bool)


_OPS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _value(node: _Node, ctx: RuleContext) -> Any:
    if isinstance(node, _Lit):
        return node.value
    if isinstance(node, _Col):
        return ctx.frame[node.name]
    if isinstance(node, _Neg):
        return -_numeric(_value(node.operand, ctx), ctx)
    if isinstance(node, _Arith):
        a = _numeric(_value(node.left, ctx), ctx)
        b = _numeric(_value(node.right, ctx), ctx)
        if node.op in _ARITH_OPS:
            return _ARITH_OPS[node.op](a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = a / b
        # division by zero gives null, not +-inf
        if isinstance(res, pd.Series):
            return res.replace([np.inf, -np.inf], np.nan)
        return res if np.isfinite(res) else np.nan
    if isinstance(node, _Call):
        f = node.func
        if f == "affinity":
            return pd.Series(ctx.affinity(node.args[0].value, node.args[1].value), index=ctx.frame.index)
        if f == "affinity_rank":
            return pd.Series(ctx.affinity_rank(node.args[0].value, node.args[1].value), index=ctx.frame.index)
        x = _value(node.args[0], ctx)
        if f == "quantile":
            values = _as_series(_numeric(x, ctx), ctx)
            known = ctx.known_mask
            if known is not None:  # users first seen after as_of shape no threshold
                values = values.where(known)
            return values.rank(pct=True, method="average")
        if f == "coalesce":
            return _as_series(x, ctx).fillna(_value(node.args[1], ctx))
        if f == "abs":
            return abs(_numeric(x, ctx))
        lo = _value(node.args[1], ctx)
        hi = _value(node.args[2], ctx)
        return _as_series(_numeric(x, ctx), ctx).clip(lower=lo, upper=hi)
    raise AssertionError(f"not a value node: {node!r}")  # pragma: no cover - type-checked at parse


def _numeric(v: Any, ctx: RuleContext) -> Any:
    if isinstance(v, pd.Series):
        if pdt.is_bool_dtype(v.dtype):
            return v.astype(float)
        if not pdt.is_numeric_dtype(v.dtype):
            raise InvalidValueError(
                f"column {v.name!r} has dtype {v.dtype} and cannot be used in arithmetic."
            )
        return v.astype(float)
    if isinstance(v, (bool, str)):
        raise InvalidValueError(f"{v!r} is not a number.")
    return v


def _cond(node: _Node, ctx: RuleContext) -> np.ndarray:
    if isinstance(node, _Bool):
        parts = [_cond(c, ctx) for c in node.children]
        acc = parts[0].copy()
        for p in parts[1:]:
            if node.op == "and":
                acc &= p
            else:
                acc |= p
        return acc
    if isinstance(node, _Not):
        return ~_cond(node.operand, ctx)
    if isinstance(node, _Col):
        s = ctx.frame[node.name]
        _check_condition_column(s)
        return _to_bool(s, ctx.n) & _notna(s, ctx)
    if isinstance(node, _IsNull):
        isnull = ~_notna(_value(node.operand, ctx), ctx)
        return ~isnull if node.negate else isnull
    if isinstance(node, _In):
        v = _as_series(_value(node.operand, ctx), ctx)
        res = v.isin(list(node.values)).to_numpy(dtype=bool)
        ok = _notna(v, ctx)
        return (~res & ok) if node.negate else (res & ok)
    if isinstance(node, _Cmp):
        a = _value(node.left, ctx)
        b = _value(node.right, ctx)
        try:
            res = _OPS[node.op](a, b)
        except TypeError as err:
            raise InvalidValueError(f"cannot evaluate {_show(node)}: {err}") from None
        return _to_bool(res, ctx.n) & _notna(a, ctx) & _notna(b, ctx)
    raise AssertionError(f"not a condition node: {node!r}")  # pragma: no cover


# --------------------------------------------------------------------------- public
class Rule(ParsedText):
    """A parsed rule (a condition) or value expression over profile columns.

    Build it with :func:`parse_rule`.

    Attributes
    ----------
    text : str
        The source text.
    is_condition : bool
        True when the rule is a condition (comparison, and/or/not, ``in``,
        ``is null`` or a bare column); False for a value expression such as
        ``"price_sensitivity"`` or ``"quantile(monetary)"``.
    columns : frozenset of str
        Profile columns the rule reads.
    affinity_refs : frozenset of (str, str)
        ``(kind, value)`` pairs read through ``affinity``/``affinity_rank``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"price_sensitivity": [0.9, 0.2, None],
    ...                       "lifecycle_stage": ["active", "churned", "new"]},
    ...                      index=pd.Index([1, 2, 3], name="user_id"))
    >>> parse_rule("price_sensitivity >= 0.6 or lifecycle_stage in ['new']").evaluate(frame).tolist()
    [True, False, True]
    >>> parse_rule("price_sensitivity").values(frame).tolist()
    [0.9, 0.2, nan]
    """

    __slots__ = ()
    _render = staticmethod(_show)

    @property
    def is_condition(self) -> bool:
        """Whether the rule is a condition (True) or a value expression (False)."""
        return _is_bool(self._root) or isinstance(self._root, _Col)

    @property
    def columns(self) -> frozenset[str]:
        """Profile columns referenced by the rule."""
        return frozenset(n.name for n in _walk(self._root) if isinstance(n, _Col))

    @property
    def affinity_refs(self) -> frozenset[tuple[str, str]]:
        """``(kind, value)`` pairs referenced by affinity functions."""
        return frozenset(
            (n.args[0].value, n.args[1].value)
            for n in _walk(self._root)
            if isinstance(n, _Call) and n.func in ("affinity", "affinity_rank")
        )

    def check(self, profiles: ProfileSource, *, owner: str = "", as_condition: bool | None = None) -> None:
        """Check that every referenced column and affinity exists, and types fit.

        Parameters
        ----------
        profiles : Profiles, DataFrame or RuleContext
            What the rule will be evaluated on.
        owner : str, optional
            Prefix for messages, e.g. ``"Tag 'price_sensitive'"``.
        as_condition : bool, optional
            Whether the rule will be used as a condition (bare columns must
            then hold booleans); default: only when it is built from
            comparisons/logic.

        Raises
        ------
        MissingColumnError
            A column is not in the profile frame (message lists close matches).
        UnknownIdError
            An affinity kind or value does not exist.
        InvalidValueError
            A column is compared with a literal of an incompatible type
            (``lifecycle_stage >= 0.6``).
        """
        ctx = profiles if isinstance(profiles, RuleContext) else RuleContext(profiles)
        who = f"{owner}: rule" if owner else "Rule"
        cols = ctx.frame.columns
        for n in _walk(self._root):
            if isinstance(n, _Col) and n.name not in cols:
                close = difflib.get_close_matches(n.name, [str(c) for c in cols], n=3)
                hint = f" Did you mean {close}?" if close else ""
                raise MissingColumnError(
                    f"{who} {self._text!r} references unknown profile column {n.name!r}.{hint}"
                )
            if isinstance(n, _Call) and n.func in ("affinity", "affinity_rank"):
                kind, value = n.args[0].value, n.args[1].value
                if kind not in ctx.affinities:
                    raise UnknownIdError(
                        f"{who} {self._text!r} references unknown affinity kind {kind!r}; "
                        f"profiles have {sorted(ctx.affinities)}."
                    )
                if value not in ctx.value_index(kind):
                    raise UnknownIdError(
                        f"{who} {self._text!r} references unknown {kind} value {value!r}."
                    )
        if as_condition is None:
            as_condition = _is_bool(self._root)
        if as_condition:
            for col in _condition_columns(self._root):
                _check_condition_column(ctx.frame[col.name], who, self._text)
        for n in _walk(self._root):
            if isinstance(n, _Cmp):
                for col, lit in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(col, _Col) and isinstance(lit, _Lit):
                        _check_literal_type(ctx.frame[col.name], lit.value, who, self._text)
            if isinstance(n, _In) and isinstance(n.operand, _Col):
                for v in n.values:
                    _check_literal_type(ctx.frame[n.operand.name], v, who, self._text)

    def evaluate(self, profiles: ProfileSource) -> np.ndarray:
        """Evaluate a condition: one bool per profile row.

        Parameters
        ----------
        profiles : Profiles, DataFrame or RuleContext

        Returns
        -------
        numpy.ndarray of bool, shape (n_users,)

        Raises
        ------
        InvalidValueError
            The rule is a value expression, or the data do not fit the rule.
        MissingColumnError, UnknownIdError
            See :meth:`check`.
        """
        if not self.is_condition:
            raise InvalidValueError(
                f"Rule {self._text!r} is a value expression, not a condition; compare it, "
                "e.g. 'x >= 0.5'."
            )
        ctx = profiles if isinstance(profiles, RuleContext) else RuleContext(profiles)
        self.check(ctx, as_condition=True)
        return _cond(self._root, ctx)

    def values(self, profiles: ProfileSource) -> np.ndarray:
        """Evaluate a value expression: one float per profile row (NaN when null).

        A bare column gives its values (booleans as 0/1); a condition gives
        1.0 where true and 0.0 elsewhere.

        Parameters
        ----------
        profiles : Profiles, DataFrame or RuleContext

        Returns
        -------
        numpy.ndarray of float64, shape (n_users,)
        """
        ctx = profiles if isinstance(profiles, RuleContext) else RuleContext(profiles)
        self.check(ctx, as_condition=False)
        if _is_bool(self._root):
            return _cond(self._root, ctx).astype(np.float64)
        v = _numeric(_value(self._root, ctx), ctx)
        if isinstance(v, pd.Series):
            return v.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.full(ctx.n, float(v))


def _check_condition_column(s: pd.Series, who: str = "", text: str = "") -> None:
    """A bare column used as a condition must hold booleans."""
    ok = pdt.is_bool_dtype(s.dtype)
    if not ok and s.dtype == object:
        vals = s.dropna()
        ok = len(vals) == 0 or pdt.infer_dtype(vals, skipna=False) == "boolean"
    if not ok:
        where = f"{who} {text!r}: " if who else ""
        raise InvalidValueError(
            f"{where}column {s.name!r} (dtype {s.dtype}) is used as a condition but does not hold "
            f"booleans; compare it instead, e.g. '{s.name} > 0'."
        )


def _condition_columns(root: _Node) -> list[_Col]:
    """Columns that appear directly in a condition position (root, and/or/not operands)."""
    out, stack = [], [root]
    while stack:
        n = stack.pop()
        if isinstance(n, _Col):
            out.append(n)
        elif isinstance(n, _Bool):
            stack.extend(n.children)
        elif isinstance(n, _Not):
            stack.append(n.operand)
    return out


def _check_literal_type(s: pd.Series, value: Any, who: str, text: str) -> None:
    if pdt.is_datetime64_any_dtype(s.dtype) and not isinstance(value, str):
        raise InvalidValueError(
            f"{who} {text!r} compares date column {s.name!r} with {value!r}; use a date string "
            "such as '2024-01-31'."
        )
    numeric_col = pdt.is_numeric_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype)
    if numeric_col and isinstance(value, str):
        raise InvalidValueError(
            f"{who} {text!r} compares numeric column {s.name!r} with the string {value!r}."
        )
    stringy = pdt.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)
    if stringy and isinstance(value, (int, float)) and not isinstance(value, bool) and s.dtype != object:
        raise InvalidValueError(
            f"{who} {text!r} compares text column {s.name!r} with the number {value!r}."
        )
    if s.dtype == object and isinstance(value, (int, float)) and not isinstance(value, bool):
        sample = s.dropna()
        if len(sample) and pdt.infer_dtype(sample, skipna=False) == "string":
            raise InvalidValueError(
                f"{who} {text!r} compares text column {s.name!r} with the number {value!r}."
            )


def parse_rule(text: str) -> Rule:
    """Parse a tag rule or value expression (see the module docs for the syntax).

    Parameters
    ----------
    text : str
        E.g. ``"price_sensitivity >= 0.6 and frequency >= 2"``,
        ``'lifecycle_stage in ["at_risk", "churned"]'`` or
        ``'affinity("category_l1", "home")'``.

    Returns
    -------
    Rule

    Raises
    ------
    RuleSyntaxError
        Malformed text (message names the rule and the position), a function
        outside the whitelist, or a value used as a condition and vice versa.
    InvalidDtypeError
        ``text`` is not a str.

    Examples
    --------
    >>> sorted(parse_rule("r_score >= 4 and monetary / frequency > 100").columns)
    ['frequency', 'monetary', 'r_score']
    >>> parse_rule("__import__('os')")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.RuleSyntaxError: Rule "__import__('os')" is malformed at position 0: unknown function '__import__'; allowed functions: ['abs', 'affinity', 'affinity_rank', 'clip', 'coalesce', 'quantile'].
      __import__('os')
      ^
    """
    if isinstance(text, Rule):
        return text
    if not isinstance(text, str):
        raise InvalidDtypeError(f"A rule must be a str, got {type(text).__name__} ({text!r}).")
    if len(text) > _MAX_LENGTH:
        raise RuleSyntaxError(f"Rule is too long: {len(text)} characters (at most {_MAX_LENGTH}).")
    root = _Parser(text).parse()
    _typecheck(root, text)
    return Rule(text, root)

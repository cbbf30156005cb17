"""Mapping between external ids and contiguous internal indices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ._validation import example_values
from .exceptions import DuplicateIdError, InvalidDtypeError, InvalidValueError, UnknownIdError


def _py(value: Any) -> Any:
    """A numpy scalar as its Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


__all__ = ["IdMap", "check_ids"]


def _as_id_array(ids: Any) -> np.ndarray:
    if isinstance(ids, (pd.Series, pd.Index)):
        arr = ids.to_numpy()
    elif isinstance(ids, np.ndarray):
        arr = ids
    elif isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        arr = np.asarray([ids], dtype=object)
    else:
        ids = list(ids)
        # one object per id: numpy's own guess would turn [0, False] into ints, ragged tuples
        # into an error and "a\x00" into "a" (fixed-width strings strip trailing NULs)
        arr = np.fromiter(ids, dtype=object, count=len(ids))
        if len(arr) and pd.api.types.infer_dtype(arr, skipna=False) == "integer":
            try:
                arr = arr.astype(np.int64)
            except OverflowError:  # ints beyond int64 stay Python ints
                pass
    return arr


def check_ids(arr: np.ndarray, what: str = "id") -> dict[str, Any]:
    """Check ids element-wise and return their kinds.

    An id is a ``str`` or an ``int`` (numpy integers included, bools
    excluded). Missing values (None, NaN, NaT), bools, floats (``17850.0``),
    tuples, bytes and other objects are refused, so that ``True`` never
    becomes user ``1`` and ``17850.0`` never becomes ``17850``.

    Parameters
    ----------
    arr : numpy.ndarray
        One-dimensional array of ids (see ``_as_id_array``).
    what : str, default "id"
        Name used in error messages (e.g. ``"user_id"``).

    Returns
    -------
    dict
        ``{"str": example, "int": example}`` for the kinds present.

    Raises
    ------
    InvalidValueError
        An id is missing.
    InvalidDtypeError
        An id is neither a str nor an int.

    Examples
    --------
    >>> sorted(check_ids(np.array(["a", 3], dtype=object)))
    ['int', 'str']
    >>> check_ids(np.array([17850.0]), "user_id")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidDtypeError: user_id must be str or int ids, got float values (e.g. [17850.0]); convert them, e.g. with int(...) or str(...).
    """
    kind = arr.dtype.kind
    if len(arr) == 0:
        return {}
    if kind in "iu":
        return {"int": arr[0]}
    if kind in "US":
        return {"str": arr[0]}
    if kind != "O":
        name = {"b": "bool", "f": "float", "c": "complex", "M": "datetime", "m": "timedelta"}
        raise InvalidDtypeError(
            f"{what} must be str or int ids, got {name.get(kind, str(arr.dtype))} values "
            f"(e.g. {example_values(arr)}); convert them, e.g. with int(...) or str(...)."
        )
    inferred = pd.api.types.infer_dtype(arr, skipna=False)
    if inferred == "string":
        return {"str": arr[0]}
    if inferred == "integer":
        return {"int": arr[0]}
    na = np.asarray(pd.isna(arr), dtype=bool)
    if na.any():
        raise InvalidValueError(
            f"{what} must not be missing (None/NaN), got {example_values(arr[na])} "
            f"at position(s) {np.flatnonzero(na)[:3].tolist()}."
        )
    types = pd.Series(arr, dtype=object).map(type).to_numpy()
    codes, uniq = pd.factorize(types)
    is_str = np.array([issubclass(t, str) for t in uniq])[codes]
    is_int = np.array([issubclass(t, (int, np.integer)) and not issubclass(t, (bool, np.bool_))
                       for t in uniq])[codes]
    bad = ~is_str & ~is_int
    if bad.any():
        names = sorted({type(v).__name__ for v in arr[bad][:20]})
        raise InvalidDtypeError(
            f"{what} must be str or int ids, got {'/'.join(names)} value(s) "
            f"(e.g. {example_values(arr[bad])}); convert them, e.g. with int(...) or str(...)."
        )
    out: dict[str, Any] = {}
    if is_str.any():
        out["str"] = arr[np.flatnonzero(is_str)[0]]
    if is_int.any():
        out["int"] = arr[np.flatnonzero(is_int)[0]]
    return out


class IdMap:
    """Bidirectional map between external ids and indices ``0..n-1``.

    The same class serves users, items and tags. External ids may be strings
    or integers (mixed is allowed; ``1`` and ``"1"`` are different ids).
    The map is immutable: :meth:`add_ids` returns a new map whose existing
    ids keep their indices.

    Parameters
    ----------
    external_ids : array-like
        Unique external ids; position ``i`` is internal index ``i``.

    Raises
    ------
    DuplicateIdError
        If an id appears twice.
    InvalidValueError
        If an id is missing (None/NaN).

    Examples
    --------
    >>> m = IdMap.from_values(["b", "a", "b", "c"])
    >>> m.external_ids.tolist()
    ['b', 'a', 'c']
    >>> m.to_internal(["c", "b"]).tolist()
    [2, 0]
    >>> m.to_external([1]).tolist()
    ['a']
    """

    __slots__ = ("_external", "_index", "_kinds")

    def __init__(self, external_ids: Any) -> None:
        arr = _as_id_array(external_ids)
        if arr.dtype.kind in "US":  # fixed-width strings (e.g. from a file): keep str objects
            arr = arr.astype(object)
        index = pd.Index(arr)
        if len(arr) and index.hasnans:
            raise InvalidValueError("IdMap ids must not contain missing values (None/NaN).")
        self._kinds = check_ids(arr, "IdMap ids")
        if not index.is_unique:
            dup = index[index.duplicated()].unique()
            raise DuplicateIdError(
                f"IdMap ids must be unique; duplicated: {example_values(dup)}."
            )
        arr = arr.copy()
        arr.flags.writeable = False
        self._external = arr
        self._index = index

    @classmethod
    def from_values(cls, values: Any) -> IdMap:
        """Build a map from values with repeats, in order of first appearance.

        Parameters
        ----------
        values : array-like
            Ids, possibly repeated.

        Returns
        -------
        IdMap
        """
        arr = _as_id_array(values)
        if len(arr) == 0:
            return cls(arr)
        if pd.isna(pd.Series(arr)).any():
            raise InvalidValueError("IdMap ids must not contain missing values (None/NaN).")
        uniques = pd.unique(arr)
        return cls(np.asarray(uniques, dtype=arr.dtype))

    @property
    def external_ids(self) -> np.ndarray:
        """Read-only array of external ids in internal-index order."""
        return self._external

    @property
    def size(self) -> int:
        """Number of ids."""
        return len(self._external)

    def __len__(self) -> int:
        return len(self._external)

    def __contains__(self, item: Any) -> bool:
        try:
            return item in self._index
        except TypeError:
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and bool(self._index.equals(other._index)) and (
            self._external.dtype == other._external.dtype
            or len(self) == 0
        )

    def __hash__(self) -> int:  # pragma: no cover - identity hash, maps are mutable-free
        return id(self)

    def __repr__(self) -> str:
        return f"IdMap(size={len(self)})"

    def to_internal(self, ids: Any, *, strict: bool = True, what: str = "id") -> np.ndarray:
        """Map external ids to internal indices.

        Parameters
        ----------
        ids : array-like or scalar
            External ids.
        strict : bool, default True
            If True an unknown id raises; otherwise it maps to ``-1``.
        what : str, default "id"
            Name used in the error message (e.g. ``"user_id"``).

        Returns
        -------
        numpy.ndarray of int64

        Raises
        ------
        UnknownIdError
            If ``strict`` and an id is unknown.
        InvalidValueError
            An id is missing (None/NaN).
        InvalidDtypeError
            An id is not a str or int, or an unknown id is a known id written
            as the other kind (``"12583"`` asked of a map of int ids that
            holds ``12583``, or the reverse): it would otherwise be served
            silently as an unknown id. Unknown ids of the other kind that
            match nothing (``"new-customer-001"``) are simply unknown.
        """
        arr = _as_id_array(ids)
        if len(arr) == 0:
            return np.empty(0, dtype=np.int64)
        check_ids(arr, what)
        idx = self._index.get_indexer(arr).astype(np.int64, copy=False)
        if (idx < 0).any() and len(self._kinds) == 1:
            self._check_wrong_kind(arr[idx < 0], what)
        if strict and (idx < 0).any():
            unknown = arr[idx < 0]
            raise UnknownIdError(
                f"{len(unknown)} {what}(s) are not known, e.g. {example_values(unknown)}."
            )
        return idx

    def _check_wrong_kind(self, unknown: np.ndarray, what: str) -> None:
        """Refuse unknown ids that are known ids written as the other kind ("12583" vs 12583)."""
        if "int" in self._kinds:
            text = pd.Series(unknown[[isinstance(v, str) for v in unknown]], dtype=object)
            text = text[text.str.fullmatch(r"\s*[+-]?\d{1,18}\s*")]
            alt = text.astype(np.int64).to_numpy() if len(text) else np.empty(0, np.int64)
            shown, kind, conv = text.to_numpy(), "str", "int"
        else:
            ints = [v for v in unknown if isinstance(v, (int, np.integer))
                    and not isinstance(v, (bool, np.bool_))]
            alt = np.asarray([str(v) for v in ints], dtype=object)
            shown, kind, conv = np.asarray(ints, dtype=object), "int", "str"
        if not len(alt):
            return
        hit = self._index.get_indexer(alt) >= 0
        if hit.any():
            raise InvalidDtypeError(
                f"{int(hit.sum())} {what}(s) are {kind} ids whose {conv} form is a known "
                f"{what}, e.g. {_py(shown[hit][0])!r} vs {_py(alt[hit][0])!r}; the known "
                f"{what}s are {conv} ids and {_py(shown[hit][0])!r} != {_py(alt[hit][0])!r}, so "
                f"the user would be served as unknown. Convert them with {conv}(...)."
            )

    def to_external(self, internal: Any) -> np.ndarray:
        """Map internal indices back to external ids.

        Parameters
        ----------
        internal : array-like of int
            Indices in ``[0, size)``.

        Returns
        -------
        numpy.ndarray
        """
        idx = np.asarray(internal, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            bad = idx[(idx < 0) | (idx >= len(self))]
            raise UnknownIdError(
                f"internal index out of range [0, {len(self)}), got {example_values(bad)}."
            )
        return self._external.take(idx)

    def add_ids(self, ids: Any) -> IdMap:
        """Return a new map with unseen ``ids`` appended (existing keep their index)."""
        arr = _as_id_array(ids)
        if len(arr) == 0:
            return self
        new = pd.unique(arr)
        new = new[self._index.get_indexer(new) < 0]
        if len(new) == 0:
            return self
        if self._external.dtype == np.asarray(new).dtype:
            combined = np.concatenate([self._external, np.asarray(new)])
        else:
            combined = np.empty(len(self) + len(new), dtype=object)
            combined[: len(self)] = self._external
            combined[len(self) :] = new
        return IdMap(combined)

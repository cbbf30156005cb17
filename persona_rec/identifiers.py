"""Mapping between external ids and contiguous internal indices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ._validation import example_values
from .exceptions import DuplicateIdError, InvalidValueError, UnknownIdError

__all__ = ["IdMap"]


def _as_id_array(ids: Any) -> np.ndarray:
    if isinstance(ids, (pd.Series, pd.Index)):
        arr = ids.to_numpy()
    elif isinstance(ids, np.ndarray):
        arr = ids
    elif isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        arr = np.asarray([ids], dtype=object)
    else:
        ids = list(ids)
        arr = np.asarray(ids) if ids else np.asarray([], dtype=object)
        if arr.ndim != 1 or arr.dtype.kind not in "iuO":
            arr = np.empty(len(ids), dtype=object)
            arr[:] = ids
    return arr


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

    __slots__ = ("_external", "_index")

    def __init__(self, external_ids: Any) -> None:
        arr = _as_id_array(external_ids)
        if arr.dtype.kind in "US":  # fixed-width strings (e.g. from a file): keep str objects
            arr = arr.astype(object)
        index = pd.Index(arr)
        if len(arr) and index.hasnans:
            raise InvalidValueError("IdMap ids must not contain missing values (None/NaN).")
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
        """
        arr = _as_id_array(ids)
        if len(arr) == 0:
            return np.empty(0, dtype=np.int64)
        idx = self._index.get_indexer(arr).astype(np.int64, copy=False)
        if strict and (idx < 0).any():
            unknown = arr[idx < 0]
            raise UnknownIdError(
                f"{len(unknown)} {what}(s) are not known, e.g. {example_values(unknown)}."
            )
        return idx

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

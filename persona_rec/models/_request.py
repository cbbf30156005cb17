"""The request object handed to every scoring hook of a :class:`Recommender`.

One ``recommend`` call builds one :class:`RecommendRequest`; the hooks read
what the call asked for from it (``k``, ``filter_seen``, the item whitelist
mask and the scoring ``dataset``) and keep per-call caches in
:attr:`RecommendRequest.cache`. Nothing of a call is stored on the model, so a
fitted model serves concurrent ``recommend`` calls from several threads.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..columns import Columns
from ..dataset import DEFAULT_EVENT_WEIGHTS, Dataset
from ..exceptions import InvalidValueError

__all__ = ["RecommendRequest", "RecentHistory", "as_request", "recent_history",
           "RECENT_COLUMNS"]

#: Columns ``recommend(..., recent_events=)`` understands.
RECENT_COLUMNS: tuple[str, ...] = (
    Columns.USER, Columns.ITEM, Columns.TIMESTAMP, Columns.EVENT, Columns.WEIGHT,
    Columns.QUANTITY, Columns.PRICE, "order_id")


@dataclass(frozen=True)
class RecentHistory:
    """Events that happened after ``fit``, folded into one ``recommend`` call.

    Built by :func:`recent_history` from ``recommend(..., recent_events=)``.
    Users are indexed like the model's fit-time users; users unknown at fit
    time get the indices ``n_fit_users + j`` (``j`` = position in
    :attr:`new_ids`), so hooks can tell them apart (``>= n_fit_users``).

    Attributes
    ----------
    users : numpy.ndarray of int64
        Sorted (extended) user indices with recent events.
    matrix : scipy.sparse.csr_matrix
        ``len(users) x n_items`` summed weights of the recent events.
    events : pandas.DataFrame
        The recent events in internal form: ``user_idx`` (extended),
        ``item_idx`` and the optional columns given.
    n_fit_users : int
    new_ids : pandas.Index
        External ids of users unknown at fit time.
    """

    users: np.ndarray
    matrix: sp.csr_matrix
    events: pd.DataFrame
    n_fit_users: int
    new_ids: pd.Index

    def rows(self, user_idx: np.ndarray) -> np.ndarray:
        """Row of :attr:`matrix` per (extended) user index; ``-1`` without recent events."""
        user_idx = np.asarray(user_idx, dtype=np.int64)
        if not len(self.users):
            return np.full(len(user_idx), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.users, user_idx), len(self.users) - 1)
        return np.where(self.users[pos] == user_idx, pos, -1)

    def extend_index(self, ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``idx`` (fit-time indices, -1 unknown) with unknown ids that have recent events mapped."""
        if not len(self.new_ids):
            return idx
        j = self.new_ids.get_indexer(ids)
        return np.where((idx < 0) & (j >= 0), self.n_fit_users + j, idx)


@dataclass(frozen=True)
class RecommendRequest:
    """What one ``recommend`` call asked for.

    Parameters
    ----------
    k : int, default 10
        Items per user.
    filter_seen : bool, default True
        Whether the user's own history is excluded.
    item_mask : numpy.ndarray of bool, optional
        Items that may be recommended (None: all), aligned with the model's
        item map.
    dataset : Dataset, optional
        The scoring context (``recommend(..., dataset=...)``); None means the
        fit data.
    cache : dict
        Per-call scratch space of the hooks (e.g. the context history matrix).
    recent : RecentHistory, optional
        Events after fit folded into this call (``recommend(...,
        recent_events=)``): they join the users' histories for scoring and
        ``filter_seen``.
    arguments : dict
        The call's public arguments as given (``filter_seen``, ``items``,
        ``exclude``, ``item_filter``, ``dataset``, ``recent_events``), for a
        composite that passes the call on to other models (``FallbackChain``).

    Examples
    --------
    >>> RecommendRequest(k=5, filter_seen=False).filter_seen
    False
    """

    k: int = 10
    filter_seen: bool = True
    item_mask: np.ndarray | None = None
    dataset: Dataset | None = None
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    recent: RecentHistory | None = field(default=None, compare=False, repr=False)
    arguments: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def as_request(value: RecommendRequest | Dataset | None) -> RecommendRequest:
    """Return ``value`` as a request (a Dataset or None becomes a default request on it).

    Parameters
    ----------
    value : RecommendRequest, Dataset or None

    Returns
    -------
    RecommendRequest
    """
    if isinstance(value, RecommendRequest):
        return value
    return RecommendRequest(dataset=value)


def recent_history(recent_events: Any, ids: np.ndarray, user_map: Any, item_map: Any,
                   owner: str) -> RecentHistory:
    """Validate ``recent_events`` and index them for one ``recommend`` call.

    Parameters
    ----------
    recent_events : pandas.DataFrame
        ``user_id``, ``item_id`` and optionally ``timestamp``, ``event``,
        ``weight``, ``quantity``, ``price``, ``order_id``. Each event weighs
        its ``weight``, else :data:`~persona_rec.dataset.DEFAULT_EVENT_WEIGHTS`
        of its ``event``, else 1. Times are read like
        :meth:`~persona_rec.Dataset.from_frames` reads them (epoch numbers by
        magnitude, offsets converted to UTC, naive times taken as UTC).
    ids : numpy.ndarray
        The external user ids of the call; events of other users are ignored.
    user_map, item_map : IdMap
        The model's fit-time maps.
    owner : str
        Name used in error messages.

    Returns
    -------
    RecentHistory

    Raises
    ------
    InvalidDtypeError, MissingColumnError
        Not a DataFrame / no ``user_id`` or ``item_id``.
    InvalidValueError
        An unknown column, a negative or non-finite weight, an event type
        without a default weight, or a missing or unparseable timestamp.
    """
    from .._validation import as_timestamps, check_frame

    check_frame(recent_events, "recent_events", (Columns.USER, Columns.ITEM), allow_empty=True)
    extra = sorted(map(str, set(recent_events.columns) - set(RECENT_COLUMNS)))
    if extra:
        raise InvalidValueError(
            f"The 'recent_events' parameter of {owner} has unknown column(s) {extra}; "
            f"allowed: {list(RECENT_COLUMNS)}.")
    cols = {c: recent_events[c].to_numpy() for c in recent_events.columns}
    keep = np.isin(cols[Columns.USER], ids) if len(ids) else np.zeros(len(recent_events), bool)
    items = np.full(len(keep), -1, dtype=np.int64)
    if keep.any():
        items[keep] = item_map.to_internal(cols[Columns.ITEM][keep], strict=False)
    unknown = keep & (items < 0)
    if unknown.any():
        bad = pd.unique(cols[Columns.ITEM][unknown])[:5].tolist()
        warnings.warn(
            f"recent_events holds {int(unknown.sum())} event(s) with item(s) unknown to the "
            f"fitted {owner.split('.')[0]} (e.g. {bad}); they are ignored for scoring and "
            f"filter_seen.", UserWarning, stacklevel=4)
    keep &= items >= 0
    cols = {c: v[keep] for c, v in cols.items()}
    items = items[keep]
    if Columns.WEIGHT in cols:
        w = pd.to_numeric(pd.Series(cols[Columns.WEIGHT]), errors="coerce").to_numpy(
            dtype=np.float64)
    elif Columns.EVENT in cols:
        w = pd.Series(cols[Columns.EVENT]).astype(str).str.lower().map(
            DEFAULT_EVENT_WEIGHTS).to_numpy(dtype=np.float64)
        if np.isnan(w).any():
            bad = pd.unique(cols[Columns.EVENT][np.isnan(w)])[:5].tolist()
            raise InvalidValueError(
                f"recent_events has event type(s) {bad} without a default weight "
                f"({sorted(DEFAULT_EVENT_WEIGHTS)}); add a 'weight' column.")
    else:
        w = np.ones(len(items))
    if len(w) and (~np.isfinite(w) | (w < 0)).any():
        raise InvalidValueError(
            f"recent_events weights must be finite and >= 0, got "
            f"{w[~np.isfinite(w) | (w < 0)][:3].tolist()}.")
    users_ext = cols.pop(Columns.USER)
    cols.pop(Columns.ITEM)
    fit_idx = user_map.to_internal(users_ext, strict=False)
    new_ids = pd.Index(pd.unique(users_ext[fit_idx < 0]))
    n_fit = len(user_map)
    u = fit_idx.astype(np.int64)
    if len(new_ids):
        u = np.where(fit_idx >= 0, fit_idx, n_fit + new_ids.get_indexer(users_ext))
    uniq, row = np.unique(u, return_inverse=True)
    matrix = sp.csr_matrix((w.astype(np.float32), (row, items)),
                           shape=(len(uniq), len(item_map)), dtype=np.float32)
    matrix.sum_duplicates()
    cols.update({"user_idx": u, "item_idx": items, Columns.WEIGHT: w})
    if Columns.TIMESTAMP in cols:  # the Dataset's parser: epoch by magnitude, offsets to UTC
        cols[Columns.TIMESTAMP] = as_timestamps(cols[Columns.TIMESTAMP],
                                                "recent_events['timestamp']")
    events = pd.DataFrame(cols)
    return RecentHistory(users=uniq, matrix=matrix, events=events, n_fit_users=n_fit,
                         new_ids=new_ids)


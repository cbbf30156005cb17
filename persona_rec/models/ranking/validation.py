"""Internal validation splits for two-stage models, chosen from the data.

A two-stage model learns its reranker, tunes its candidate generators and
runs its guard on an *internal* split of the training data. Which split is
honest depends on the data:

* **time window** -- when timestamps are informative and the data is a
  purchase log (users interact with the same items again): history is every
  interaction before ``end - window_days``, labels are the (user, item) pairs
  of the last window. This is the "next period" task a shop serves.
* **random holdout** -- when timestamps tie (one date for every row, no real
  time column) or the data is ratings-like: a random ``holdout_fraction`` of
  each user's interactions (users with at least ``min_user_items`` distinct
  items) are the labels, the rest is history; a held-out purchase of an item
  bought before stays a repeat label. A "latest interactions" split would be
  meaningless when timestamps tie.

On a small purchase log whose last window holds fewer than ``min_label_users``
returning users, the window is widened (x2, then x3) before falling back to
the random holdout.

On large data the label users are a random sample of ``max_users`` users
(history keeps every user, so generators still learn from everyone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...columns import DAY_NS, Columns
from ...dataset import Dataset
from ...exceptions import EmptyInputError

__all__ = ["InternalSplit", "internal_split", "data_kind"]
_VALIDATION = ("auto", "time", "random")


@dataclass(frozen=True)
class InternalSplit:
    """An internal train/label split of one Dataset (shared id maps).

    Attributes
    ----------
    history : Dataset
        The interactions models are fitted on (same id maps as the full data).
    users : numpy.ndarray of int64
        Internal indices of the label users (sorted).
    label_keys : numpy.ndarray of int64
        Sorted unique ``user_idx * n_items + item_idx`` of the label pairs
        (label users only).
    as_of : numpy.datetime64
        Reference time of the features (start of the label window, or just
        after the last history event).
    kind : str
        ``"time_window"`` or ``"random_holdout"``.
    info : dict
        Sizes and the reason for the choice (recorded in ``validation_``).
    """

    history: Dataset
    users: np.ndarray
    label_keys: np.ndarray
    as_of: np.datetime64
    kind: str
    info: dict[str, Any] = field(default_factory=dict)


def data_kind(dataset: Dataset, repeat_threshold: float = 0.05) -> dict[str, Any]:
    """Describe the data: are timestamps informative, is it a purchase log?

    Parameters
    ----------
    dataset : Dataset
    repeat_threshold : float, default 0.05
        Share of (user, item) pairs seen on two or more distinct occasions
        (days when timestamps are informative, rows otherwise) above which
        the data counts as a purchase log.

    Returns
    -------
    dict
        ``time_informative`` (bool), ``distinct_timestamp_share``,
        ``span_days``, ``repeat_share`` and ``purchase_log`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> ev = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"],
    ...                    "timestamp": pd.Timestamp("2024-01-01")})
    >>> data_kind(Dataset.from_frames(ev))["time_informative"]
    False
    """
    inter = dataset.internal_interactions
    ts = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]").astype(np.int64)
    n = len(ts)
    n_distinct = len(np.unique(ts)) if n else 0
    span_days = float((ts.max() - ts.min()) / DAY_NS) if n else 0.0
    share = n_distinct / max(n, 1)
    # informative: more than a handful of distinct times, spread over > 2 days,
    # and not one time shared by most rows
    informative = bool(n_distinct >= 10 and span_days > 2.0 and share > 0.001)
    u = inter[Columns.USER_IDX].to_numpy(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy(np.int64)
    occasion = ts // DAY_NS if informative else np.arange(n)
    pair = u * dataset.n_items + i
    # distinct (pair, occasion) rows, then pairs with >= 2 of them
    order = np.lexsort((occasion, pair))
    p, o = pair[order], occasion[order]
    new = np.r_[True, (p[1:] != p[:-1]) | (o[1:] != o[:-1])] if n else np.zeros(0, bool)
    pp = p[new]
    _, counts = np.unique(pp, return_counts=True)
    repeat_share = float((counts >= 2).mean()) if len(counts) else 0.0
    return {
        "time_informative": informative,
        "distinct_timestamp_share": round(share, 6),
        "span_days": round(span_days, 3),
        "repeat_share": round(repeat_share, 6),
        "purchase_log": bool(repeat_share > repeat_threshold),
    }


def internal_split(
    dataset: Dataset,
    *,
    method: str = "auto",
    kind: dict[str, Any] | None = None,
    window_days: float = 30.0,
    holdout_fraction: float = 0.2,
    min_user_items: int = 3,
    max_users: int | None = 20_000,
    min_label_users: int = 50,
    random_state: int = 0,
) -> InternalSplit:
    """Split ``dataset`` into history and label pairs (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
    method : {"auto", "time", "random"}, default "auto"
        ``"auto"`` uses a time window on purchase logs with informative
        timestamps (when it yields at least ``min_label_users`` users) and a
        random holdout otherwise.
    kind : dict, optional
        Output of :func:`data_kind` (computed when None).
    window_days : float, default 30
    holdout_fraction : float, default 0.2
    min_user_items : int, default 3
        Users with fewer distinct items get no random-holdout labels.
    max_users : int or None, default 20000
        At most this many label users (a seeded random sample).
    min_label_users : int, default 50
    random_state : int, default 0

    Returns
    -------
    InternalSplit

    Raises
    ------
    EmptyInputError
        No user qualifies for labels (too little data to validate on).
    """
    kind = data_kind(dataset) if kind is None else kind
    inter = dataset.internal_interactions
    n_items = dataset.n_items
    u = inter[Columns.USER_IDX].to_numpy(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy(np.int64)
    ts = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]")
    keys = u * n_items + i
    rng = np.random.default_rng(random_state)
    reason = ""
    out: tuple[np.ndarray, np.ndarray, np.datetime64, str] | None = None
    want_time = method == "time" or (
        method == "auto" and kind["time_informative"] and kind["purchase_log"])
    if want_time:
        end = ts.max()
        hist_users = np.zeros(dataset.n_users, dtype=bool)
        # small shops: widen the window (x2, x3) until enough users return in it
        for mult in (1, 2, 3):
            days = window_days * mult
            start = end - np.timedelta64(int(days * DAY_NS), "ns")
            hist = ts < start
            hist_users[:] = False
            hist_users[u[hist]] = True
            lab_users = np.unique(u[~hist])
            lab_users = lab_users[hist_users[lab_users]]
            if len(lab_users) >= min_label_users:
                break
        if len(lab_users) >= min_label_users or method == "time":
            keep_lab = ~hist & hist_users[u]
            out = (hist, keys[keep_lab], start, "time_window")
            reason = ("purchase log with informative timestamps: the last "
                      f"{days:g} days are the labels")
        else:
            reason = (f"the last {window_days * 3:g} days hold only {len(lab_users)} returning "
                      f"users (< {min_label_users}); random holdout instead")
    if out is None:
        # hold out a random share of each user's interactions (rows): on purchase logs
        # a held-out purchase of an item also bought earlier stays a repeat label
        n_rows = np.bincount(u, minlength=dataset.n_users)
        n_items_user = np.bincount(np.unique(keys) // n_items, minlength=dataset.n_users)
        order = np.lexsort((rng.random(len(u)), u))
        starts = np.r_[0, np.cumsum(n_rows)[:-1]]
        pos = np.empty(len(u), dtype=np.int64)
        pos[order] = np.arange(len(u)) - starts[u[order]]
        n_lab = np.where(n_items_user >= min_user_items,
                         np.maximum(1, np.round(n_rows * holdout_fraction)), 0)
        is_lab = pos < n_lab[u]
        hist = ~is_lab
        as_of = ts.max() + np.timedelta64(1, "s") if len(ts) else np.datetime64(0, "ns")
        out = (hist, keys[is_lab], as_of, "random_holdout")
        if not reason:
            reason = ("timestamps are not informative" if not kind["time_informative"]
                      else "ratings-like data (few repeats)" if not kind["purchase_log"]
                      else "random holdout requested")
        reason += f": a random {holdout_fraction:g} of each user's interactions are the labels"
    hist, label_keys, as_of, split_kind = out
    label_keys = np.unique(label_keys)
    users = np.unique(label_keys // n_items)
    n_candidates_users = len(users)
    if max_users is not None and len(users) > max_users:
        users = np.sort(rng.choice(users, size=max_users, replace=False))
        label_keys = label_keys[np.isin(label_keys // n_items, users)]
    if len(users) == 0:
        raise EmptyInputError(
            "internal validation split: no user has enough interactions to hold out labels "
            f"(split {split_kind!r}, {dataset.n_interactions} interactions); the model needs "
            f"users with at least {min_user_items} distinct items."
        )
    history = dataset.filter_interactions(hist)
    info = {
        "kind": split_kind,
        "reason": reason,
        "label_users": int(len(users)),
        "label_users_available": int(n_candidates_users),
        "label_pairs": int(len(label_keys)),
        "history_interactions": int(history.n_interactions),
        **{k: kind[k] for k in ("time_informative", "purchase_log", "repeat_share")},
    }
    return InternalSplit(history=history, users=users, label_keys=label_keys,
                         as_of=np.datetime64(as_of, "ns"), kind=split_kind, info=info)

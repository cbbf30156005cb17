"""Train/test splitters that never leak test interactions into train.

Every splitter takes a :class:`~persona_rec.Dataset` and returns a
:class:`Split`: a train Dataset (built with ``Dataset.filter_*``, so it shares
the id maps and keeps every user and item attribute) and a ``test`` frame of
held-out interactions with external ids. Test rows then pass through the same
optional filters, in this order, each counted in ``split.info["dropped"]``:

1. relevance: ``min_weight`` (keep ``weight >= min_weight``, e.g. ratings
   >= 4) and ``relevant_events`` (e.g. ``{"purchase"}``);
2. ``filter_cold_users``: drop test rows of users without train interactions;
3. ``filter_cold_items``: drop test rows of items without train interactions;
4. ``filter_already_seen``: drop test rows whose (user, item) pair occurs in
   train (so a model that filters seen items can still reach every relevant
   item). Turn it off to evaluate repeat purchases and recommend with
   ``filter_seen=False``; :func:`~persona_rec.evaluation.evaluate` follows
   ``split.filter_seen``.

``split.info`` reports what was evaluated and what was dropped, e.g.
``n_test_users``, ``n_test_items``, ``n_test_interactions``,
``n_train_interactions``, ``n_discarded_interactions`` (rows in neither part)
and splitter-specific counts such as ``n_users_too_few_interactions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import position_in_group
from .._text import fill_doc
from .._validation import (
    as_timestamp,
    check_bool,
    check_instance,
    check_int,
    check_number,
)
from ..columns import Columns
from ..dataset import Dataset, _with_external_ids
from ..exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
)

__all__ = [
    "Split",
    "random_split",
    "temporal_split",
    "leave_last_n_split",
    "next_period_split",
    "cold_user_split",
    "cold_item_split",
]


@dataclass(frozen=True)
class Split:
    """A train Dataset and the held-out test interactions.

    Attributes
    ----------
    train : Dataset
        Training data. It shares the id maps (and all user and item
        attributes) of the Dataset that was split.
    test : pandas.DataFrame
        Held-out interactions with external ids: ``user_id, item_id,
        timestamp, weight`` and the other interaction columns (``event``,
        ``quantity``, ...). The relevant items of a user are the distinct
        ``item_id`` of the user's rows.
    info : dict
        Counts of evaluated and dropped users, items and rows (see the module
        docstring) plus the splitter's name and parameters.
    filter_seen : bool
        Whether models should filter items seen in train when recommending
        (True unless the split kept already-seen test pairs).
    candidate_items : numpy.ndarray or None
        Items to rank when the split targets a subset of the catalog (the new
        items of :func:`cold_item_split`); None = the whole catalog.
    """

    train: Dataset
    test: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    filter_seen: bool = True
    candidate_items: np.ndarray | None = None

    @property
    def test_users(self) -> np.ndarray:
        """Distinct test user ids, in order of first appearance."""
        return pd.unique(self.test[Columns.USER].to_numpy())

    def __repr__(self) -> str:
        i = self.info
        return (
            f"Split({i.get('splitter', '?')}: train={i.get('n_train_interactions')} rows, "
            f"test={i.get('n_test_interactions')} rows / {i.get('n_test_users')} users / "
            f"{i.get('n_test_items')} items)"
        )


# ------------------------------------------------------------------ helpers
def _check_dataset(dataset: Any, owner: str) -> Dataset:
    return check_instance(dataset, Dataset, f"{owner} needs a persona_rec.Dataset")


def _check_fraction(value: Any, name: str, owner: str) -> float:
    return check_number(value, name, low=0.0, high=1.0, low_inclusive=False,
                        high_inclusive=False, owner=owner)


def _timestamp(value: Any, name: str, owner: str) -> pd.Timestamp:
    return as_timestamp(value, f"The '{name}' parameter of {owner}")


def _timedelta(value: Any, name: str, owner: str) -> pd.Timedelta:
    try:
        d = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(
            f"The '{name}' parameter of {owner} must be a duration such as '30D', got {value!r}."
        ) from exc
    if d is pd.NaT or d <= pd.Timedelta(0):
        raise InvalidValueError(
            f"The '{name}' parameter of {owner} must be a positive duration, got {value!r}."
        )
    return d


def _pair_keys(inter: pd.DataFrame, n_items: int) -> np.ndarray:
    return inter[Columns.USER_IDX].to_numpy(np.int64) * np.int64(n_items) + inter[Columns.ITEM_IDX].to_numpy(
        np.int64
    )


def _finish(
    dataset: Dataset,
    train_mask: np.ndarray,
    test_mask: np.ndarray,
    *,
    splitter: str,
    params: dict[str, Any],
    min_weight: float | None,
    relevant_events: Iterable[str] | None,
    filter_cold_users: bool,
    filter_cold_items: bool,
    filter_already_seen: bool,
    extra_info: dict[str, Any] | None = None,
    candidate_items: np.ndarray | None = None,
) -> Split:
    """Apply the shared test filters, build the train Dataset and the report."""
    for name, flag in (("filter_cold_users", filter_cold_users),
                       ("filter_cold_items", filter_cold_items),
                       ("filter_already_seen", filter_already_seen)):
        check_bool(flag, name, owner=splitter, error=InvalidDtypeError)
    inter = dataset.internal_interactions
    if np.any(train_mask & test_mask):  # pragma: no cover - guards the splitters themselves
        raise AssertionError("a row is both in train and test")
    train = dataset.filter_interactions(np.asarray(train_mask, dtype=bool))
    test = inter.loc[test_mask]
    dropped: dict[str, int] = {}
    n_raw = len(test)

    def drop(reason: str, keep: np.ndarray) -> None:
        nonlocal test
        dropped[reason] = int((~keep).sum())
        test = test.loc[keep]

    if min_weight is not None:
        mw = check_number(min_weight, "min_weight", owner=splitter)
        drop("below_min_weight", test[Columns.WEIGHT].to_numpy() >= mw)
    if relevant_events is not None:
        if isinstance(relevant_events, str):
            relevant_events = [relevant_events]
        events = list(relevant_events)
        if Columns.EVENT not in inter.columns:
            raise MissingColumnError(
                f"relevant_events={events!r} needs an '{Columns.EVENT}' column in the "
                f"interactions; the Dataset has {list(inter.columns)}."
            )
        drop("not_relevant_event",
             test[Columns.EVENT].astype(object).isin(events).to_numpy())
    train_inter = train.internal_interactions
    if filter_cold_users:
        hot = train.hot_user_mask()
        drop("cold_user", hot[test[Columns.USER_IDX].to_numpy()])
    if filter_cold_items:
        hot_items = train.hot_item_mask()
        drop("cold_item", hot_items[test[Columns.ITEM_IDX].to_numpy()])
    if filter_already_seen:
        seen = np.sort(_pair_keys(train_inter, dataset.n_items))
        keys = _pair_keys(test, dataset.n_items)
        pos = np.searchsorted(seen, keys)
        pos[pos == seen.size] = 0
        found = seen[pos] == keys if seen.size else np.zeros(keys.size, dtype=bool)
        drop("already_seen", ~found)

    test_frame = _external(dataset, test)
    n_test_rows_kept = len(test_frame)
    info: dict[str, Any] = {
        "splitter": splitter,
        **params,
        "n_train_interactions": train.n_interactions,
        "n_train_users": int(train.hot_user_mask().sum()),
        "n_train_items": int(train.hot_item_mask().sum()),
        "n_test_interactions": n_test_rows_kept,
        "n_test_users": int(test[Columns.USER_IDX].nunique()),
        "n_test_items": int(test[Columns.ITEM_IDX].nunique()),
        "n_test_pairs": int(pd.unique(_pair_keys(test, dataset.n_items)).size),
        "n_test_interactions_before_filters": n_raw,
        "dropped": dropped,
        "n_discarded_interactions": int(len(inter) - train.n_interactions - n_raw),
    }
    if extra_info:
        info.update(extra_info)
    if n_test_rows_kept == 0:
        raise EmptyInputError(
            f"{splitter} left no test interactions ({n_raw} held out, dropped: {dropped}); "
            f"relax the filters or change the split parameters."
        )
    if train.n_interactions == 0:
        raise EmptyInputError(f"{splitter} left no train interactions; change its parameters.")
    return Split(train=train, test=test_frame, info=info,
                 filter_seen=bool(filter_already_seen), candidate_items=candidate_items)


def _external(dataset: Dataset, rows: pd.DataFrame) -> pd.DataFrame:
    return _with_external_ids(rows, dataset.user_map, dataset.item_map)


_FILTER_DOCS = {
    "min_weight": """    min_weight : float, optional
        Keep only test rows with ``weight >= min_weight`` (relevance filter).""",
    "relevant_events": """    relevant_events : iterable of str, optional
        Keep only test rows with these event types, e.g. ``{"purchase"}``.""",
    "filter_cold_users": """    filter_cold_users : bool, default True
        Drop test rows of users without train interactions.""",
    "filter_cold_items": """    filter_cold_items : bool, default True
        Drop test rows of items without train interactions.""",
    "filter_already_seen": """    filter_already_seen : bool, default True
        Drop test rows whose (user, item) pair occurs in train.""",
}


def _doc(func: Any) -> Any:
    """Fill the ``{filters}`` placeholder with the test-filter parameters ``func`` takes."""
    import inspect

    names = [n for n in _FILTER_DOCS if n in inspect.signature(func).parameters]
    return fill_doc(filters="\n".join(_FILTER_DOCS[n] for n in names))(func)


# ---------------------------------------------------------------- splitters
@_doc
def random_split(
    dataset: Dataset,
    test_fraction: float = 0.2,
    *,
    min_interactions: int = 2,
    random_state: int | None = None,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_items: bool = True,
    filter_already_seen: bool = True,
) -> Split:
    """Random per-user holdout of distinct (user, item) pairs.

    Each user with at least ``min_interactions`` distinct items holds out
    ``round(test_fraction * n)`` of them (at least 1, at most ``n - 1``),
    chosen at random. All events of a held-out pair go to test, so a pair
    never sits on both sides. Users with fewer items stay entirely in train
    and are not evaluated (``info["n_users_too_few_interactions"]``).

    Parameters
    ----------
    dataset : Dataset
    test_fraction : float, default 0.2
        Share of each user's distinct items held out (0 < f < 1).
    min_interactions : int, default 2
        Distinct items a user needs to be split (>= 2).
    random_state : int, optional
        Seed.
    {filters}

    Returns
    -------
    Split

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1] * 5 + [2] * 5 + [3] * 2,
    ...                       "item_id": [1, 2, 3, 4, 5] * 2 + [1, 2],
    ...                       "timestamp": pd.Timestamp("2024-01-01")})
    >>> split = random_split(Dataset.from_frames(inter), 0.2, min_interactions=5, random_state=1)
    >>> split.info["n_test_users"], split.info["n_users_too_few_interactions"]
    (2, 1)
    >>> len(split.test), split.train.n_interactions
    (2, 10)
    """
    owner = "random_split"
    ds = _check_dataset(dataset, owner)
    frac = _check_fraction(test_fraction, "test_fraction", owner)
    min_n = check_int(min_interactions, "min_interactions", minimum=2, owner=owner)
    inter = ds.internal_interactions
    pair_of_row, pair_keys = pd.factorize(_pair_keys(inter, ds.n_items))
    pair_keys = np.asarray(pair_keys, dtype=np.int64)
    pair_user = pair_keys // ds.n_items
    n_per_user = np.bincount(pair_user, minlength=ds.n_users)
    rng = np.random.default_rng(random_state)
    order = np.lexsort((rng.random(pair_keys.size), pair_user))
    sorted_user = pair_user[order]
    position = position_in_group(sorted_user)
    n_test = np.clip(np.rint(frac * n_per_user), 1, np.maximum(n_per_user - 1, 1)).astype(np.int64)
    eligible = n_per_user >= min_n
    n_test[~eligible] = 0
    pair_test = np.zeros(pair_keys.size, dtype=bool)
    pair_test[order] = position < n_test[sorted_user]
    test_mask = pair_test[pair_of_row]
    hot = n_per_user > 0
    return _finish(
        ds, ~test_mask, test_mask, splitter=owner,
        params={"test_fraction": frac, "min_interactions": min_n, "random_state": random_state},
        min_weight=min_weight, relevant_events=relevant_events, filter_cold_users=False,
        filter_cold_items=filter_cold_items, filter_already_seen=filter_already_seen,
        extra_info={"n_users_split": int(eligible.sum()),
                    "n_users_too_few_interactions": int((hot & ~eligible).sum())},
    )


@_doc
def temporal_split(
    dataset: Dataset,
    at: Any = None,
    *,
    test_fraction: float | None = None,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_users: bool = True,
    filter_cold_items: bool = True,
    filter_already_seen: bool = True,
) -> Split:
    """Global temporal split: train before ``T``, test from ``T`` on.

    ``T`` is ``at`` or, with ``test_fraction=f``, the time that leaves the
    last ``f`` of the dataset's time span (``first + (1 - f) * (last -
    first)``) to test. Every train timestamp is ``< T`` and every test
    timestamp ``>= T``.

    Parameters
    ----------
    dataset : Dataset
    at : datetime-like, optional
        Split time ``T`` (exactly one of ``at`` and ``test_fraction``).
    test_fraction : float, optional
        Share of the time span given to test (0 < f < 1).
    {filters}

    Returns
    -------
    Split
    """
    owner = "temporal_split"
    ds = _check_dataset(dataset, owner)
    if (at is None) == (test_fraction is None):
        raise InvalidParameterError(
            f"{owner} needs exactly one of 'at' and 'test_fraction', got at={at!r}, "
            f"test_fraction={test_fraction!r}."
        )
    if at is not None:
        t = _timestamp(at, "at", owner)
    else:
        f = _check_fraction(test_fraction, "test_fraction", owner)
        first, last = ds.time_range
        t = first + (last - first) * (1.0 - f)
    ts = ds.internal_interactions[Columns.TIMESTAMP].to_numpy()
    test_mask = ts >= np.datetime64(t)
    return _finish(
        ds, ~test_mask, test_mask, splitter=owner,
        params={"at": t, "test_fraction": test_fraction},
        min_weight=min_weight, relevant_events=relevant_events,
        filter_cold_users=filter_cold_users, filter_cold_items=filter_cold_items,
        filter_already_seen=filter_already_seen,
    )


@_doc
def leave_last_n_split(
    dataset: Dataset,
    n: int = 1,
    *,
    min_interactions: int | None = None,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_items: bool = True,
    filter_already_seen: bool = True,
) -> Split:
    """Per-user leave-last-n: each user's ``n`` latest events go to test.

    Events are ordered by timestamp (ties by row order). Users with fewer
    than ``min_interactions`` events (default ``n + 1``) stay entirely in
    train and are not evaluated.

    Parameters
    ----------
    dataset : Dataset
    n : int, default 1
        Events held out per user.
    min_interactions : int, optional
        Events a user needs to be split (> n).
    {filters}

    Returns
    -------
    Split
    """
    owner = "leave_last_n_split"
    ds = _check_dataset(dataset, owner)
    n = check_int(n, "n", minimum=1, owner=owner)
    min_n = n + 1 if min_interactions is None else check_int(
        min_interactions, "min_interactions", minimum=n + 1, owner=owner)
    inter = ds.internal_interactions
    user = inter[Columns.USER_IDX].to_numpy()
    ts = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]").astype(np.int64)
    order = np.lexsort((np.arange(user.size), ts, user))
    sorted_user = user[order]
    counts = np.bincount(user, minlength=ds.n_users)
    ends = np.searchsorted(sorted_user, sorted_user, side="right")
    from_end = ends - np.arange(user.size)  # 1 = the user's last event
    eligible = counts >= min_n
    test_sorted = (from_end <= n) & eligible[sorted_user]
    test_mask = np.zeros(user.size, dtype=bool)
    test_mask[order] = test_sorted
    hot = counts > 0
    return _finish(
        ds, ~test_mask, test_mask, splitter=owner,
        params={"n": n, "min_interactions": min_n},
        min_weight=min_weight, relevant_events=relevant_events, filter_cold_users=False,
        filter_cold_items=filter_cold_items, filter_already_seen=filter_already_seen,
        extra_info={"n_users_split": int(eligible.sum()),
                    "n_users_too_few_interactions": int((hot & ~eligible).sum())},
    )


@_doc
def next_period_split(
    dataset: Dataset,
    at: Any,
    window: Any = "30D",
    *,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_users: bool = True,
    filter_cold_items: bool = True,
    filter_already_seen: bool = True,
) -> Split:
    """Next-period split: train before ``T``, test in ``[T, T + window)``.

    Events from ``T + window`` on are discarded and counted in
    ``info["n_discarded_interactions"]``. With ``filter_cold_users=True``
    (default) only users active in both periods are evaluated.

    Parameters
    ----------
    dataset : Dataset
    at : datetime-like
        Start ``T`` of the test period.
    window : str or timedelta, default "30D"
        Length of the test period.
    {filters}

    Returns
    -------
    Split
    """
    owner = "next_period_split"
    ds = _check_dataset(dataset, owner)
    t = _timestamp(at, "at", owner)
    w = _timedelta(window, "window", owner)
    ts = ds.internal_interactions[Columns.TIMESTAMP].to_numpy()
    train_mask = ts < np.datetime64(t)
    test_mask = (ts >= np.datetime64(t)) & (ts < np.datetime64(t + w))
    return _finish(
        ds, train_mask, test_mask, splitter=owner,
        params={"at": t, "window": w},
        min_weight=min_weight, relevant_events=relevant_events,
        filter_cold_users=filter_cold_users, filter_cold_items=filter_cold_items,
        filter_already_seen=filter_already_seen,
    )


@_doc
def cold_user_split(
    dataset: Dataset,
    test_fraction: float = 0.1,
    *,
    min_interactions: int = 1,
    random_state: int | None = None,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_items: bool = True,
) -> Split:
    """Hold out a random share of users entirely (all their interactions).

    The held-out users stay in the train Dataset's id map with their
    attributes, so models see them as attribute-only ("warm") users.
    ``info`` counts how many of them have attribute rows
    (``n_test_users_with_attributes``).

    Parameters
    ----------
    dataset : Dataset
    test_fraction : float, default 0.1
        Share of the users with interactions to hold out (0 < f < 1).
    min_interactions : int, default 1
        Only users with at least this many events can be held out.
    random_state : int, optional
        Seed.
    {filters}

    Returns
    -------
    Split
    """
    owner = "cold_user_split"
    ds = _check_dataset(dataset, owner)
    frac = _check_fraction(test_fraction, "test_fraction", owner)
    min_n = check_int(min_interactions, "min_interactions", minimum=1, owner=owner)
    user = ds.internal_interactions[Columns.USER_IDX].to_numpy()
    counts = np.bincount(user, minlength=ds.n_users)
    candidates = np.flatnonzero(counts >= min_n)
    n_hold = int(np.rint(frac * candidates.size))
    if n_hold < 1:
        raise InvalidParameterError(
            f"{owner}: test_fraction={frac} of {candidates.size} eligible users holds out none; "
            f"raise test_fraction."
        )
    rng = np.random.default_rng(random_state)
    held = np.sort(rng.choice(candidates, size=n_hold, replace=False))
    is_held = np.zeros(ds.n_users, dtype=bool)
    is_held[held] = True
    test_mask = is_held[user]
    held_ids = ds.user_map.to_external(held)
    with_attrs = int(pd.Index(ds.users[Columns.USER]).isin(held_ids).sum()) if len(
        ds.users) else 0
    return _finish(
        ds, ~test_mask, test_mask, splitter=owner,
        params={"test_fraction": frac, "min_interactions": min_n, "random_state": random_state},
        min_weight=min_weight, relevant_events=relevant_events, filter_cold_users=False,
        filter_cold_items=filter_cold_items, filter_already_seen=False,
        extra_info={"n_users_held_out": n_hold, "n_test_users_with_attributes": with_attrs},
    )


@_doc
def cold_item_split(
    dataset: Dataset,
    at: Any,
    window: Any = None,
    *,
    min_weight: float | None = None,
    relevant_events: Iterable[str] | None = None,
    filter_cold_users: bool = True,
) -> Split:
    """Evaluate new items: those whose first interaction is at or after ``T``.

    Train holds every event before ``T`` (so no new item appears in it; new
    items keep their attributes in the train Dataset). Test holds the events
    from ``T`` (up to ``T + window`` when given) on new items; events on old
    items after ``T`` are discarded (``info["n_discarded_interactions"]``).
    ``split.candidate_items`` lists the new items, which
    :func:`~persona_rec.evaluation.evaluate` passes to models as ``items=``.

    Parameters
    ----------
    dataset : Dataset
    at : datetime-like
        Time ``T``.
    window : str or timedelta, optional
        Length of the test period (default: until the end of the data).
    {filters}

    Returns
    -------
    Split
    """
    owner = "cold_item_split"
    ds = _check_dataset(dataset, owner)
    t = _timestamp(at, "at", owner)
    inter = ds.internal_interactions
    ts = inter[Columns.TIMESTAMP].to_numpy()
    item = inter[Columns.ITEM_IDX].to_numpy()
    first = pd.Series(ts).groupby(item).min()
    new_items = first.index.to_numpy()[first.to_numpy() >= np.datetime64(t)]
    is_new = np.zeros(ds.n_items, dtype=bool)
    is_new[new_items] = True
    after = ts >= np.datetime64(t)
    if window is not None:
        w = _timedelta(window, "window", owner)
        in_window = after & (ts < np.datetime64(t + w))
    else:
        w = None
        in_window = after
    test_mask = in_window & is_new[item]
    return _finish(
        ds, ~after, test_mask, splitter=owner,
        params={"at": t, "window": w},
        min_weight=min_weight, relevant_events=relevant_events,
        filter_cold_users=filter_cold_users, filter_cold_items=False, filter_already_seen=False,
        extra_info={"n_new_items": int(new_items.size)},
        candidate_items=ds.item_map.to_external(new_items),
    )

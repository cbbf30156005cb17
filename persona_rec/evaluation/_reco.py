"""Validation and shared, vectorised preparation of (reco, test) pairs.

Everything here works on integer codes with numpy sorts, ``bincount`` and
``searchsorted``; there is no Python loop over users or rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_frame, example_values
from ..columns import Columns
from ..exceptions import DuplicateIdError, InvalidDtypeError, InvalidValueError

__all__ = ["TopK", "Prepared", "check_reco_topk", "prepare", "check_test", "ALL_GROUP", "MISSING_GROUP"]

#: Group label of users that ``by=`` gives no group (``evaluate`` breakdowns).
MISSING_GROUP = "(missing)"
#: Group label of the row over all evaluated users (``evaluate`` tables and their plots).
ALL_GROUP = "all"

_U, _I, _R = Columns.USER, Columns.ITEM, Columns.RANK


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted unique values (``np.unique`` is several times slower on int64 here)."""
    s = np.sort(keys)
    if s.size < 2:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _show(value: Any) -> str:
    """repr of a value without numpy scalar wrappers (``2`` rather than ``np.int64(2)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_duplicate(keys: np.ndarray) -> int | None:
    """Position (in ``keys``) of one duplicated key, or None."""
    if keys.size < 2:
        return None
    order = np.argsort(keys, kind="quicksort")
    s = keys[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size == 0:
        return None
    return int(order[dup[0] + 1])


def _rank_array(reco: pd.DataFrame, name: str) -> np.ndarray:
    ranks = reco[_R]
    if len(ranks) == 0:  # an empty frame may carry object columns
        return np.empty(0, dtype=np.int64)
    kind = ranks.dtype.kind
    if kind in "iu":
        return ranks.to_numpy(dtype=np.int64)
    if kind == "f":
        values = ranks.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values != np.floor(values))
        if bad.any():
            raise InvalidValueError(
                f"{name}['{_R}'] must hold whole numbers (1 = best), got "
                f"{example_values(values[bad])}."
            )
        return values.astype(np.int64)
    raise InvalidDtypeError(
        f"{name}['{_R}'] must be an integer column (1 = best), got dtype {ranks.dtype}."
    )


@dataclass(frozen=True)
class TopK:
    """The top-``k`` rows of a validated recommendation frame.

    Attributes
    ----------
    user_ids : numpy.ndarray
        External ids of every user in the reco frame (code order).
    user : numpy.ndarray of int64
        User code of each kept row (index into ``user_ids``).
    item : numpy.ndarray
        External item id of each kept row.
    rank : numpy.ndarray of int64
        Rank of each kept row (``<= k``).
    k : int or None
        The cut-off (None = every row kept).
    """

    user_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    rank: np.ndarray
    k: int | None


def check_unique_pairs(sorted_keys: np.ndarray, keys: np.ndarray, user_ids: np.ndarray,
                       user: np.ndarray, item: np.ndarray, name: str = "reco") -> None:
    """Raise DuplicateIdError if ``sorted_keys`` (sorted (user, item) keys) repeats a key."""
    if sorted_keys.size < 2:
        return
    dup = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if dup.size == 0:
        return
    row = int(np.flatnonzero(keys == sorted_keys[dup[0]])[0])
    raise DuplicateIdError(
        f"{name} has duplicate (user_id, item_id) row(s), e.g. "
        f"({_show(user_ids[user[row]])}, {_show(item[row])}); each item may be recommended "
        f"once per user."
    )


def check_reco_topk(reco: Any, k: int | None, name: str = "reco", *,
                    check_pairs: bool = True) -> TopK:
    """Validate a recommendation frame and keep its rows with ``rank <= k``.

    Whole-frame checks: the columns ``user_id, item_id, rank`` exist, ranks
    are whole numbers >= 1 and every user's best rank is 1. Within the kept
    top-``k`` rows: no (user, item) pair and no (user, rank) pair appears
    twice.

    Raises
    ------
    MissingColumnError, InvalidDtypeError, InvalidValueError, DuplicateIdError
    """
    check_frame(reco, name, (_U, _I, _R), allow_empty=True)
    ranks = _rank_array(reco, name)
    users_all = reco[_U].to_numpy()
    if ranks.size:
        low = ranks.min()
        if low < 1:
            raise InvalidValueError(
                f"{name}['{_R}'] must start at 1 (1 = best), got rank {int(low)} "
                f"(for user {_show(users_all[int(np.argmin(ranks))])})."
            )
    codes, uniques = pd.factorize(users_all, use_na_sentinel=True)
    if (codes < 0).any():
        raise InvalidValueError(f"{name}['{_U}'] must not contain missing user ids.")
    n_users = len(uniques)
    has_first = np.zeros(n_users, dtype=bool)
    has_first[codes[ranks == 1]] = True
    if not has_first.all():
        bad = np.flatnonzero(~has_first)
        raise InvalidValueError(
            f"{name}['{_R}'] must start at 1 for every user; {bad.size} user(s) have no "
            f"rank-1 row, e.g. {example_values(uniques[bad])}."
        )
    if k is None:
        user, item, rank = codes, reco[_I].to_numpy(), ranks
    else:
        keep = ranks <= k
        user, item, rank = codes[keep], reco[_I].to_numpy()[keep], ranks[keep]
    if item.dtype.kind not in "iub" and pd.isna(item).any():
        raise InvalidValueError(f"{name}['{_I}'] must not contain missing item ids.")
    top_rank = int(rank.max()) if rank.size else 0
    rank_keys = user.astype(np.int64) * (top_rank + 1) + rank
    n_bins = n_users * (top_rank + 1)
    if n_bins <= 4 * rank_keys.size + 1_000_000:  # O(n) counting when the key space is small
        counts = np.bincount(rank_keys, minlength=n_bins) if rank_keys.size else np.zeros(1)
        dup_key = np.flatnonzero(counts > 1)
        dup = int(np.flatnonzero(rank_keys == dup_key[0])[0]) if dup_key.size else None
    else:
        dup = _first_duplicate(rank_keys)
    if dup is not None:
        raise DuplicateIdError(
            f"{name} has two rows with the same (user_id, rank) = "
            f"({_show(uniques[user[dup]])}, {int(rank[dup])}); ranks must be unique per user."
        )
    if check_pairs:
        icodes, iuniques = pd.factorize(item)
        keys = user.astype(np.int64) * max(len(iuniques), 1) + icodes
        check_unique_pairs(np.sort(keys), keys, np.asarray(uniques), user, item, name)
    return TopK(np.asarray(uniques), user.astype(np.int64), item, rank, k)


def check_test(test: Any, name: str = "test") -> pd.DataFrame:
    """Validate a frame of relevant (user_id, item_id) rows."""
    check_frame(test, name, (_U, _I), allow_empty=True)
    for col in (_U, _I):
        if test[col].isna().any():
            raise InvalidValueError(f"{name}['{col}'] must not contain missing ids.")
    return test


@dataclass(frozen=True)
class Prepared:
    """Hits of a reco frame against a test frame, on integer codes.

    Attributes
    ----------
    users : numpy.ndarray
        External ids: the ``n_test`` test users first (they have >= 1
        relevant item), then users that appear only in the reco frame.
    n_test : int
        Number of evaluated users.
    n_rel : numpy.ndarray of int64, length ``n_test``
        Distinct relevant items per test user.
    hit_user, hit_rank : numpy.ndarray of int64
        One entry per recommended relevant item (rank <= k), sorted by user
        then rank.
    topk : TopK
        The validated top-k rows.
    reco_user : numpy.ndarray of int64
        For each top-k row, the index into ``users``.
    hit : numpy.ndarray of bool
        For each top-k row, whether the item is relevant for the user.
    """

    users: np.ndarray
    n_test: int
    n_rel: np.ndarray
    hit_user: np.ndarray
    hit_rank: np.ndarray
    topk: TopK
    reco_user: np.ndarray
    hit: np.ndarray
    test_user: np.ndarray
    test_item: np.ndarray


def warn_disjoint_id_types(column: str, reco_ids: np.ndarray, test_ids: np.ndarray,
                           n_shared: int, stacklevel: int = 5) -> None:
    """Warn when ``reco`` and ``test`` share no id and spell their ids with different types.

    The usual cause is a test frame read from a text file (``"42"``) scored
    against recommendations with int ids (``42``): no pair can match, so every
    ranking metric would silently be 0.
    """
    if n_shared or not len(reco_ids) or not len(test_ids):
        return
    reco_ids, test_ids = pd.unique(np.asarray(reco_ids)), pd.unique(np.asarray(test_ids))
    kind_reco = pd.api.types.infer_dtype(reco_ids, skipna=True)
    kind_test = pd.api.types.infer_dtype(test_ids, skipna=True)
    if kind_reco != kind_test:
        warnings.warn(
            f"recommendations and test share no {column}: recommendations hold {kind_reco} ids "
            f"(e.g. {example_values(reco_ids)}), test holds {kind_test} ids (e.g. "
            f"{example_values(test_ids)}); every hit is missed (check that the id types match).",
            UserWarning, stacklevel=stacklevel)


def prepare(reco: Any, test: Any, k: int | None) -> Prepared:
    """Validate ``reco``/``test`` and locate every hit in the top ``k``.

    Warns (``UserWarning``) when the two frames share no user (or no item)
    and spell the ids with different types (e.g. int vs str).
    """
    topk = check_reco_topk(reco, k, check_pairs=False)
    test = check_test(test)
    tu_codes, tu_uniques = pd.factorize(test[_U].to_numpy())
    ti_codes, ti_uniques = pd.factorize(test[_I].to_numpy())
    n_test = len(tu_uniques)
    n_ti = max(len(ti_uniques), 1)
    # Relevant set = distinct (user, item) pairs of ``test``.
    test_keys = _sorted_unique(tu_codes.astype(np.int64) * n_ti + ti_codes)
    n_rel = np.bincount(test_keys // n_ti, minlength=n_test).astype(np.int64)

    # Users: test users first, then reco-only users.
    reco_users_in_test = pd.Index(tu_uniques).get_indexer(topk.user_ids)
    extra = np.flatnonzero(reco_users_in_test < 0)
    user_lut = reco_users_in_test.astype(np.int64)
    user_lut[extra] = n_test + np.arange(extra.size)
    users = np.concatenate([np.asarray(tu_uniques, dtype=object),
                            np.asarray(topk.user_ids[extra], dtype=object)]) \
        if extra.size else np.asarray(tu_uniques)
    reco_user = user_lut[topk.user]
    warn_disjoint_id_types(_U, np.asarray(topk.user_ids), np.asarray(tu_uniques),
                            int((reco_users_in_test >= 0).sum()))

    # Items: test items keep their codes 0..n_ti-1, reco-only items follow.
    n_item_codes = len(ti_uniques)
    item_code = pd.Index(ti_uniques).get_indexer(topk.item).astype(np.int64)
    unknown = item_code < 0
    warn_disjoint_id_types(_I, np.asarray(topk.item), np.asarray(ti_uniques),
                            int((~unknown).sum()))
    if unknown.any():
        extra_codes, extra_uniques = pd.factorize(topk.item[unknown])
        item_code[unknown] = n_item_codes + extra_codes
        n_item_codes += len(extra_uniques)
    stride = np.int64(max(n_item_codes, 1))
    keys = reco_user * stride + item_code
    order = np.argsort(keys)
    sorted_keys = keys[order]
    check_unique_pairs(sorted_keys, keys, users, reco_user, topk.item)
    test_keys = (test_keys // n_ti) * stride + test_keys % n_ti
    pos = np.searchsorted(test_keys, sorted_keys)  # sorted queries: cache friendly
    pos[pos == test_keys.size] = 0
    found = test_keys[pos] == sorted_keys if test_keys.size else np.zeros(keys.size, dtype=bool)
    hit = np.zeros(topk.rank.size, dtype=bool)
    hit[order[found]] = True
    hit_user = reco_user[hit]
    hit_rank = topk.rank[hit]
    order = np.lexsort((hit_rank, hit_user))
    return Prepared(
        users=users,
        n_test=n_test,
        n_rel=n_rel,
        hit_user=hit_user[order],
        hit_rank=hit_rank[order],
        topk=topk,
        reco_user=reco_user,
        hit=hit,
        test_user=(test_keys // stride),
        test_item=np.asarray(ti_uniques)[test_keys % stride] if test_keys.size
        else np.asarray([], dtype=object),
    )



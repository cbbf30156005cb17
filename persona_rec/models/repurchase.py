"""Repurchase ("buy it again") model: scores the items a user bought before by their personal cycle.

In e-commerce people buy the same things again (coffee, printer ink, gift
wrap for a shop). :class:`RepurchaseRecommender` ranks, for each user, the
items that user has already bought, by how likely the user is to buy each of
them again within the next ``horizon_days``. Use it with
``recommend(..., filter_seen=False)``.

How a (user, item) pair is scored
---------------------------------
For every pair bought at least once the model computes (all vectorised):

* frequency: number of distinct orders with the item (``ln_orders``), its share
  among the user's orders (``share``), purchase rate over the user's tenure
  (``rate``), units bought (``ln_qty``);
* recency: days since the last purchase of the item (``ln_since``) and the span
  between first and last purchase (``ln_span``);
* due-ness: the personal cycle = median interval between the user's purchase
  days of the item, shrunk toward the item's population median interval
  (``prior_strength`` pseudo-intervals; items bought once use the population
  prior); ``ratio = days_since / cycle``. ``due`` is a bump that is highest
  when the next purchase falls due within the horizon and decays on both
  sides (just bought: not yet due; long overdue: probably lost);
  ``ln_ratio`` and ``ln_ratio_sq`` let the learned model shape that bump;
* item momentum: distinct buyers of the item in the last ``horizon_days``
  (``ln_item_recent``) and overall (``ln_item_pop``);
* item habit: the share of the item's buyers who bought it in two or more
  orders (``item_repeat_rate``, smoothed toward the global share with 5
  pseudo-buyers) -- consumables are re-bought, gifts are not;
* basket habit: whether the item was in the user's latest basket
  (``in_last_basket``) -- shops and wholesalers reorder whole baskets.

With ``learn=True`` (default) the weights of these features are learned by a
logistic regression on an internal time-respecting split: features are
computed on the events before ``as_of - horizon_days`` and the label is
"bought again in the last ``horizon_days``" (``n_windows > 1`` adds earlier
windows of the same length as extra training examples). The learned weights are then
applied to the features computed on all events, so the score is a calibrated
probability of buying the item again within the horizon. When the data is
too small to learn (fewer than ``min_positives`` repeat purchases in the
validation window) fixed default weights are used (:data:`DEFAULT_WEIGHTS`)
and ``learned_`` is False. With ``within_user=True`` (default) each feature is
also given as its deviation from the user's mean over their past items, so
the regression learns how a user's items compare with each other (the
ranking task) and not only who buys more in general.

The module is one cohesive unit, the repurchase model (cycle statistics,
features, the learned weights and their fallback), hence its length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._arrays import group_starts
from .._validation import check_bool, check_choice, check_int, check_number
from ..columns import Columns, DAY_NS
from ..dataset import Dataset
from ..exceptions import InvalidParameterError, MissingColumnError
from ._features import purchase_mask, purchase_rows
from ._threads import limit_blas_threads
from ..persistence import Learned
from ._request import RecommendRequest
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["RepurchaseRecommender", "BuyAgainRecommender", "repurchase_features",
           "population_stats", "FEATURE_NAMES", "DEFAULT_WEIGHTS"]

FEATURE_NAMES: tuple[str, ...] = (
    "ln_orders",
    "share",
    "rate",
    "ln_qty",
    "ln_since",
    "ln_span",
    "has_cycle",
    "ln_ratio",
    "ln_ratio_sq",
    "due",
    "ln_item_recent",
    "ln_item_pop",
    "item_repeat_rate",
    "in_last_basket",
)

#: Weights used when there is too little data to learn them (``learned_`` False).
#: Frequency dominates, due-ness and item momentum break ties, staleness hurts.
DEFAULT_WEIGHTS: dict[str, float] = {
    "ln_orders": 1.5,
    "due": 2.0,
    "ln_item_recent": 0.3,
    "ln_since": -0.2,
    "has_cycle": 0.5,
}

_POPULATION_KEYS = ("item_prior", "item_recent", "item_pop", "repeat_rate")


def _baskets(inter: pd.DataFrame, keep: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Basket code of each kept row: its ``order_id`` (missing ids: one basket per day), else its day.

    ``day`` is the kept rows' integer day number (days since the epoch).
    """
    if "order_id" not in inter.columns:
        return day
    basket = pd.factorize(inter["order_id"].to_numpy()[keep])[0].astype(np.int64)
    return np.where(basket < 0, -1 - day, basket)


def _days(ts: np.ndarray) -> np.ndarray:
    """Timestamps (datetime64[ns]) as float days since the epoch."""
    return ts.astype("datetime64[ns]").astype(np.int64) / DAY_NS


# ------------------------------------------- the purchase log kept for recent events
#: Learned state of the purchase log (:func:`_purchase_log`); optional, so files written
#: before a model kept it still load (``recent_events`` then asks for a refit).
_PURCHASE_LOG_STATE: dict[str, Learned] = {
    "purchases_": Learned.frame(None, optional=True),
    "purchases_only_": Learned.value(bool, optional=True),
    "order_ids_": Learned.ids(None, optional=True),
}


def _purchase_log(inter: pd.DataFrame, use_purchases: bool) -> tuple[pd.DataFrame, Any, bool]:
    """The rows a purchase model reads, kept by ``fit`` to fold in ``recent_events`` later.

    Returns ``(log, order_ids, purchases_only)``: the rows (``user_idx``,
    ``item_idx``, ``timestamp`` and, when present, ``quantity`` and
    ``order_id``) sorted by user, with ``order_id`` as float codes (NaN stays
    missing) into ``order_ids`` (None without the column); ``purchases_only``
    says whether recent events are filtered to purchases as well.
    """
    purchases_only = bool(use_purchases and purchase_mask(inter).any())
    keep = purchase_rows(inter, use_purchases)
    cols = [c for c in (Columns.USER_IDX, Columns.ITEM_IDX, Columns.TIMESTAMP,
                        Columns.QUANTITY, "order_id") if c in inter.columns]
    log = inter.loc[keep, cols]
    order = np.argsort(log[Columns.USER_IDX].to_numpy(), kind="stable")
    log = log.iloc[order].reset_index(drop=True).astype(
        {Columns.USER_IDX: np.int64, Columns.ITEM_IDX: np.int64})
    order_ids = None
    if "order_id" in log.columns:  # int codes (fast to group); the ids map recent orders
        codes, uniques = pd.factorize(log["order_id"], use_na_sentinel=True)
        log["order_id"] = np.where(codes >= 0, codes, np.nan)  # float: NaN stays missing
        order_ids = np.asarray(uniques, dtype=object)
    return log, order_ids, purchases_only


def _rows_with_recent(fitted: sp.csr_matrix, user_idx: np.ndarray, request: RecommendRequest,
                      recent_rows: Any) -> sp.csr_matrix:
    """Rows of ``fitted`` for the users, those with recent events from ``recent_rows(request)``.

    ``recent_rows(request)`` gives one row per ``request.recent.users``; it is
    called only when a user of ``user_idx`` has recent events.
    """
    user_idx = np.asarray(user_idx, dtype=np.int64)
    rec = request.recent
    fresh = rec.rows(user_idx) if rec is not None else np.full(len(user_idx), -1)
    old, new = np.flatnonzero(fresh < 0), np.flatnonzero(fresh >= 0)
    if not len(new):
        return fitted[user_idx]
    stacked = sp.vstack([fitted[user_idx[old]], recent_rows(request)[fresh[new]]]).tocsr()
    return stacked[np.argsort(np.r_[old, new], kind="stable")]


def _dense(rows: sp.csr_matrix, n_items: int) -> np.ndarray:
    """Sparse score rows as a dense matrix, ``-inf`` where nothing is stored."""
    out = np.full((rows.shape[0], n_items), -np.inf)
    r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    out[r, rows.indices] = rows.data
    return out


def _log_with_recent(model: Recommender, request: RecommendRequest) -> tuple[pd.DataFrame, int]:
    """The kept purchase log of the request's users with recent events, then those events.

    Returns the rows and the number of log rows before the recent ones. The
    rows are in the log's columns (``user_idx`` extended as in
    :class:`~persona_rec.models._request.RecentHistory`); recent order ids
    are mapped to the log's order codes (new orders get new codes). Raises a
    typed error for a model saved without the log or events without a
    ``timestamp``.
    """
    name = type(model).__name__
    rec = request.recent
    log = getattr(model, "purchases_", None)
    if log is None:
        raise InvalidParameterError(
            f"{name}.recommend(recent_events=) needs the purchase log kept by fit since this "
            f"version; this model was saved without it: refit it.")
    if Columns.TIMESTAMP not in rec.events.columns:
        raise MissingColumnError(
            f"recent_events is missing column(s) ['timestamp'] ({name} needs the time of each "
            f"recent purchase).")
    lu = log[Columns.USER_IDX].to_numpy()
    lo = np.searchsorted(lu, rec.users, "left")
    hi = np.searchsorted(lu, rec.users, "right")
    n = hi - lo
    take = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    new = rec.events
    if model.purchases_only_ and Columns.EVENT in new.columns:
        new = new[purchase_mask(new)]
    new = new[[c for c in log.columns if c in new.columns]]
    order_ids = getattr(model, "order_ids_", None)
    if "order_id" in new.columns and order_ids is not None:
        raw = new["order_id"].to_numpy()
        cached = getattr(model, "_order_index", None)
        if cached is None or cached[0] is not order_ids:  # derived, built once
            index = pd.Index(order_ids)
            _ = index.is_unique  # computed now, so concurrent calls only read it
            cached = (order_ids, index)
            model._order_index = cached
        code = cached[1].get_indexer(raw).astype(np.float64)
        fresh = code < 0
        if fresh.any():  # orders after fit: new codes (missing ids stay missing)
            extra = pd.factorize(raw[fresh], use_na_sentinel=True)[0]
            code[fresh] = np.where(extra >= 0, len(order_ids) + extra, np.nan)
        new = new.assign(order_id=code)
    return pd.concat([log.iloc[take], new], ignore_index=True), len(take)


def repurchase_features(
    inter: pd.DataFrame,
    n_items: int,
    as_of: pd.Timestamp,
    *,
    horizon_days: float = 30.0,
    prior_strength: float = 1.0,
    use_purchases: bool = True,
    population: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute the repurchase features of every (user, item) pair bought before ``as_of``.

    Parameters
    ----------
    inter : pandas.DataFrame
        Internal interactions (``Dataset.internal_interactions``): columns
        ``user_idx``, ``item_idx``, ``timestamp`` and optionally ``event``,
        ``quantity``, ``order_id``.
    n_items : int
        Number of items (for pair keys).
    as_of : pandas.Timestamp
        Reference time; only events strictly before it are used.
    horizon_days : float, default 30
        Look-ahead window of "due soon" and of the item momentum feature.
    prior_strength : float, default 1
        Pseudo-intervals of the population prior mixed into a personal cycle.
    use_purchases : bool, default True
        Use purchase/order events only (all events when there are none).
    population : dict, optional
        Item-level statistics to use instead of computing them from
        ``inter`` (keys ``item_prior``, ``item_recent``, ``item_pop``,
        ``repeat_rate``: arrays of ``n_items``; ``global_prior``: float), as
        returned by :func:`population_stats`. Used to score a few users'
        histories against the population of the fit data.

    Returns
    -------
    (users, items, X)
        ``int64`` arrays of the pairs and a float64 matrix ``(n_pairs, len(FEATURE_NAMES))``.
    """
    return _features(inter, n_items, as_of, horizon_days, prior_strength, use_purchases,
                     population)[:3]


def population_stats(inter: pd.DataFrame, n_items: int, as_of: pd.Timestamp, *,
                     horizon_days: float = 30.0, use_purchases: bool = True) -> dict[str, Any]:
    """The item-level statistics of :func:`repurchase_features` (see its ``population``).

    Parameters
    ----------
    inter, n_items, as_of, horizon_days, use_purchases
        As in :func:`repurchase_features`.

    Returns
    -------
    dict
        ``item_prior`` (median repurchase interval per item, NaN when none),
        ``global_prior`` (float days), ``item_recent`` and ``item_pop``
        (distinct buyers in the last ``horizon_days`` / overall) and
        ``repeat_rate`` (smoothed share of buyers with two or more orders).
    """
    return _features(inter, n_items, as_of, horizon_days, 1.0, use_purchases, None)[3]


def _features(inter: pd.DataFrame, n_items: int, as_of: pd.Timestamp, horizon_days: float,
              prior_strength: float, use_purchases: bool, population: dict[str, Any] | None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    ts_all = inter[Columns.TIMESTAMP].to_numpy()
    keep = ts_all < np.datetime64(pd.Timestamp(as_of).to_datetime64(), "ns")
    keep &= purchase_rows(inter, use_purchases)
    n_f = len(FEATURE_NAMES)
    if not keep.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, n_f)), {
            "item_prior": np.full(n_items, np.nan), "global_prior": 30.0,
            "item_recent": np.zeros(n_items), "item_pop": np.zeros(n_items),
            "repeat_rate": np.zeros(n_items)}
    u = inter[Columns.USER_IDX].to_numpy()[keep].astype(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy()[keep].astype(np.int64)
    t = _days(ts_all[keep])
    now = _days(np.asarray([pd.Timestamp(as_of).to_datetime64()]))[0]
    day = np.floor(t).astype(np.int64)
    if "quantity" in inter.columns:
        qty = np.nan_to_num(inter["quantity"].to_numpy(dtype=np.float64)[keep], nan=1.0)
    else:
        qty = np.ones(len(u))
    basket = _baskets(inter, keep, day)
    pair = u * n_items + i

    # distinct (pair, basket) -> orders per pair; distinct (pair, day) -> intervals
    ev = pd.DataFrame({"pair": pair, "basket": basket, "day": day, "t": t, "qty": qty, "u": u})
    g = ev.groupby("pair", sort=True)
    agg = g.agg(last=("t", "max"), first=("t", "min"), qty=("qty", "sum"))
    n_orders = ev.drop_duplicates(["pair", "basket"]).groupby("pair", sort=True).size()
    pairs = agg.index.to_numpy()
    pu, pi = pairs // n_items, pairs % n_items

    d = ev[["pair", "day"]].drop_duplicates().sort_values(["pair", "day"])
    gap = np.diff(d["day"].to_numpy()).astype(np.float64)
    same = d["pair"].to_numpy()[1:] == d["pair"].to_numpy()[:-1]
    gaps = pd.DataFrame({"pair": d["pair"].to_numpy()[1:][same], "gap": gap[same]})
    gaps["item"] = gaps["pair"].to_numpy() % n_items
    pg = gaps.groupby("pair")["gap"].agg(["median", "size"]).reindex(pairs)
    if population is None:
        global_prior = float(gaps["gap"].median()) if len(gaps) else 30.0
        item_prior_all = gaps.groupby("item")["gap"].median().reindex(
            np.arange(n_items)).to_numpy(dtype=np.float64)
    else:
        global_prior = float(population["global_prior"])
        item_prior_all = np.asarray(population["item_prior"], dtype=np.float64)
    item_prior = item_prior_all[pi]
    item_prior = np.where(np.isfinite(item_prior), item_prior, global_prior)
    n_int = np.nan_to_num(pg["size"].to_numpy(dtype=np.float64), nan=0.0)
    med = np.nan_to_num(pg["median"].to_numpy(dtype=np.float64), nan=0.0)
    cycle = (n_int * med + prior_strength * item_prior) / np.maximum(n_int + prior_strength, 1e-9)
    cycle = np.maximum(cycle, 1.0)

    user_orders = ev.drop_duplicates(["u", "basket"]).groupby("u").size()
    user_first = ev.groupby("u")["t"].min()
    u_orders = user_orders.reindex(pu).to_numpy(dtype=np.float64)
    tenure = now - user_first.reindex(pu).to_numpy(dtype=np.float64)

    if population is None:
        recent = t >= now - horizon_days
        item_recent = np.bincount(
            pd.unique(pair[recent]) % n_items, minlength=n_items
        ).astype(np.float64)
        item_pop = np.bincount(pairs % n_items, minlength=n_items).astype(np.float64)
        repeaters = np.bincount(pi, weights=(n_orders.to_numpy() >= 2).astype(np.float64),
                                minlength=n_items)
        global_rate = repeaters.sum() / max(len(pi), 1)
        repeat_rate = (repeaters + 5.0 * global_rate) / (item_pop + 5.0)
    else:
        item_recent = np.asarray(population["item_recent"], dtype=np.float64)
        item_pop = np.asarray(population["item_pop"], dtype=np.float64)
        repeat_rate = np.asarray(population["repeat_rate"], dtype=np.float64)
    # was the item in the user's latest basket?
    last_basket = ev.loc[ev.groupby("u")["t"].idxmax().to_numpy(), ["u", "basket"]]
    lb = pd.Series(last_basket["basket"].to_numpy(), index=last_basket["u"].to_numpy())
    in_last = ev["basket"].to_numpy() == lb.reindex(ev["u"].to_numpy()).to_numpy()
    in_last_pair = pd.Series(in_last).groupby(ev["pair"].to_numpy()).max().reindex(pairs)
    since = np.maximum(now - agg["last"].to_numpy(), 0.0)
    span = agg["last"].to_numpy() - agg["first"].to_numpy()
    no = n_orders.to_numpy(dtype=np.float64)
    ratio = np.maximum(since + 0.5 * horizon_days, 0.5) / cycle
    ln_ratio = np.log(ratio)
    X = np.column_stack(
        [
            np.log1p(no),
            no / np.maximum(u_orders, 1.0),
            no / (tenure + horizon_days),
            np.log1p(agg["qty"].to_numpy()),
            np.log1p(since),
            np.log1p(span),
            (n_int > 0).astype(np.float64),
            ln_ratio,
            ln_ratio**2,
            np.exp(-0.5 * ln_ratio**2),
            np.log1p(item_recent[pi]),
            np.log1p(item_pop[pi]),
            repeat_rate[pi],
            in_last_pair.to_numpy(dtype=np.float64),
        ]
    )
    stats = {"item_prior": item_prior_all, "global_prior": global_prior,
             "item_recent": item_recent, "item_pop": item_pop, "repeat_rate": repeat_rate}
    return pu, pi, X, stats


def _features_few(inter: pd.DataFrame, n_items: int, as_of: pd.Timestamp, horizon_days: float,
                  prior_strength: float, population: dict[str, Any],
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`repurchase_features` of a few users' rows against given item statistics.

    The same definitions with numpy sorts instead of pandas group-bys, whose
    fixed cost dominates for a handful of users (``recommend(...,
    recent_events=)``); every row of ``inter`` is a purchase. Equal to
    ``_features(..., population=population)`` (tested).
    """
    ts_all = inter[Columns.TIMESTAMP].to_numpy()
    keep = ts_all < np.datetime64(pd.Timestamp(as_of).to_datetime64(), "ns")
    n_f = len(FEATURE_NAMES)
    if not keep.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, n_f))
    u = inter[Columns.USER_IDX].to_numpy()[keep].astype(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy()[keep].astype(np.int64)
    t = _days(ts_all[keep])
    now = _days(np.asarray([pd.Timestamp(as_of).to_datetime64()]))[0]
    day = np.floor(t).astype(np.int64)
    qty = (np.nan_to_num(inter["quantity"].to_numpy(dtype=np.float64)[keep], nan=1.0)
           if "quantity" in inter.columns else np.ones(len(u)))
    basket = _baskets(inter, keep, day)
    pair = u * n_items + i
    pairs, inv = np.unique(pair, return_inverse=True)
    inv = inv.ravel()
    n_p = len(pairs)
    pu, pi = pairs // n_items, pairs % n_items
    last = np.full(n_p, -np.inf)
    first = np.full(n_p, np.inf)
    np.maximum.at(last, inv, t)
    np.minimum.at(first, inv, t)
    qsum = np.bincount(inv, weights=qty, minlength=n_p)
    bk = np.unique(np.column_stack([inv, basket]), axis=0)
    no = np.bincount(bk[:, 0], minlength=n_p).astype(np.float64)
    # distinct (pair, day), sorted: gaps within a pair, their median and count
    pd_ = np.unique(np.column_stack([inv, day]), axis=0)
    same = pd_[1:, 0] == pd_[:-1, 0]
    g_pair = pd_[1:, 0][same]
    g = np.diff(pd_[:, 1])[same].astype(np.float64)
    n_int = np.bincount(g_pair, minlength=n_p).astype(np.float64)
    med = np.zeros(n_p)
    if len(g):
        o = np.lexsort((g, g_pair))
        gs, gp = g[o], g_pair[o]
        st = group_starts(gp)
        cnt = np.diff(np.r_[st, len(gp)])
        med[gp[st]] = 0.5 * (gs[st + (cnt - 1) // 2] + gs[st + cnt // 2])
    global_prior = float(population["global_prior"])
    item_prior = np.asarray(population["item_prior"], dtype=np.float64)[pi]
    item_prior = np.where(np.isfinite(item_prior), item_prior, global_prior)
    cycle = (n_int * med + prior_strength * item_prior) / np.maximum(n_int + prior_strength, 1e-9)
    cycle = np.maximum(cycle, 1.0)
    users, u_inv = np.unique(u, return_inverse=True)
    u_inv = u_inv.ravel()
    ub = np.unique(np.column_stack([u_inv, basket]), axis=0)
    user_orders = np.bincount(ub[:, 0], minlength=len(users)).astype(np.float64)
    user_first = np.full(len(users), np.inf)
    np.minimum.at(user_first, u_inv, t)
    p_user = np.searchsorted(users, pu)
    u_orders = user_orders[p_user]
    tenure = now - user_first[p_user]
    # the user's latest basket: that of the first row with the user's latest time
    u_last = np.full(len(users), -np.inf)
    np.maximum.at(u_last, u_inv, t)
    rows = np.flatnonzero(t == u_last[u_inv])
    order = np.lexsort((rows, u_inv[rows]))
    r_sorted = rows[order]
    lb_row = r_sorted[group_starts(u_inv[r_sorted])]
    lb = np.empty(len(users), dtype=np.int64)
    lb[u_inv[lb_row]] = basket[lb_row]
    in_last = (basket == lb[u_inv]).astype(np.float64)
    in_last_pair = np.zeros(n_p)
    np.maximum.at(in_last_pair, inv, in_last)
    since = np.maximum(now - last, 0.0)
    span = last - first
    ratio = np.maximum(since + 0.5 * horizon_days, 0.5) / cycle
    ln_ratio = np.log(ratio)
    item_recent = np.asarray(population["item_recent"], dtype=np.float64)
    item_pop = np.asarray(population["item_pop"], dtype=np.float64)
    repeat_rate = np.asarray(population["repeat_rate"], dtype=np.float64)
    X = np.column_stack([
        np.log1p(no), no / np.maximum(u_orders, 1.0), no / (tenure + horizon_days),
        np.log1p(qsum), np.log1p(since), np.log1p(span), (n_int > 0).astype(np.float64),
        ln_ratio, ln_ratio**2, np.exp(-0.5 * ln_ratio**2), np.log1p(item_recent[pi]),
        np.log1p(item_pop[pi]), repeat_rate[pi], in_last_pair,
    ])
    return pu, pi, X


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _labels(inter: pd.DataFrame, n_items: int, start: pd.Timestamp, end: pd.Timestamp,
            pu: np.ndarray, pi: np.ndarray, use_purchases: bool) -> np.ndarray:
    """1 where pair (pu, pi) is bought in ``[start, end)``."""
    ts = inter[Columns.TIMESTAMP].to_numpy()
    m = (ts >= np.datetime64(start.to_datetime64(), "ns")) & (
        ts < np.datetime64(end.to_datetime64(), "ns"))
    m &= purchase_rows(inter, use_purchases)
    later = np.unique(
        inter[Columns.USER_IDX].to_numpy()[m].astype(np.int64) * n_items
        + inter[Columns.ITEM_IDX].to_numpy()[m].astype(np.int64)
    )
    return np.isin(pu * n_items + pi, later)


class RepurchaseRecommender(Recommender):
    """Buy-it-again model: ranks the items a user bought before by personal cycle and habit.

    Only items the user has bought are scored, so use it with
    ``recommend(..., filter_seen=False)`` (with ``filter_seen=True`` nothing
    is left to recommend). The score is the (learned or default-weighted)
    probability that the user buys the item again within ``horizon_days``
    after the end of the training data; see the module docstring for the
    features and the internal time-respecting split.

    Parameters
    ----------
    horizon_days : float, default 30
        Prediction window: "due soon" means due within this many days.
    learn : bool, default True
        Learn the feature weights with a logistic regression on the last
        ``horizon_days`` of the training data. Falls back to
        :data:`DEFAULT_WEIGHTS` when there are fewer than ``min_positives``
        repeat purchases to learn from.
    within_user : bool, default True
        Also feed each feature's deviation from the user's mean over their
        past items (``<feature>_vs_user``): the regression then learns how
        items compare *within* a user's list, which is what the ranking
        needs (+0.004 to +0.008 NDCG@10 on Online Retail).
    n_windows : int, default 1
        Number of consecutive ``horizon_days`` windows, going back from the
        end of the data, that provide training examples (features computed
        before each window, labels inside it).
    min_positives : int, default 30
        Repeat purchases needed in the validation window to learn weights.
    C : float, default 1.0
        Inverse L2 strength of the logistic regression (on standardised features).
    prior_strength : float, default 1.0
        Pseudo-intervals of the item's population cycle mixed into a user's
        personal cycle (items bought once get the population cycle).
    use_purchases : bool, default True
        Use purchase/order events only (all events when the data has none).
    fill : {"popular", "none"}, default "popular"
        What fills a list once the user's own past purchases run out:
        ``"popular"`` appends the items most bought in the last
        ``horizon_days`` (ties broken by all-time buyers) with scores in
        ``(-1, 0)``, always below every repurchase score (which are
        probabilities in ``(0, 1)``); ``"none"`` returns only past purchases
        (then ``filter_seen=True`` leaves nothing to recommend).
    random_state : int, optional
        Kept for the uniform interface; fitting is deterministic.

    Attributes
    ----------
    scores_ : scipy.sparse.csr_matrix
        ``n_users x n_items`` repurchase probabilities of the candidate pairs.
    coef_ : numpy.ndarray
        Weight per model input (on raw feature values), ``intercept_`` the bias.
    feature_names_ : list of str
        Names of the model inputs: :data:`FEATURE_NAMES`, then (with
        ``within_user``) ``"<name>_vs_user"``.
    learned_ : bool
        True when the weights were learned, False when defaults were used.
    as_of_ : str
        ISO time the scores refer to (last training event + 1 second).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> days = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-20",
    ...                        "2024-01-02"])
    >>> inter = pd.DataFrame({"user_id": [1, 1, 1, 1, 1],
    ...                       "item_id": ["coffee", "coffee", "coffee", "mug", "filter"],
    ...                       "timestamp": days})
    >>> model = RepurchaseRecommender(learn=False).fit(Dataset.from_frames(inter))
    >>> model.recommend([1], k=3, filter_seen=False)["item_id"].tolist()
    ['coffee', 'mug', 'filter']
    """

    learned_state = {
        "n_train_pairs_": Learned.value(int),
        "n_train_positives_": Learned.value(int),
        "coef_": Learned.array("f", "features"),
        "intercept_": Learned.value(float),
        "learned_": Learned.value(bool),
        "feature_names_": Learned.value(list),
        "as_of_": Learned.value(str),
        "scores_": Learned.sparse("f", "users", "items"),
        "fill_scores_": Learned.array("f", "items"),
        # for recommend(..., recent_events=): the purchase log (sorted by user) and
        # the fit-time item statistics the features of a refreshed user are set against
        **_PURCHASE_LOG_STATE,
        "item_population_": Learned.array("f", "items", 4, optional=True),
        "global_prior_": Learned.value(float, optional=True),
    }

    default_name = "repurchase"
    folds_recent_events = True

    def __init__(
        self,
        horizon_days: float = 30.0,
        learn: bool = True,
        within_user: bool = True,
        n_windows: int = 1,
        min_positives: int = 30,
        C: float = 1.0,
        prior_strength: float = 1.0,
        use_purchases: bool = True,
        fill: str = "popular",
        random_state: int | None = None,
    ) -> None:
        owner = "RepurchaseRecommender"
        self.horizon_days = check_number(horizon_days, "horizon_days", low=0,
                                         low_inclusive=False, owner=owner)
        self.learn = check_bool(learn, "learn", owner=owner)
        self.within_user = check_bool(within_user, "within_user", owner=owner)
        self.n_windows = check_int(n_windows, "n_windows", minimum=1, owner=owner)
        self.min_positives = check_int(min_positives, "min_positives", minimum=1, owner=owner)
        self.C = check_number(C, "C", low=0, low_inclusive=False, owner=owner)
        self.prior_strength = check_number(prior_strength, "prior_strength", low=0, owner=owner)
        self.use_purchases = check_bool(use_purchases, "use_purchases", owner=owner)
        self.fill = check_choice(fill, "fill", ("popular", "none"), owner=owner)
        self.random_state = random_state if random_state is None else check_int(
            random_state, "random_state", minimum=0, owner=owner)

    # ------------------------------------------------------------------ fit
    def _features(self, inter: pd.DataFrame, n_items: int, as_of: pd.Timestamp):
        return repurchase_features(
            inter, n_items, as_of, horizon_days=self.horizon_days,
            prior_strength=self.prior_strength, use_purchases=self.use_purchases,
        )

    def _design(self, pu: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Model inputs: the features, plus (``within_user``) their deviation from the user's mean."""
        if not self.within_user:
            return X
        if len(pu) == 0:
            return np.hstack([X, X])
        means = pd.DataFrame(X).groupby(pu).transform("mean").to_numpy()
        return np.hstack([X, X - means])

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        inter = dataset.internal_interactions
        n_items = dataset.n_items
        as_of = dataset.time_range[1] + pd.Timedelta(seconds=1)
        names = list(FEATURE_NAMES)
        if self.within_user:
            names += [f"{n}_vs_user" for n in FEATURE_NAMES]
        coef = np.array([DEFAULT_WEIGHTS.get(n, 0.0) for n in names])
        intercept = -3.0
        learned = False
        self.n_train_pairs_ = 0
        self.n_train_positives_ = 0
        if self.learn:
            xs, ys = [], []
            for w in range(self.n_windows):
                end = as_of - pd.Timedelta(days=w * self.horizon_days)
                cut = end - pd.Timedelta(days=self.horizon_days)
                pu, pi, X = self._features(inter, n_items, cut)
                if len(pu):
                    xs.append(self._design(pu, X))
                    ys.append(_labels(inter, n_items, cut, end, pu, pi, self.use_purchases))
            if xs:
                X, y = np.vstack(xs), np.concatenate(ys)
                self.n_train_pairs_ = int(len(y))
                self.n_train_positives_ = int(y.sum())
                if y.sum() >= self.min_positives and (~y).sum() >= self.min_positives:
                    coef, intercept = _fit_logistic(X, y, self.C)
                    learned = True
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.learned_ = learned
        self.feature_names_ = names
        self.as_of_ = as_of.isoformat()
        pu, pi, X, stats = _features(inter, n_items, as_of, self.horizon_days,
                                     self.prior_strength, self.use_purchases, None)
        self.scores_ = self._scores_of(pu, pi, X, (dataset.n_users, n_items))
        self.fill_scores_ = self._popular_fill(inter, n_items, as_of)
        self.item_population_ = np.column_stack([stats[k] for k in _POPULATION_KEYS])
        self.global_prior_ = float(stats["global_prior"])
        self.purchases_, self.order_ids_, self.purchases_only_ = _purchase_log(
            inter, self.use_purchases)
        self._order_index = None

    def _popular_fill(self, inter: pd.DataFrame, n_items: int, as_of: pd.Timestamp) -> np.ndarray:
        """Scores in (-1, 0) from recent then all-time buyers; -inf for never-bought items."""
        out = np.full(n_items, -np.inf)
        if self.fill == "none":
            return out
        keep = purchase_rows(inter, self.use_purchases)
        u = inter[Columns.USER_IDX].to_numpy()[keep].astype(np.int64)
        i = inter[Columns.ITEM_IDX].to_numpy()[keep].astype(np.int64)
        ts = inter[Columns.TIMESTAMP].to_numpy()[keep]
        recent = ts >= np.datetime64((as_of - pd.Timedelta(days=self.horizon_days)).to_datetime64(),
                                     "ns")
        pairs = u * n_items + i
        total = np.bincount(np.unique(pairs) % n_items, minlength=n_items).astype(np.float64)
        rec = np.bincount(np.unique(pairs[recent]) % n_items, minlength=n_items).astype(np.float64)
        key = rec + total / (total.max() + 1.0) if len(total) else total
        ok = total > 0
        out[ok] = -1.0 + key[ok] / (key.max() + 1.0)
        return out

    def _pair_scores(self, inter: pd.DataFrame, n_users: int, n_items: int,
                     as_of: pd.Timestamp) -> sp.csr_matrix:
        pu, pi, X = self._features(inter, n_items, as_of)
        return self._scores_of(pu, pi, X, (n_users, n_items))

    def _scores_of(self, pu: np.ndarray, pi: np.ndarray, X: np.ndarray,
                   shape: tuple[int, int]) -> sp.csr_matrix:
        p = _sigmoid(self._design(pu, X) @ self.coef_ + self.intercept_)
        p = np.maximum(p, 1e-12)  # keep every candidate a stored (non-zero) entry
        return sp.csr_matrix((p, (pu, pi)), shape=shape, dtype=np.float64)

    def feature_frame(self, dataset: Dataset, user_ids: Any = None) -> pd.DataFrame:
        """Features and score of each (user, item) candidate pair, for inspection.

        Parameters
        ----------
        dataset : Dataset
            The data to compute features on (usually the training Dataset);
            the reference time is its last event + 1 second.
        user_ids : array-like, optional
            Restrict to these external user ids.

        Returns
        -------
        pandas.DataFrame
            Columns ``user_id, item_id``, one column per feature in
            :data:`FEATURE_NAMES`, and ``score`` (the repurchase probability);
            sorted by user then descending score.
        """
        self._check_fitted()
        inter = dataset.internal_interactions
        as_of = dataset.time_range[1] + pd.Timedelta(seconds=1)
        pu, pi, X = self._features(inter, dataset.n_items, as_of)
        frame = pd.DataFrame(X, columns=list(FEATURE_NAMES))
        frame.insert(0, Columns.ITEM, dataset.item_map.to_external(pi))
        frame.insert(0, Columns.USER, dataset.user_map.to_external(pu))
        frame[Columns.SCORE] = _sigmoid(self._design(pu, X) @ self.coef_ + self.intercept_)
        if user_ids is not None:
            keep = dataset.user_map.to_internal(user_ids, strict=False)
            frame = frame.loc[np.isin(pu, keep[keep >= 0])]
        frame["_u"] = pu[frame.index.to_numpy()]
        frame = frame.sort_values(["_u", Columns.SCORE], ascending=[True, False], kind="stable")
        return frame.drop(columns="_u").reset_index(drop=True)

    def explain(self, recommendations: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
        """Add the purchase history behind each row, in readable units.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend`.
        dataset : Dataset
            The Dataset the recommendations were computed from (usually the
            training data).

        Returns
        -------
        pandas.DataFrame
            A copy with ``n_orders`` (orders with the item), ``days_since``
            (days since the last purchase of it), ``cycle_days`` (the personal
            repurchase cycle) and ``due`` (0-1, 1 = due within the horizon);
            NaN for rows that are not past purchases (fill rows).
        """
        from .._validation import check_frame

        self._check_fitted()
        check_frame(recommendations, "recommendations", (Columns.USER, Columns.ITEM),
                    allow_empty=True)
        feats = self.feature_frame(dataset)
        n_orders = np.expm1(feats["ln_orders"].to_numpy())
        since = np.expm1(feats["ln_since"].to_numpy())
        ratio = np.exp(feats["ln_ratio"].to_numpy())
        info = pd.DataFrame({
            Columns.USER: feats[Columns.USER].to_numpy(),
            Columns.ITEM: feats[Columns.ITEM].to_numpy(),
            "n_orders": np.rint(n_orders),
            "days_since": since,
            "cycle_days": (since + 0.5 * self.horizon_days) / ratio,
            "due": feats["due"].to_numpy(),
        })
        return recommendations.merge(info, on=[Columns.USER, Columns.ITEM], how="left")

    # -------------------------------------------------------------- scoring
    def _sparse_scores(self, user_idx: np.ndarray, request: RecommendRequest) -> sp.csr_matrix:
        """The users' past purchases (features recomputed for users with recent events)."""
        mat = self.scores_ if request.dataset is None else self._context_scores(request)
        return _rows_with_recent(mat, user_idx, request, self._recent_scores)

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return _dense(self._sparse_scores(user_idx, request), len(self.item_map_))

    def _fill_scores(self, request: RecommendRequest) -> np.ndarray | None:
        """``fill="popular"``: the fit-time recent-then-all-time buyers, below the past purchases."""
        return None if self.fill == "none" else self.fill_scores_

    def _recent_scores(self, request: RecommendRequest) -> sp.csr_matrix:
        """Pair scores of the users with ``recent_events`` (rows: ``request.recent.users``).

        The features of each such user are recomputed from the fit-time
        purchase log plus the recent purchases, at ``max(as_of_, last recent
        event + 1 s)``, against the fit-time item statistics, and scored with
        the fitted weights: no refit, nothing stored on the model.
        """
        cached = request.cache.get("repurchase_recent")
        if cached is not None:
            return cached
        inter, n_old = _log_with_recent(self, request)
        rec = request.recent
        as_of = pd.Timestamp(self.as_of_)
        if len(inter) > n_old:
            as_of = max(as_of, inter[Columns.TIMESTAMP].iloc[n_old:].max()
                        + pd.Timedelta(seconds=1))
        pop = dict(zip(_POPULATION_KEYS, self.item_population_.T))
        pop["global_prior"] = self.global_prior_
        n_items = len(self.item_map_)
        inter = inter.drop(columns=[Columns.EVENT], errors="ignore")
        if len(rec.users) <= 256:  # numpy path: no group-by fixed cost (same values)
            pu, pi, X = _features_few(inter, n_items, as_of, self.horizon_days,
                                      self.prior_strength, pop)
        else:
            pu, pi, X, _ = _features(inter, n_items, as_of, self.horizon_days,
                                     self.prior_strength, False, pop)
        mat = self._scores_of(np.searchsorted(rec.users, pu), pi, X, (len(rec.users), n_items))
        request.cache["repurchase_recent"] = mat
        return mat

    def _context_scores(self, request: RecommendRequest) -> sp.csr_matrix:
        """Pair scores of the request's dataset, computed once per recommend call."""
        cached = request.cache.get("repurchase_scores")
        if cached is not None:
            return cached
        dataset = request.dataset
        inter = dataset.internal_interactions
        remap = self.item_map_.to_internal(dataset.item_map.external_ids, strict=False)
        items = remap[inter[Columns.ITEM_IDX].to_numpy()]
        ok = items >= 0
        inter = inter.loc[ok].assign(item_idx=items[ok])
        as_of = dataset.time_range[1] + pd.Timedelta(seconds=1)
        mat = self._pair_scores(inter, dataset.n_users, len(self.item_map_), as_of)
        request.cache["repurchase_scores"] = mat
        return mat


_TIE_BREAKS = ("popularity", "recency")


def _order_counts(inter: pd.DataFrame, n_users: int, n_items: int, use_purchases: bool,
                  tie_break: str) -> sp.csr_matrix:
    """Distinct orders per (user, item) plus a tie-break in ``[0, 1)``, as a CSR matrix.

    An order is an ``order_id`` when the column exists (missing ids: one order
    per day), else a calendar day. The tie-break is the item's share of
    distinct buyers (``"popularity"``) or how recently the user last bought it
    (``"recency"``: 0 at the first event of the log, just below 1 at the last).
    """
    keep = purchase_rows(inter, use_purchases)
    u = inter[Columns.USER_IDX].to_numpy()[keep].astype(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy()[keep].astype(np.int64)
    ts = inter[Columns.TIMESTAMP].to_numpy()[keep].astype("datetime64[ns]").astype(np.int64)
    basket = _baskets(inter, keep, ts // DAY_NS)
    pu, pi, n_orders, last = _pair_orders(u, i, ts // 10**9, basket, n_items)
    if tie_break == "popularity":
        context = np.bincount(pi, minlength=n_items).astype(np.float64)
    else:
        sec = ts // 10**9
        context = np.array([sec.min(), sec.max()]) if len(sec) else np.zeros(2, np.int64)
    score = n_orders + _tie(pi, last, tie_break, context)
    return sp.csr_matrix((score, (pu, pi)), shape=(n_users, n_items), dtype=np.float64)


def _pair_orders(u: np.ndarray, i: np.ndarray, sec: np.ndarray, basket: np.ndarray,
                 n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (user, item) pair, sorted: user, item, distinct baskets (float), last second."""
    pb = pd.DataFrame({"pair": u * n_items + i, "basket": basket, "s": sec})
    grouped = pb.groupby("pair", sort=True)
    n_orders = pb.drop_duplicates(["pair", "basket"]).groupby("pair", sort=True).size()
    keys = n_orders.index.to_numpy(dtype=np.int64)
    pu, pi = np.divmod(keys, n_items)
    return pu, pi, n_orders.to_numpy(dtype=np.float64), grouped["s"].max().to_numpy()


def _tie(pi: np.ndarray, last: np.ndarray, tie_break: str, context: np.ndarray) -> np.ndarray:
    """The buy-again tie-break in ``[0, 1)`` of each pair.

    ``context`` is the distinct buyers per item (``"popularity"``) or the
    first and last second of the whole log (``"recency"``: seconds are exact
    in float64 for any realistic span).
    """
    if not len(pi):
        return np.zeros(0)
    if tie_break == "popularity":
        return context[pi] / (context.max() + 1.0)
    lo, hi = context
    return (last - lo).astype(np.float64) / (float(hi - lo) + 1.0)


class BuyAgainRecommender(Recommender):
    """Plain buy-again: a user's past items by number of distinct orders.

    The classic e-commerce baseline that :class:`RepurchaseRecommender`
    refines with a learned model. It has no parameters to learn, so it stays
    strong where the repurchase model has too few repeat purchases to learn
    from (small shops, short logs); the flagship uses both as candidate
    generators and serves whichever wins on its internal split.

    Parameters
    ----------
    tie_break : {"popularity", "recency"}, default "popularity"
        Order among items bought in as many orders: more distinct buyers
        first, or the user's most recently bought first.
    use_purchases : bool, default True
        Count purchase/order events only (every event when the log has none).
    fill : {"none", "popular"}, default "none"
        ``"popular"`` appends the items with the most distinct buyers after
        the user's own items (scores in ``(-1, 0)``); ``"none"`` returns past
        purchases only (with ``filter_seen=True`` nothing is left).

    Attributes
    ----------
    scores_ : scipy.sparse.csr_matrix
        ``n_users x n_items``: orders with the item plus the tie-break in ``[0, 1)``.
    fill_scores_ : numpy.ndarray
        Score per item for non-purchased items (``-inf`` without fill).
    purchases_ : pandas.DataFrame
        The purchase rows read at fit (sorted by user), kept for
        ``recommend(..., recent_events=)``: a user's recent purchases are
        counted with that log, and the result equals a refit on the fit data
        plus the recent events (``docs/models.md``, "Real-time updates").

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["tea", "tea", "mug", "mug"],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01",
    ...                                                    "2024-02-01", "2024-02-03"])})
    >>> model = BuyAgainRecommender().fit(Dataset.from_frames(inter))
    >>> model.recommend([1], k=3, filter_seen=False)[["item_id", "score"]]
      item_id     score
    0     tea  2.333333
    1     mug  1.666667
    """

    learned_state = {
        "scores_": Learned.sparse("f", "users", "items"),
        "fill_scores_": Learned.array("f", "items"),
        **_PURCHASE_LOG_STATE,  # for recommend(..., recent_events=)
    }

    default_name = "buy_again"
    folds_recent_events = True

    def __init__(self, tie_break: str = "popularity", use_purchases: bool = True,
                 fill: str = "none") -> None:
        owner = "BuyAgainRecommender"
        self.tie_break = check_choice(tie_break, "tie_break", _TIE_BREAKS, owner=owner)
        self.use_purchases = check_bool(use_purchases, "use_purchases", owner=owner)
        self.fill = check_choice(fill, "fill", ("none", "popular"), owner=owner)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        inter = dataset.internal_interactions
        self.scores_ = _order_counts(inter, dataset.n_users, dataset.n_items,
                                     self.use_purchases, self.tie_break)
        self.fill_scores_ = self._fill_of(np.bincount(self.scores_.indices,
                                                       minlength=dataset.n_items))
        self.purchases_, self.order_ids_, self.purchases_only_ = _purchase_log(
            inter, self.use_purchases)
        self._order_index = None

    def _sparse_scores(self, user_idx: np.ndarray, request: RecommendRequest) -> sp.csr_matrix:
        """The users' own items: a sparse matrix, no dense scores."""
        return self._rows(user_idx, request)

    def _fill_of(self, buyers: np.ndarray) -> np.ndarray:
        """Fill scores in ``(-1, 0)`` by distinct buyers (``-inf``: never bought, or no fill)."""
        out = np.full(len(buyers), -np.inf)
        if self.fill == "popular":
            buyers = buyers.astype(np.float64)
            ok = buyers > 0
            out[ok] = -1.0 + buyers[ok] / (buyers.max() + 1.0)
        return out

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return _dense(self._rows(user_idx, request), len(self.item_map_))

    def _fill_scores(self, request: RecommendRequest) -> np.ndarray | None:
        """``fill="popular"``: items by distinct buyers (recent purchases added), below own items."""
        if self.fill == "none":
            return None
        if request.recent is not None and len(request.recent.users):
            self._recent_matrix(request)  # the buyers with the recent purchases added
            return self._fill_of(request.cache["buy_again_buyers"])
        return self.fill_scores_

    def _rows(self, user_idx: np.ndarray, request: RecommendRequest) -> sp.csr_matrix:
        """Score rows of the users: fitted (or of ``dataset=``), recomputed with recent events."""
        return _rows_with_recent(self._matrix(request), user_idx, request, self._recent_matrix)

    def _recent_matrix(self, request: RecommendRequest) -> sp.csr_matrix:
        """Scores of the users with ``recent_events`` (rows: ``request.recent.users``).

        Their distinct orders per item are counted again on the fit-time
        purchase log plus the recent purchases, and the tie-break is set
        against the whole log with those purchases added (the items' distinct
        buyers, or its first and last second): the rows equal those of a
        refit on the fit data plus the recent events. The distinct buyers
        with those purchases (the ``fill="popular"`` order) are left in
        ``request.cache["buy_again_buyers"]``.
        """
        cached = request.cache.get("buy_again_recent")
        if cached is not None:
            return cached
        inter, n_old = _log_with_recent(self, request)
        rec, n_items = request.recent, len(self.item_map_)
        ts = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]").astype(np.int64)
        basket = _baskets(inter, np.ones(len(inter), dtype=bool), ts // DAY_NS)
        u = inter[Columns.USER_IDX].to_numpy().astype(np.int64)
        i = inter[Columns.ITEM_IDX].to_numpy().astype(np.int64)
        pu, pi, n_orders, last = _pair_orders(u, i, ts // 10**9, basket, n_items)
        # the items' distinct buyers: the fit-time ones plus the new (user, item) pairs
        added = ~np.isin(pu * n_items + pi, u[:n_old] * n_items + i[:n_old])
        buyers = (np.bincount(self.scores_.indices, minlength=n_items)
                  + np.bincount(pi[added], minlength=n_items))
        if self.tie_break == "popularity":
            context = buyers.astype(np.float64)
        else:  # the log's first and last second, moved by the recent purchases
            sec = self.purchases_[Columns.TIMESTAMP].to_numpy().astype(
                "datetime64[ns]").astype(np.int64) // 10**9
            sec = np.r_[sec, ts[n_old:] // 10**9]
            context = np.array([sec.min(), sec.max()]) if len(sec) else np.zeros(2, np.int64)
        score = n_orders + _tie(pi, last, self.tie_break, context)
        mat = sp.csr_matrix((score, (np.searchsorted(rec.users, pu), pi)),
                            shape=(len(rec.users), n_items), dtype=np.float64)
        request.cache["buy_again_buyers"] = buyers
        request.cache["buy_again_recent"] = mat
        return mat

    def _matrix(self, request: RecommendRequest) -> sp.csr_matrix:
        if request.dataset is None:
            mat = self.scores_
        else:
            mat = request.cache.get("buy_again_scores")
            if mat is None:
                ds = request.dataset
                inter = ds.internal_interactions
                remap = self.item_map_.to_internal(ds.item_map.external_ids, strict=False)
                items = remap[inter[Columns.ITEM_IDX].to_numpy()]
                ok = items >= 0
                mat = _order_counts(inter.loc[ok].assign(item_idx=items[ok]), ds.n_users,
                                    len(self.item_map_), self.use_purchases, self.tie_break)
                request.cache["buy_again_scores"] = mat
        return mat


def _fit_logistic(X: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    """Fit a standardised L2 logistic regression; return weights on the raw features."""
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-12] = 1.0
    Z = (X - mean) / scale
    lr = LogisticRegression(C=C, max_iter=2000)
    with limit_blas_threads():  # many BLAS threads on tiny products are 5x slower
        lr.fit(Z, y.astype(np.int64))
    w = lr.coef_[0] / scale
    b = float(lr.intercept_[0] - np.sum(lr.coef_[0] * mean / scale))
    return w, b

"""The flagship :class:`PersonaRecommender`.

How it works
------------
1. **Candidates** for a user with interactions (hot): the ``n_candidates``
   best items of an EASE item-item model, plus every item the user already
   interacted with (people buy the same things again).
2. **Features** of each (user, item) candidate, all computed from the data
   before a reference time: the EASE score and its within-user z-score; the
   user's own history with the item (occasions, time-decayed count, days since
   the last and first occasion, personal interval and "due-ness"); item
   momentum (distinct users overall and in the last ``window_days``, trend,
   repeat rate, age); user activity (occasions, days since last, span, rate);
   the user's affinity to the item's top-level category; the attribute
   model's score; and, on purchase logs, the calibrated probability of a
   :class:`~persona_rec.models.RepurchaseRecommender` that the user buys a
   past item again within ``window_days``.
3. **A learned ranker** (gradient-boosted trees) turns those features into
   the probability that the user interacts with the item next. It is trained
   on an internal, time-respecting validation split of the training data, so
   it learns how much weight repeat behaviour, recency, collaborative signal
   and popularity deserve on *this* dataset (ratings or purchase log) without
   hand-tuning:

   * purchase logs (many repeated user-item pairs): ``n_windows`` windows of
     ``window_days``; features at the start of a window, labels inside it;
   * ratings-like data (few repeats): each user's last ``holdout_fraction`` of
     interactions by time are the labels.

   When ``filter_seen=True`` a second ranker trained on unseen candidates only
   is used (what matters is which new items come next).
4. **Fallback chain.** Attribute-only (warm) users are scored by a ridge
   regression from their attributes to items (learned on hot users);
   unknown (cold) users get popularity (recent-window popularity on purchase
   logs). The ``source`` column says which link served each row:
   ``persona:ranker``, ``persona:attributes`` or ``persona:popular``.

:meth:`PersonaRecommender.explain` adds a human-readable reason and the
user's matching profile tags to every row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._text import category_parts
from .._validation import check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError, NotFittedError
from ._features import user_attribute_features
from ._threads import limit_blas_threads
from ._trees import TreeEnsemble
from .base import Recommender
from .ease import EASERecommender

__all__ = ["PersonaRecommender", "RANKER_FEATURES"]

_DAY_NS = 86_400 * 10**9

#: Names of the ranker's features, in column order.
RANKER_FEATURES: tuple[str, ...] = (
    "ease", "ease_z", "ease_rank", "seen", "occasions", "decayed", "days_since_last",
    "days_since_first", "interval", "due", "u_occasions", "u_days_since_last", "u_items",
    "u_span", "u_rate", "i_users", "i_users_recent", "i_trend", "i_repeat", "i_age",
    "cat_affinity", "attr_score", "repurchase_prob",
)

#: Features that only mean something relative to a global "now". On
#: ratings-like data the internal split is per-user (each user's own latest
#: interactions), so these are masked there: they would teach the ranker a
#: global-time pattern that does not hold for per-user labels.
_TIME_FEATURES = np.array([RANKER_FEATURES.index(n) for n in (
    "days_since_last", "days_since_first", "interval", "due", "u_days_since_last", "u_span",
    "u_rate", "i_users_recent", "i_trend", "i_age", "decayed")])

SOURCE_RANKER = "persona:ranker"
SOURCE_ATTRIBUTES = "persona:attributes"
SOURCE_POPULAR = "persona:popular"


def _day(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[ns]").astype(np.int64) // _DAY_NS


def _csr_lookup(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values ``m[rows[k], cols[k]]`` (0 where absent), vectorised."""
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(m[rows, cols]).ravel()


_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _category_slugs(categories: pd.Series, levels: int | None = None) -> np.ndarray:
    """Slug path (``"home/kitchen_dining"``, as in interest tag ids) per item; None if missing."""
    codes, uniques = pd.factorize(categories, use_na_sentinel=True)
    slugs = np.array([None] + ["/".join(category_parts(c)[:levels]) or None for c in uniques],
                     dtype=object)
    return slugs[codes + 1]


def _group_z(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Z-score ``values`` within each group (vectorised)."""
    _, inv = np.unique(group, return_inverse=True)
    cnt = np.bincount(inv).astype(float)
    mean = np.bincount(inv, values) / cnt
    var = np.bincount(inv, (values - mean[inv]) ** 2) / cnt
    return (values - mean[inv]) / (np.sqrt(var[inv]) + 1e-9)


def _ndcg_at_10(score: np.ndarray, label: np.ndarray, group: np.ndarray,
                n_labels: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over groups with labels (ideal DCG from ``n_labels`` per row's group)."""
    order = np.lexsort((-score, group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    pos = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    top = pos < k
    disc = 1.0 / np.log2(pos + 2.0)
    _, inv = np.unique(g, return_inverse=True)
    dcg = np.bincount(inv, np.where(top & label[order], disc, 0.0))
    nl = np.minimum(np.bincount(inv, n_labels[order]) / np.bincount(inv), k).astype(int)
    ideal = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))]
    ok = nl > 0
    return float((dcg[ok] / ideal[nl[ok]]).mean()) if ok.any() else 0.0


class _State:
    """Statistics of the data before a reference day, used to build features."""

    def __init__(self, dataset: Dataset, as_of_day: int, window_days: float,
                 half_life_days: float, item_l1: np.ndarray | None) -> None:
        inter = dataset.internal_interactions
        nu, ni = dataset.n_users, dataset.n_items
        u = inter["user_idx"].to_numpy(np.int64)
        i = inter["item_idx"].to_numpy(np.int64)
        day = _day(inter[Columns.TIMESTAMP].to_numpy())
        # one "occasion" = a (user, item, day) triple
        key = (u * ni + i) * 100_000 + (day - day.min() if len(day) else day)
        _, first = np.unique(key, return_index=True)
        u, i, day = u[first], i[first], day[first]
        shape = (nu, ni)
        self.as_of = as_of_day
        ones = np.ones(len(u))
        self.occasions = sp.csr_matrix((ones, (u, i)), shape=shape)
        self.decayed = sp.csr_matrix((0.5 ** ((as_of_day - day) / half_life_days), (u, i)),
                                     shape=shape)
        pair = pd.DataFrame({"p": u * ni + i, "d": day}).groupby("p")["d"].agg(["min", "max"])
        pu, pi = np.divmod(pair.index.to_numpy(), ni)
        # store days + 1 so that day 0 is not an implicit zero
        self.last = sp.csr_matrix((pair["max"].to_numpy() - day.min() + 1.0, (pu, pi)),
                                  shape=shape) if len(day) else sp.csr_matrix(shape)
        self.first = sp.csr_matrix((pair["min"].to_numpy() - day.min() + 1.0, (pu, pi)),
                                   shape=shape) if len(day) else sp.csr_matrix(shape)
        self.day0 = int(day.min()) if len(day) else as_of_day
        self.u_occ = np.bincount(u, minlength=nu).astype(float)
        self.u_last = np.full(nu, np.nan)
        self.u_first = np.full(nu, np.nan)
        if len(u):
            udf = pd.DataFrame({"u": u, "d": day}).groupby("u")["d"].agg(["min", "max"])
            self.u_last[udf.index] = udf["max"]
            self.u_first[udf.index] = udf["min"]
        binary = self.occasions.copy()
        binary.data[:] = 1.0
        self.u_items = np.asarray(binary.sum(axis=1)).ravel()
        self.i_users = np.asarray(binary.sum(axis=0)).ravel()
        recent = day >= as_of_day - window_days
        self.i_users_recent = np.bincount(i[recent], minlength=ni).astype(float)
        span_days = max(1.0, float(as_of_day - self.day0))
        self.i_trend = self.i_users_recent / (self.i_users * window_days / span_days + 1.0)
        repeat_pairs = self.occasions.copy()
        repeat_pairs.data = (repeat_pairs.data >= 2).astype(float)
        self.i_repeat = np.asarray(repeat_pairs.sum(axis=0)).ravel() / np.maximum(self.i_users, 1)
        self.i_first = np.full(ni, np.nan)
        if len(i):
            idf = pd.Series(day).groupby(i).min()
            self.i_first[idf.index.to_numpy()] = idf.to_numpy()
        self.item_l1 = item_l1
        if item_l1 is not None and len(u):
            n_cat = int(item_l1.max()) + 1
            ok = item_l1[i] >= 0
            uc = sp.csr_matrix((np.ones(int(ok.sum())), (u[ok], item_l1[i][ok])),
                               shape=(nu, n_cat))
            tot = np.maximum(np.asarray(uc.sum(axis=1)).ravel(), 1)
            self.user_cat = sp.diags(1.0 / tot) @ uc
        else:
            self.user_cat = None
        self.history = binary.tocsr()


class PersonaRecommender(Recommender):
    """Profile-aware hybrid recommender with a learned ranker and a fallback chain.

    ``PersonaRecommender(random_state=0).fit(dataset)`` builds everything it
    needs (see the module docstring for the method): EASE candidates, a
    gradient-boosted ranker over collaborative, repeat-purchase, recency,
    popularity and affinity features tuned on an internal time-respecting
    split, a ridge attributes-to-items model for attribute-only users and
    popularity for unknown users.

    Parameters
    ----------
    random_state : int, default 0
        Seed of the ranker.
    n_candidates : int, default 100
        EASE candidates per user (the user's own past items are added).
    ease_regularization : float, default 200.0
        L2 penalty of the EASE candidate model.
    window_days : float, default 30.0
        Length of a validation window (purchase logs) and of the "recent"
        popularity window.
    n_windows : int, default 3
        Number of validation windows stacked to train the ranker (purchase logs).
    holdout_fraction : float, default 0.2
        Share of each user's latest interactions used as labels (ratings-like data).
    repeat_threshold : float, default 0.05
        Share of user-item pairs seen on two or more days above which the data
        is treated as a purchase log.
    half_life_days : float, default 90.0
        Half-life of the time-decayed count feature.
    ranker_iterations : int, default 100
        Boosting iterations of the ranker.
    warm_regularization : float, default 30.0
        L2 penalty of the attributes-to-items ridge for attribute-only users.
    use_sensitive : bool, default False
        Whether sensitive user attributes (age, gender, ...) may be used for
        attribute-only users. Off by default (privacy by design).
    max_ease_items : int, default 15000
        At most this many most popular items enter EASE (memory guard:
        about ``3 * m^2 * 8`` bytes); the other items can still be recommended
        through repeat and popularity features.

    Attributes
    ----------
    mode_ : str
        ``"purchase_log"`` or ``"ratings"``, as detected from repeats.
    ranker_all_, ranker_new_ : TreeEnsemble
        Rankers for ``filter_seen=False`` and ``filter_seen=True``.
    validation_ : dict
        Sizes of the internal training set (candidates, positives, windows).

    Examples
    --------
    >>> from persona_rec.datasets import synthetic
    >>> data = synthetic(n_users=300, n_items=120, n_events=12_000, random_state=0)
    >>> model = PersonaRecommender(random_state=0, ranker_iterations=30).fit(data.dataset)
    >>> reco = model.recommend(data.dataset.user_map.external_ids[:2], k=3)
    >>> reco.columns.tolist()
    ['user_id', 'item_id', 'score', 'rank', 'source']
    """

    serves_hot = True
    serves_warm = True
    serves_cold = True
    default_name = "persona"

    def __init__(
        self,
        random_state: int = 0,
        n_candidates: int = 100,
        ease_regularization: float = 200.0,
        window_days: float = 30.0,
        n_windows: int = 3,
        holdout_fraction: float = 0.2,
        repeat_threshold: float = 0.05,
        half_life_days: float = 90.0,
        ranker_iterations: int = 100,
        warm_regularization: float = 30.0,
        use_sensitive: bool = False,
        max_ease_items: int = 15000,
    ) -> None:
        owner = "PersonaRecommender"
        self.random_state = check_int(random_state, "random_state", minimum=0, owner=owner)
        self.n_candidates = check_int(n_candidates, "n_candidates", minimum=1, owner=owner)
        self.ease_regularization = check_number(ease_regularization, "ease_regularization",
                                                low=0, low_inclusive=False, owner=owner)
        self.window_days = check_number(window_days, "window_days", low=0,
                                        low_inclusive=False, owner=owner)
        self.n_windows = check_int(n_windows, "n_windows", minimum=1, owner=owner)
        self.holdout_fraction = check_number(holdout_fraction, "holdout_fraction", low=0,
                                             high=1, low_inclusive=False, high_inclusive=False,
                                             owner=owner)
        self.repeat_threshold = check_number(repeat_threshold, "repeat_threshold", low=0,
                                             high=1, owner=owner)
        self.half_life_days = check_number(half_life_days, "half_life_days", low=0,
                                           low_inclusive=False, owner=owner)
        self.ranker_iterations = check_int(ranker_iterations, "ranker_iterations", minimum=1,
                                           owner=owner)
        self.warm_regularization = check_number(warm_regularization, "warm_regularization",
                                                low=0, low_inclusive=False, owner=owner)
        if not isinstance(use_sensitive, bool):
            raise InvalidParameterError(
                f"The 'use_sensitive' parameter of {owner} must be a bool, got {use_sensitive!r}."
            )
        self.use_sensitive = use_sensitive
        self.max_ease_items = check_int(max_ease_items, "max_ease_items", minimum=2, owner=owner)

    # ------------------------------------------------------------------ fit
    def _item_l1(self, dataset: Dataset) -> np.ndarray | None:
        attrs = dataset.item_attributes()
        if "category" not in attrs.columns:
            return None
        return pd.factorize(_category_slugs(attrs["category"], levels=1))[0].astype(np.int64)

    def _fit_ease(self, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
        pop = np.bincount(dataset.internal_interactions["item_idx"].to_numpy(),
                          minlength=dataset.n_items)
        active = np.flatnonzero(pop > 0)
        if len(active) > self.max_ease_items:
            active = active[np.argsort(-pop[active], kind="stable")[: self.max_ease_items]]
            dataset = dataset.filter_items(dataset.item_map.to_external(active))
        ease = EASERecommender(regularization=self.ease_regularization,
                               max_memory_gb=64.0).fit(dataset)
        return ease.active_items_, ease.weights_

    def _candidates(self, state: _State, users: np.ndarray, active: np.ndarray,
                    weights: np.ndarray, include_seen: bool,
                    attr: tuple[sp.csr_matrix, np.ndarray],
                    repurchase: Any = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Candidate pairs of ``users`` and their feature matrix."""
        n_items = state.history.shape[1]
        hist = state.history[users]
        with limit_blas_threads():
            e_act = np.asarray(hist[:, active] @ weights, dtype=np.float64)
        ease = np.zeros((len(users), n_items))
        ease[:, active] = e_act
        pool = e_act
        if not include_seen:  # the user's own items cannot be recommended: pick among the rest
            pool = e_act.copy()
            seen_act = hist[:, active].tocoo()
            pool[seen_act.row, seen_act.col] = -np.inf
        n_c = min(self.n_candidates, len(active))
        part = np.argpartition(-pool, n_c - 1, axis=1)[:, :n_c] if n_c else \
            np.zeros((len(users), 0), dtype=np.int64)
        if not include_seen:
            keep_c = np.isfinite(np.take_along_axis(pool, part, axis=1)).ravel()
        else:
            keep_c = np.ones(part.size, dtype=bool)
        rows = [np.repeat(np.arange(len(users)), n_c)[keep_c]]
        cols = [active[part.ravel()][keep_c]]
        if include_seen:
            coo = hist.tocoo()
            rows.append(coo.row)
            cols.append(coo.col)
        r = np.concatenate(rows).astype(np.int64)
        c = np.concatenate(cols).astype(np.int64)
        pair = np.unique(r * n_items + c)
        r, c = np.divmod(pair, n_items)
        u = users[r]
        mu = e_act.mean(axis=1)
        sd = e_act.std(axis=1) + 1e-9
        e = ease[r, c]
        # rank of the candidate's EASE score among the user's candidates
        order = np.lexsort((-e, r))
        rank = np.empty(len(r))
        starts = np.r_[0, np.flatnonzero(np.diff(r[order])) + 1]
        pos = np.arange(len(r)) - np.repeat(starts, np.diff(np.r_[starts, len(r)]))
        rank[order] = pos + 1
        occ = _csr_lookup(state.occasions, u, c)
        last = _csr_lookup(state.last, u, c)
        first = _csr_lookup(state.first, u, c)
        seen = occ > 0
        base = state.day0 - 1
        since_last = np.where(seen, state.as_of - (last + base), np.nan)
        since_first = np.where(seen, state.as_of - (first + base), np.nan)
        interval = np.where(occ >= 2, (since_first - since_last) / np.maximum(occ - 1, 1), np.nan)
        u_span = state.as_of - state.u_first[u]
        feats = np.column_stack([
            e, (e - mu[r]) / sd[r], rank, seen.astype(float), occ,
            _csr_lookup(state.decayed, u, c), since_last, since_first, interval,
            since_last / interval,
            state.u_occ[u], state.as_of - state.u_last[u], state.u_items[u], u_span,
            state.u_occ[u] / np.maximum(u_span, 1.0) * 30.0,
            state.i_users[c], state.i_users_recent[c], state.i_trend[c], state.i_repeat[c],
            state.as_of - state.i_first[c],
            self._cat_affinity(state, u, c),
            self._attr_score(attr, u, c),
            self._repurchase_prob(repurchase, u, c, seen),
        ])
        if self.mode_ != "purchase_log":
            feats[:, _TIME_FEATURES] = np.nan  # see _TIME_FEATURES
        return pd.DataFrame({"u": u, "i": c, "row": r}), feats

    @staticmethod
    def _repurchase_prob(model: Any, u: np.ndarray, c: np.ndarray,
                         seen: np.ndarray) -> np.ndarray:
        """The repurchase model's probability of buying a past item again (NaN otherwise)."""
        out = np.full(len(u), np.nan)
        if model is None or not seen.any():
            return out
        users, inv = np.unique(u[seen], return_inverse=True)
        scores = model._score(users, None)
        vals = scores[inv, c[seen]]
        out[seen] = np.where(np.isfinite(vals), vals, np.nan)
        return out

    @staticmethod
    def _attr_score(attr: tuple[sp.csr_matrix, np.ndarray], u: np.ndarray,
                    c: np.ndarray) -> np.ndarray:
        feats, weights = attr
        if weights.shape[0] == 0:
            return np.full(len(u), np.nan)
        out = np.empty(len(u))
        for start in range(0, len(u), 65536):  # bounded memory: rows x n_features
            sl = slice(start, start + 65536)
            out[sl] = np.asarray(feats[u[sl]].multiply(weights[:, c[sl]].T).sum(axis=1)).ravel()
        return out

    @staticmethod
    def _cat_affinity(state: _State, u: np.ndarray, c: np.ndarray) -> np.ndarray:
        if state.user_cat is None or state.item_l1 is None:
            return np.full(len(u), np.nan)
        cat = state.item_l1[c]
        out = np.zeros(len(u))
        ok = cat >= 0
        out[ok] = _csr_lookup(state.user_cat, u[ok], cat[ok])
        return out

    def _training_windows(self, dataset: Dataset) -> list[tuple[Dataset, np.ndarray, int]]:
        """(history Dataset, label pair keys, reference day) per validation window."""
        inter = dataset.internal_interactions
        ts = inter[Columns.TIMESTAMP].to_numpy()
        n_items = dataset.n_items
        keys = inter["user_idx"].to_numpy(np.int64) * n_items + inter["item_idx"].to_numpy()
        out = []
        if self.mode_ == "purchase_log":
            end = ts.max()
            for w in range(self.n_windows):
                start = end - np.timedelta64(int(self.window_days * (w + 1) * _DAY_NS), "ns")
                stop = start + np.timedelta64(int(self.window_days * _DAY_NS), "ns")
                hist = ts < start
                lab = (ts >= start) & (ts < stop)
                if hist.sum() == 0 or lab.sum() == 0:
                    break
                out.append((dataset.filter_interactions(hist), np.unique(keys[lab]),
                            int(_day(np.array([start]))[0])))
        else:
            order = np.lexsort((ts, inter["user_idx"].to_numpy()))
            u_sorted = inter["user_idx"].to_numpy()[order]
            counts = np.bincount(u_sorted, minlength=dataset.n_users)
            starts = np.r_[0, np.cumsum(counts)[:-1]]
            pos = np.arange(len(order)) - starts[u_sorted]
            n_lab = np.floor(counts * self.holdout_fraction).astype(np.int64)
            n_lab[counts < 5] = 0
            is_lab = np.zeros(len(ts), dtype=bool)
            is_lab[order] = pos >= (counts - n_lab)[u_sorted]
            if is_lab.any():
                out.append((dataset.filter_interactions(~is_lab), np.unique(keys[is_lab]),
                            int(_day(np.array([ts.max()]))[0]) + 1))
        return out

    def _fit(self, dataset: Dataset, profiles: Any) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        n_items = dataset.n_items
        item_l1 = self._item_l1(dataset)
        self.item_l1_ = item_l1 if item_l1 is not None else np.zeros(0, dtype=np.int64)
        day = _day(dataset.internal_interactions[Columns.TIMESTAMP].to_numpy())
        self.as_of_day_ = int(day.max()) + 1
        # statistics of all the data: used for scoring, and to tell the kind of data
        self._state = _State(dataset, self.as_of_day_, self.window_days, self.half_life_days,
                             item_l1)
        # occasions holds each (user, item) pair's number of distinct days
        self.repeat_share_ = float((self._state.occasions.data >= 2).mean())
        self.mode_ = "purchase_log" if self.repeat_share_ > self.repeat_threshold else "ratings"

        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        n_labels = np.zeros(0)
        for w, (hist_ds, label_keys, ref_day) in enumerate(self._training_windows(dataset)):
            users = np.flatnonzero(hist_ds.hot_user_mask()
                                   & np.isin(np.arange(dataset.n_users), label_keys // n_items))
            if len(users) == 0:
                continue
            active, weights = self._fit_ease(hist_ds)
            state = _State(hist_ds, ref_day, self.window_days, self.half_life_days, item_l1)
            attr = self._fit_attr(hist_ds, state.history)
            rep = self._fit_repurchase(hist_ds)
            cand, x = self._candidates(state, users, active, weights, include_seen=True, attr=attr,
                                       repurchase=rep)
            key = cand["u"].to_numpy() * n_items + cand["i"].to_numpy()
            # a "group" is one user in one window; n_labels feeds the ideal DCG
            group = cand["u"].to_numpy() + w * dataset.n_users
            lab_users, lab_counts = np.unique(label_keys // n_items, return_counts=True)
            counts = np.zeros(dataset.n_users)
            counts[lab_users] = lab_counts
            parts.append((x, np.isin(key, label_keys), group, counts[cand["u"].to_numpy()]))
        if not parts:
            raise InvalidParameterError(
                "PersonaRecommender could not build an internal validation split: the data has "
                "too little history per user or time span (need users with >= 5 interactions, "
                f"or events spanning more than window_days={self.window_days})."
            )
        x = np.vstack([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        group = np.concatenate([p[2] for p in parts])
        n_labels = np.concatenate([p[3] for p in parts])
        seen = x[:, RANKER_FEATURES.index("seen")] > 0
        # hold out a fifth of the groups to choose the blend of ranker and EASE
        rng = np.random.default_rng(self.random_state)
        uniq = np.unique(group)
        tune_groups = uniq[rng.random(len(uniq)) < 0.2]
        tune = np.isin(group, tune_groups)

        def train(mask: np.ndarray) -> TreeEnsemble:
            yy = y[mask]
            if yy.all() or not yy.any():
                raise InvalidParameterError(
                    "PersonaRecommender's internal validation split has only one class of "
                    f"labels ({int(yy.sum())} positives of {len(yy)} candidates)."
                )
            clf = HistGradientBoostingClassifier(
                max_iter=self.ranker_iterations, learning_rate=0.1, max_leaf_nodes=31,
                min_samples_leaf=40, l2_regularization=1.0, random_state=self.random_state,
                early_stopping=False,
            )
            xm = x[mask]
            all_nan = np.isnan(xm).all(axis=0)
            if all_nan.any():  # e.g. history features of unseen-only candidates
                xm = xm.copy()
                xm[:, all_nan] = 0.0
            # one OpenMP thread: on a busy 2-core machine more threads spin and
            # made this fit ~10x slower (measured)
            with threadpool_limits(limits=1, user_api="openmp"):
                clf.fit(xm, yy)
            return TreeEnsemble.from_sklearn(clf)

        def choose_alpha(rows: np.ndarray) -> tuple[TreeEnsemble, float, dict[float, float]]:
            """Train on four fifths of the groups; pick the blend on the rest.

            The blend weight of the ranker against EASE maximises NDCG@10 on
            the held-out groups. The returned ranker is the one trained on the
            four fifths (no refit: training is the costly step).
            """
            fit_rows = rows & ~tune
            eval_rows = rows & tune
            if not y[fit_rows].any() or not y[eval_rows].any():
                return train(rows), 1.0, {}
            ranker = train(fit_rows)
            logit = ranker.decision_function(x[eval_rows])
            ease_z = x[eval_rows, RANKER_FEATURES.index("ease_z")]
            g = group[eval_rows]
            scores = {}
            for alpha in _ALPHAS:
                blended = alpha * _group_z(logit, g) + (1 - alpha) * _group_z(ease_z, g)
                scores[alpha] = _ndcg_at_10(blended, y[eval_rows], g, n_labels[eval_rows])
            best = max(scores, key=lambda a: (round(scores[a], 6), a))
            return ranker, best, scores

        # filter_seen=True: learn and tune on unseen candidates only
        self._ranker_new, self.alpha_new_, scores_new = choose_alpha(~seen)
        if self.mode_ == "purchase_log":
            self._ranker_all, self.alpha_all_, scores_all = choose_alpha(
                np.ones(len(y), dtype=bool))
        else:  # no repeats to learn: seen items are ranked like the rest
            self.alpha_all_, scores_all = self.alpha_new_, scores_new
            self._ranker_all = self._ranker_new
        self.validation_ = {
            "candidates": int(len(y)), "positives": int(y.sum()), "windows": len(parts),
            "ndcg_by_alpha_all": {str(k): round(v, 4) for k, v in scores_all.items()},
            "ndcg_by_alpha_new": {str(k): round(v, 4) for k, v in scores_new.items()},
        }

        # final components on all the data
        self.ease_items_, self.ease_weights_ = self._fit_ease(dataset)
        pop = self._state.i_users_recent if self.mode_ == "purchase_log" else self._state.i_users
        pop = np.where(pop > 0, pop, self._state.i_users * 1e-6)
        self.popularity_ = np.where(pop > 0, pop, -np.inf)
        self.warm_user_features_, self.warm_weights_ = self._fit_attr(dataset,
                                                                     self._state.history)
        self.repurchase_ = self._fit_repurchase(dataset)

    def _fit_repurchase(self, dataset: Dataset) -> Any:
        """A :class:`RepurchaseRecommender` on purchase logs (its probability is a feature)."""
        if self.mode_ != "purchase_log":
            return None
        from .repurchase import RepurchaseRecommender

        return RepurchaseRecommender(fill="none", horizon_days=self.window_days,
                                     random_state=self.random_state).fit(dataset)

    def _fit_attr(self, dataset: Dataset,
                  history: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
        """Ridge map from user attributes to items, learned on users with history."""
        feats, _ = user_attribute_features(dataset, include_sensitive=self.use_sensitive)
        hot = np.asarray(history.sum(axis=1)).ravel() > 0
        if feats.shape[1] == 0 or hot.sum() == 0:
            return (sp.csr_matrix((dataset.n_users, 0), dtype=np.float32),
                    np.zeros((0, dataset.n_items), dtype=np.float32))
        f = sp.hstack([feats, np.ones((dataset.n_users, 1))], format="csr", dtype=np.float64)
        a = f[hot]
        gram = (a.T @ a).toarray()
        gram[np.diag_indices_from(gram)] += self.warm_regularization
        with limit_blas_threads():
            w = np.linalg.solve(gram, (a.T @ history[hot]).toarray())
        return f.astype(np.float32), w.astype(np.float32)

    # -------------------------------------------------------------- scoring
    def _score(self, user_idx: np.ndarray, dataset: Dataset | None) -> np.ndarray:
        if dataset is not None:
            raise InvalidParameterError(
                "PersonaRecommender scores users from its fitted data; refit it on the newer "
                "Dataset instead of passing dataset= to recommend."
            )
        include_seen = not getattr(self, "_filter_seen", True)
        ranker = self._ranker_all if include_seen else self._ranker_new
        alpha = self.alpha_all_ if include_seen else self.alpha_new_
        cand, x = self._candidates(self._state, np.asarray(user_idx), self.ease_items_,
                                   self.ease_weights_, include_seen=include_seen,
                                   attr=(self.warm_user_features_, self.warm_weights_),
                                   repurchase=self.repurchase_)
        rows = cand["row"].to_numpy()
        blended = alpha * _group_z(ranker.decision_function(x), rows) \
            + (1 - alpha) * _group_z(x[:, RANKER_FEATURES.index("ease_z")], rows)
        prob = 1.0 / (1.0 + np.exp(-blended))  # in (0, 1): above every non-candidate
        # items outside the candidates rank below every candidate, by popularity
        pop = self.popularity_
        finite = np.isfinite(pop)
        base = np.full(len(pop), -np.inf)
        if finite.any():
            base[finite] = -2.0 + pop[finite] / (pop[finite].max() + 1.0)
        out = np.tile(base, (len(user_idx), 1))
        out[cand["row"].to_numpy(), cand["i"].to_numpy()] = prob
        return out

    def _score_warm(self, user_idx: np.ndarray, dataset: Dataset | None) -> np.ndarray:
        if self.warm_weights_.shape[0] == 0:
            return np.tile(self.popularity_, (len(user_idx), 1))
        f = self.warm_user_features_[np.asarray(user_idx)]
        return np.asarray(f @ self.warm_weights_, dtype=np.float64)

    def _score_cold(self) -> np.ndarray:
        return self.popularity_.astype(np.float64)

    def recommend(self, user_ids: Any, k: int = 10, **kwargs: Any) -> pd.DataFrame:
        """Recommend ``k`` items per user; see :meth:`Recommender.recommend`.

        The ``source`` column names the link of the fallback chain that
        served each row: ``persona:ranker`` (users with interactions),
        ``persona:attributes`` (attribute-only users) or ``persona:popular``
        (unknown users).
        """
        self._filter_seen = bool(kwargs.get("filter_seen", True))
        reco = super().recommend(user_ids, k=k, **kwargs)
        if len(reco) and self.is_fitted:
            # state codes of the base class: 0 hot, 1 warm, 2 cold
            _, state = self._user_states(reco[Columns.USER].to_numpy(), None)
            src = np.array([SOURCE_RANKER, SOURCE_ATTRIBUTES, SOURCE_POPULAR], dtype=object)
            reco[Columns.SOURCE] = np.where(reco[Columns.SOURCE] == self.name, src[state],
                                            reco[Columns.SOURCE])
        return reco

    # --------------------------------------------------------- explanations
    def explain(self, recommendations: pd.DataFrame, user_tags: Any = None,
                item_names: pd.Series | None = None) -> pd.DataFrame:
        """Add a human-readable ``reason`` (and matching ``tags``) to each row.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend`.
        user_tags : UserTags, optional
            Tags of the users (``persona_rec.tags.Tagger(...).assign(profiles)``);
            when given, the ``tags`` column lists the user's tags that relate to
            the recommended item's category (``interest/...``) and the user's
            value/lifecycle tags.
        item_names : pandas.Series, optional
            item_id -> display name used in reasons (e.g. titles).

        Returns
        -------
        pandas.DataFrame
            A copy with columns ``reason`` and ``tags`` added.
        """
        if not self.is_fitted:
            raise NotFittedError("PersonaRecommender is not fitted; call fit(dataset) first.")
        reco = recommendations.copy()
        if len(reco) == 0:
            reco["reason"] = pd.Series(dtype=object)
            reco["tags"] = pd.Series(dtype=object)
            return reco
        u = self.user_map_.to_internal(reco[Columns.USER].to_numpy(), strict=False)
        i = self.item_map_.to_internal(reco[Columns.ITEM].to_numpy(), strict=False)
        st = self._state
        ok = (u >= 0) & (i >= 0)
        occ = np.zeros(len(reco))
        occ[ok] = _csr_lookup(st.occasions, u[ok], i[ok])
        last = np.zeros(len(reco))
        last[ok] = _csr_lookup(st.last, u[ok], i[ok])
        since = st.as_of - (last + st.day0 - 1)
        # strongest EASE contribution from the user's history
        because = np.full(len(reco), -1, dtype=np.int64)
        col_of = np.full(len(self.item_map_), -1, dtype=np.int64)
        col_of[self.ease_items_] = np.arange(len(self.ease_items_))
        hot_rows = np.flatnonzero(ok & (col_of[np.maximum(i, 0)] >= 0) & (occ == 0))
        if len(hot_rows):
            hist = st.history[u[hot_rows]][:, self.ease_items_]
            w_cols = self.ease_weights_[:, col_of[i[hot_rows]]].T  # (rows, m)
            contrib = hist.multiply(w_cols).tocsr()
            best = np.asarray(contrib.argmax(axis=1)).ravel()
            has = np.asarray(contrib.max(axis=1).toarray()).ravel() > 0
            because[hot_rows[has]] = self.ease_items_[best[has]]
        names = (lambda ids: np.asarray(
            pd.Series(ids).map(item_names).fillna(pd.Series(ids)).astype(str))) \
            if item_names is not None else (lambda ids: np.asarray(ids).astype(str))
        because_name = np.full(len(reco), "", dtype=object)
        has_b = because >= 0
        if has_b.any():
            because_name[has_b] = names(self.item_map_.to_external(because[has_b]))
        src = reco[Columns.SOURCE].to_numpy() if Columns.SOURCE in reco else \
            np.full(len(reco), SOURCE_RANKER)
        reason = np.where(
            occ > 0,
            np.char.add(np.char.add("bought/used again: ", occ.astype(int).astype(str)),
                        np.char.add(" time(s), last ", np.char.add(
                            np.nan_to_num(since).astype(int).astype(str), " days ago"))),
            np.where(has_b, np.char.add("goes with ", because_name.astype(str)),
                     "popular with similar users"),
        ).astype(object)
        reason[src == SOURCE_ATTRIBUTES] = "popular with users who share your attributes"
        reason[(src == SOURCE_POPULAR) | (src == "fallback_popular")] = "popular right now"
        reco["reason"] = reason
        reco["tags"] = self._row_tags(reco, user_tags)
        return reco

    def _row_tags(self, reco: pd.DataFrame, user_tags: Any) -> np.ndarray:
        out = np.empty(len(reco), dtype=object)
        out[:] = ""
        if user_tags is None:
            return out
        frame = user_tags.to_frame()
        keep = frame[Columns.TAG].str.match(r"^(interest/|high_value|price_sensitive|"
                                           r"brand_loyal|novelty_seeker|lifecycle/|new_user|"
                                           r"churn_risk)")
        frame = frame[keep]
        attrs = self.item_attributes_
        item_cat = None
        if attrs is not None and "category" in attrs.columns:
            item_cat = pd.Series(_category_slugs(attrs["category"]), dtype=object)
        by_user = frame.groupby(Columns.USER)[Columns.TAG].apply(list).to_dict()
        i = self.item_map_.to_internal(reco[Columns.ITEM].to_numpy(), strict=False)
        cats = (item_cat.fillna("").to_numpy(dtype=object)[np.maximum(i, 0)]
                if item_cat is not None else np.full(len(reco), "", dtype=object))
        users = reco[Columns.USER].to_numpy()
        # one short list per row; rows are few (k per user), so this stays cheap
        out[:] = [
            ", ".join(t for t in by_user.get(uid, [])
                      if not t.startswith("interest/") or (cat and cat.startswith(t[9:])))
            for uid, cat in zip(users, cats)
        ]
        return out

    # ---------------------------------------------------------- persistence
    def _learned_state(self) -> dict[str, Any]:
        state = super()._learned_state()
        for name, ens in (("ranker_all", self._ranker_all), ("ranker_new", self._ranker_new)):
            for key, arr in ens.to_arrays().items():
                state[f"{name}__{key}_"] = arr
        st = self._state
        for key in ("occasions", "decayed", "last", "first", "history"):
            state[f"state__{key}_"] = getattr(st, key)
        for key in ("u_occ", "u_last", "u_first", "u_items", "i_users", "i_users_recent",
                    "i_trend", "i_repeat", "i_first"):
            state[f"state__{key}_"] = getattr(st, key)
        state["state__meta_"] = np.array([st.as_of, st.day0], dtype=np.int64)
        state["state__user_cat_"] = st.user_cat if st.user_cat is not None else \
            sp.csr_matrix((0, 0))
        return state

    def _after_load(self) -> None:
        for name in ("ranker_all", "ranker_new"):
            prefix = f"{name}__"
            arrays = {k[len(prefix):-1]: v for k, v in vars(self).items()
                      if k.startswith(prefix)}
            setattr(self, f"_{name}", TreeEnsemble.from_arrays(arrays))
            for k in list(vars(self)):
                if k.startswith(prefix):
                    delattr(self, k)
        st = _State.__new__(_State)
        for k in list(vars(self)):
            if k.startswith("state__"):
                setattr(st, k[len("state__"):-1], getattr(self, k))
                delattr(self, k)
        st.as_of, st.day0 = (int(v) for v in st.meta)
        if st.user_cat is not None and st.user_cat.shape == (0, 0):
            st.user_cat = None
        st.item_l1 = self.item_l1_ if len(self.item_l1_) else None
        self._state = st

"""Named feature sets of the two-stage model, each a small tested unit.

A feature set turns candidate ``(user, item)`` pairs into a block of feature
columns, from statistics of the data **before a reference time** (the start
of the internal label window while training, the end of the data while
serving). Each set has two steps:

``state(ctx) -> dict``
    Everything it needs, as arrays and sparse matrices computed once from a
    :class:`FeatureContext` (persisted with the model, so a loaded model
    serves without the training data).
``transform(state, u, i) -> (names, matrix)``
    Features of the pairs (vectorised; ``u`` and ``i`` are internal indices).

Sets (``name``: what it describes):

* ``history`` -- the user's own history with the item: occasions, summed
  weight, days since the last and first occasion, personal interval and
  "due-ness" (days since last / interval), a time-decayed count.
* ``user`` -- user activity: occasions, distinct items, days since the last
  event, tenure, rate.
* ``item`` -- item statistics: distinct users, users in the last window,
  trend, repeat rate, age, price.
* ``profile`` -- the user's profile from :class:`~persona_rec.profiles.ProfileBuilder`
  (RFM, activity, lifecycle, price sensitivity, novelty seeking, diversity,
  ...; standardised, sensitive columns only with ``use_sensitive``).
* ``profile_fit`` -- user x item fit from the same profiles: the user's
  affinity to the item's category path (levels 1-3), brand and price band,
  the item's price relative to what the user pays, and novelty seeking x
  item newness.
* ``tags`` -- from the :class:`~persona_rec.tags.Tagger` with the default
  taxonomy: whether the user carries the ``interest/...`` tag of the item's
  category, and a few behavioural tags (value, price sensitivity, churn).

Time-dependent features are NaN when timestamps are not informative (ties,
one date for every row): they would carry no signal and only noise.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..._arrays import csr_lookup
from ...columns import DAY_NS, Columns
from ...dataset import Dataset
from ...exceptions import InvalidParameterError

__all__ = [
    "FeatureContext",
    "FeatureSet",
    "RecentEvents",
    "HistoryFeatures",
    "UserFeatures",
    "ItemFeatures",
    "ProfileFeatures",
    "ProfileFitFeatures",
    "TagFeatures",
    "FEATURE_SETS",
    "make_feature_sets",
]


def _distinct_occasions(u: np.ndarray, i: np.ndarray, day: np.ndarray,
                        time_informative: bool) -> dict[str, np.ndarray]:
    """Distinct ``(user, item, occasion)`` rows sorted by user and item.

    With informative time an occasion is a day, dated by its first event;
    without, every event is its own occasion.
    """
    occ = np.floor(day) if time_informative else np.arange(len(u))
    order = np.lexsort((day, occ, i, u))
    u, i, o, d = u[order], i[order], occ[order], day[order]
    new = np.r_[True, (u[1:] != u[:-1]) | (i[1:] != i[:-1]) | (o[1:] != o[:-1])] \
        if len(u) else np.zeros(0, dtype=bool)
    return {"u": u[new], "i": i[new], "day": d[new]}


def _take_rows(value: Any, users: np.ndarray) -> Any:
    """Rows ``users`` of a sparse matrix or array; rows past the end are empty / NaN."""
    n = value.shape[0]
    known = users < n
    rows = np.where(known, users, 0)
    if sp.issparse(value):
        out = sp.csr_matrix(value)[rows]
        if not known.all():
            out = sp.csr_matrix(sp.diags(known.astype(out.dtype)) @ out)
            out.eliminate_zeros()
        return out
    arr = np.asarray(value)
    out = arr[rows].astype(np.result_type(arr.dtype, np.float32), copy=True)
    out[~known] = np.nan
    return out


class RecentEvents:
    """Events after fit for the feature sets' :meth:`FeatureSet.fold`, in one request's user order.

    Parameters
    ----------
    rows : ndarray of int
        Row of each event in the request-restricted state (position of its
        user in the request's users).
    items : ndarray of int
        Internal item index of each event.
    days : ndarray of float
        Event time in days since the epoch; events without a time, or later
        than ``as_of_day``, count as happening at ``as_of_day`` (the model's
        serving clock, the end of its fit data: a refit moves it).
    weights : ndarray of float
    n_rows : int
        Users in the request.
    as_of_day : float
        The serving reference time (days since the epoch).
    time_informative : bool
        Whether the fit data's timestamps were informative (else every event
        is its own occasion and time features stay NaN).
    seen_before : ndarray of bool, optional
        Whether the event's (user, item) pair is in the fit history
        (default: none is).

    Examples
    --------
    >>> ev = RecentEvents(np.array([0]), np.array([3]), np.array([np.nan]), np.array([1.0]),
    ...                   n_rows=1, as_of_day=100.0, time_informative=True)
    >>> ev.days.tolist()
    [100.0]
    """

    def __init__(self, rows: np.ndarray, items: np.ndarray, days: np.ndarray,
                 weights: np.ndarray, *, n_rows: int, as_of_day: float,
                 time_informative: bool, seen_before: np.ndarray | None = None) -> None:
        days = np.asarray(days, dtype=np.float64)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.items = np.asarray(items, dtype=np.int64)
        self.days = np.where(np.isfinite(days), np.minimum(days, as_of_day), as_of_day)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.n_rows = int(n_rows)
        self.as_of_day = float(as_of_day)
        self.time_informative = bool(time_informative)
        self.seen_before = (np.zeros(len(self.rows), dtype=bool) if seen_before is None
                            else np.asarray(seen_before, dtype=bool))

    def occasions(self, last_day: sp.csr_matrix | None = None,
                  day0: float = 0.0) -> dict[str, np.ndarray]:
        """New distinct ``(row, item, occasion)`` triples, as :attr:`FeatureContext.occasions`.

        With informative time an occasion is a day; an event on the day of the
        pair's last fitted occasion (``last_day + day0``) is not a new one.
        Without, every event is an occasion.
        """
        out = _distinct_occasions(self.rows, self.items, self.days, self.time_informative)
        if self.time_informative and last_day is not None and len(out["u"]):
            last = csr_lookup(last_day, out["u"], out["i"])
            new = ~((last > 0) & (np.floor(last + day0) == np.floor(out["day"])))
            out = {k: v[new] for k, v in out.items()}
        return out


class FeatureContext:
    """Point-in-time statistics of one Dataset, shared by every feature set.

    Parameters
    ----------
    dataset : Dataset
        The interactions the features may see.
    as_of : numpy.datetime64
        Reference time; features describe the data strictly before it.
    time_informative : bool
        Whether timestamps carry information (else time features are NaN).
    window_days : float, default 30
        The "recent" window.
    half_life_days : float, default 90
        Half-life of decayed counts.
    use_sensitive : bool, default False
        Whether sensitive user attributes may enter profile features.
    """

    def __init__(self, dataset: Dataset, as_of: np.datetime64, *, time_informative: bool,
                 window_days: float = 30.0, half_life_days: float = 90.0,
                 use_sensitive: bool = False) -> None:
        self.dataset = dataset
        self.as_of = np.datetime64(as_of, "ns")
        self.as_of_day = float(self.as_of.astype(np.int64) / DAY_NS)
        self.time_informative = bool(time_informative)
        self.window_days = float(window_days)
        self.half_life_days = float(half_life_days)
        self.use_sensitive = bool(use_sensitive)

    @cached_property
    def events(self) -> dict[str, np.ndarray]:
        """``u``, ``i``, ``day`` (float days since epoch), ``w`` of events before ``as_of``."""
        inter = self.dataset.internal_interactions
        ts = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]")
        keep = ts < self.as_of
        return {
            "u": inter[Columns.USER_IDX].to_numpy(np.int64)[keep],
            "i": inter[Columns.ITEM_IDX].to_numpy(np.int64)[keep],
            "day": ts[keep].astype(np.int64) / DAY_NS,
            "w": inter[Columns.WEIGHT].to_numpy(np.float64)[keep],
        }

    @cached_property
    def occasions(self) -> dict[str, np.ndarray]:
        """Distinct (user, item, occasion) rows; an occasion is a day (or a row without time)."""
        ev = self.events
        return _distinct_occasions(ev["u"], ev["i"], ev["day"], self.time_informative)

    @cached_property
    def profiles(self) -> Any:
        """Default :class:`~persona_rec.profiles.Profiles` built at ``as_of``."""
        from ...profiles import ProfileBuilder

        return ProfileBuilder.default().build(self.dataset, as_of=pd.Timestamp(self.as_of))

    @cached_property
    def profile_context(self) -> Any:
        """The profiles' :class:`~persona_rec.profiles._context.ProfileContext` (item codes)."""
        from ...profiles._context import ProfileContext

        return ProfileContext(self.dataset, pd.Timestamp(self.as_of))

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)`` of the id maps."""
        return self.dataset.n_users, self.dataset.n_items


class FeatureSet:
    """Base class of a named block of candidate features (see the module docstring)."""

    #: Name used in ``feature_sets=`` and as the prefix of feature names.
    name: ClassVar[str] = ""

    def state(self, ctx: FeatureContext) -> dict[str, Any]:  # pragma: no cover - abstract
        """Compute the arrays the set needs from ``ctx``."""
        raise NotImplementedError

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:  # pragma: no cover
        """Feature names and an ``(len(u), n_features)`` float matrix."""
        raise NotImplementedError

    #: State keys indexed by user (rows), sliced by :meth:`user_rows`.
    user_keys: ClassVar[tuple[str, ...]] = ()

    def user_rows(self, state: dict[str, Any], users: np.ndarray) -> dict[str, Any]:
        """The state restricted to ``users`` (row ``j`` = ``users[j]``).

        Users without a row in the state (indices past its end: users first
        seen at serving time) get empty sparse rows and NaN dense rows.

        Parameters
        ----------
        state : dict
            Output of :meth:`state`.
        users : ndarray of int

        Returns
        -------
        dict
            A state whose user-indexed entries have ``len(users)`` rows; the
            others are shared (not copied).
        """
        users = np.asarray(users, dtype=np.int64)
        out = dict(state)
        for key in self._user_keys(state):
            out[key] = _take_rows(state[key], users)
        return out

    def _user_keys(self, state: dict[str, Any]) -> list[str]:
        return [k for k in self.user_keys if k in state]

    def fold(self, state: dict[str, Any], recent: RecentEvents) -> dict[str, Any]:
        """Fold events after fit into a :meth:`user_rows` state (default: unchanged).

        Sets describing all users (item statistics) or the fitted profiles
        keep their fitted values: one user's new events move them only at
        the next fit.

        Parameters
        ----------
        state : dict
            A state restricted to the request's users (:meth:`user_rows`).
        recent : RecentEvents
            The events, with rows in that state's user order.

        Returns
        -------
        dict
        """
        return state


class HistoryFeatures(FeatureSet):
    """The user's own history with the item (repeat behaviour).

    Examples
    --------
    >>> HistoryFeatures.name
    'history'
    """

    name = "history"
    user_keys = ("occ", "wsum", "first", "last", "decayed")

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """Sparse user x item occasions, weight, first/last occasion day and decayed count."""
        nu, ni = ctx.shape
        oc, ev = ctx.occasions, ctx.events
        shape = (nu, ni)
        occ = sp.csr_matrix((np.ones(len(oc["u"])), (oc["u"], oc["i"])), shape=shape)
        wsum = sp.csr_matrix((ev["w"], (ev["u"], ev["i"])), shape=shape)
        st: dict[str, Any] = {"occ": occ, "wsum": wsum,
                              "meta": np.array([ctx.as_of_day, float(ctx.time_informative)])}
        if ctx.time_informative and len(oc["u"]):
            day0 = float(np.floor(oc["day"].min())) - 1.0  # keep stored days > 0
            pair = pd.DataFrame({"p": oc["u"] * ni + oc["i"], "d": oc["day"] - day0})
            agg = pair.groupby("p", sort=True)["d"].agg(["min", "max"])
            pu, pi = np.divmod(agg.index.to_numpy(), ni)
            st["first"] = sp.csr_matrix((agg["min"].to_numpy(), (pu, pi)), shape=shape)
            st["last"] = sp.csr_matrix((agg["max"].to_numpy(), (pu, pi)), shape=shape)
            decay = 0.5 ** ((ctx.as_of_day - oc["day"]) / ctx.half_life_days)
            st["decayed"] = sp.csr_matrix((decay, (oc["u"], oc["i"])), shape=shape)
            st["meta"] = np.array([ctx.as_of_day, 1.0, day0, ctx.half_life_days])
        return st

    def fold(self, state: dict[str, Any], recent: RecentEvents) -> dict[str, Any]:
        """Add the recent occasions, weights, first/last days and decayed counts."""
        st = dict(state)
        shape = state["occ"].shape
        timed = state["meta"][1] > 0 and "last" in state
        day0 = float(state["meta"][2]) if timed else 0.0
        new = recent.occasions(state["last"] if timed else None, day0)

        def pairs(vals: np.ndarray, r: np.ndarray, i: np.ndarray) -> sp.csr_matrix:
            m = sp.csr_matrix((vals, (r, i)), shape=shape)
            m.sum_duplicates()
            return m

        st["occ"] = sp.csr_matrix(state["occ"] + pairs(np.ones(len(new["u"])), new["u"],
                                                       new["i"]))
        st["wsum"] = sp.csr_matrix(state["wsum"] + pairs(recent.weights, recent.rows,
                                                         recent.items))
        if timed and len(new["u"]):
            d = new["day"] - day0
            key = new["u"] * shape[1] + new["i"]
            agg = pd.DataFrame({"k": key, "d": d}).groupby("k", sort=True)["d"].agg(
                ["min", "max"])
            pu, pi = np.divmod(agg.index.to_numpy(), shape[1])
            last_new = sp.csr_matrix((agg["max"].to_numpy(), (pu, pi)), shape=shape)
            st["last"] = sp.csr_matrix(state["last"].maximum(last_new))
            had = csr_lookup(state["first"], pu, pi) > 0
            first_new = sp.csr_matrix((np.where(had, 0.0, agg["min"].to_numpy()), (pu, pi)),
                                      shape=shape)
            first_new.eliminate_zeros()
            st["first"] = sp.csr_matrix(state["first"] + first_new)
            hl = float(state["meta"][3]) if len(state["meta"]) > 3 else 90.0
            st["decayed"] = sp.csr_matrix(state["decayed"] + pairs(
                0.5 ** ((recent.as_of_day - new["day"]) / hl), new["u"], new["i"]))
        return st

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Occasions, weight, seen, recency, interval, due-ness, decayed count."""
        occ = csr_lookup(state["occ"], u, i)
        wsum = csr_lookup(state["wsum"], u, i)
        seen = (occ > 0).astype(float)
        names = ["occasions", "weight", "seen", "days_since_last", "days_since_first",
                 "interval", "due", "decayed"]
        if state["meta"][1] > 0 and "last" in state:
            as_of, day0 = state["meta"][0], state["meta"][2]
            last = csr_lookup(state["last"], u, i)
            first = csr_lookup(state["first"], u, i)
            since_last = np.where(occ > 0, as_of - (last + day0), np.nan)
            since_first = np.where(occ > 0, as_of - (first + day0), np.nan)
            interval = np.where(occ >= 2, (since_first - since_last) / np.maximum(occ - 1, 1),
                                np.nan)
            due = since_last / np.where(interval > 0, interval, np.nan)
            decayed = csr_lookup(state["decayed"], u, i)
        else:
            since_last = since_first = interval = due = decayed = np.full(len(u), np.nan)
        return names, np.column_stack([occ, wsum, seen, since_last, since_first, interval,
                                       due, decayed])


class UserFeatures(FeatureSet):
    """User activity: occasions, distinct items, recency, tenure, rate.

    Examples
    --------
    >>> UserFeatures.name
    'user'
    """

    name = "user"
    user_keys = ("x",)

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """Per-user arrays."""
        nu, _ = ctx.shape
        oc = ctx.occasions
        n_occ = np.bincount(oc["u"], minlength=nu).astype(float)
        pairs = np.unique(oc["u"] * ctx.shape[1] + oc["i"])
        n_items = np.bincount(pairs // ctx.shape[1], minlength=nu).astype(float)
        last = np.full(nu, np.nan)
        first = np.full(nu, np.nan)
        if ctx.time_informative and len(oc["u"]):
            np.fmax.at(last, oc["u"], oc["day"])
            np.fmin.at(first, oc["u"], oc["day"])
            since_last = ctx.as_of_day - last
            span = ctx.as_of_day - first
            rate = n_occ / np.maximum(span, 1.0) * 30.0
        else:
            since_last = span = rate = np.full(nu, np.nan)
        return {"x": np.column_stack([n_occ, n_items, since_last, span, rate])}

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Rows of the per-user matrix."""
        return ["u_occasions", "u_items", "u_days_since_last", "u_tenure", "u_rate"], \
            state["x"][u]

    def fold(self, state: dict[str, Any], recent: RecentEvents) -> dict[str, Any]:
        """Add the recent occasions and new items; the last event is the recent one."""
        x = np.array(state["x"], dtype=np.float64, copy=True)
        n = recent.n_rows
        new_user = np.isnan(x[:, 0])
        x[new_user, :2] = 0.0
        occ = recent.occasions()
        x[:, 0] += np.bincount(occ["u"], minlength=n)
        fresh = ~recent.seen_before
        pairs = np.unique((recent.rows[fresh] << 32) | recent.items[fresh])
        x[:, 1] += np.bincount(pairs >> 32, minlength=n)
        if recent.time_informative:
            has = np.bincount(occ["u"], minlength=n) > 0
            last = np.full(n, -np.inf)
            np.maximum.at(last, occ["u"], occ["day"])
            first = np.full(n, np.inf)
            np.minimum.at(first, occ["u"], occ["day"])
            since = recent.as_of_day - last
            x[has, 2] = np.fmin(x[has, 2], since[has])
            tenure = recent.as_of_day - first
            x[has, 3] = np.fmax(x[has, 3], tenure[has])
            x[has, 4] = x[has, 0] / np.maximum(x[has, 3], 1.0) * 30.0
        return {**state, "x": x}


class ItemFeatures(FeatureSet):
    """Item statistics: popularity, recent popularity, trend, repeat rate, age, price.

    Examples
    --------
    >>> ItemFeatures.name
    'item'
    """

    name = "item"

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """Per-item arrays."""
        nu, ni = ctx.shape
        oc = ctx.occasions
        pairs, pair_occ = np.unique(oc["u"] * ni + oc["i"], return_counts=True)
        pi = pairs % ni
        users = np.bincount(pi, minlength=ni).astype(float)
        repeat = np.bincount(pi, weights=(pair_occ >= 2).astype(float), minlength=ni)
        repeat_rate = repeat / np.maximum(users, 1.0)
        price = np.asarray(ctx.profile_context.item_price, dtype=float)
        if ctx.time_informative and len(oc["u"]):
            recent_rows = oc["day"] >= ctx.as_of_day - ctx.window_days
            recent = np.bincount(oc["i"][recent_rows], minlength=ni).astype(float)
            first = np.full(ni, np.nan)
            np.fmin.at(first, oc["i"], oc["day"])
            span = max(1.0, ctx.as_of_day - float(np.nanmin(first)))
            trend = recent / (np.bincount(oc["i"], minlength=ni) * ctx.window_days / span + 1.0)
            age = ctx.as_of_day - first
        else:
            recent = trend = age = np.full(ni, np.nan)
        return {"x": np.column_stack([np.log1p(users), np.log1p(recent), trend, repeat_rate,
                                      age, np.log1p(np.where(price > 0, price, np.nan))])}

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Rows of the per-item matrix."""
        return ["i_users", "i_users_recent", "i_trend", "i_repeat_rate", "i_age", "i_price"], \
            state["x"][i]


class ProfileFeatures(FeatureSet):
    """The user's profile (numeric and categorical blocks of ``Profiles.features``).

    Examples
    --------
    >>> ProfileFeatures.name
    'profile'
    """

    name = "profile"
    user_keys = ("x",)

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """Dense per-user profile matrix and its column names."""
        x, names = ctx.profiles.features(include_sensitive=ctx.use_sensitive,
                                         blocks=("numeric", "categorical"))
        return {"x": x.toarray().astype(np.float32),
                "names": np.array([f"p:{n}" for n in names], dtype=str)}

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Rows of the profile matrix."""
        return list(state["names"]), state["x"][u].astype(np.float64)


_FIT_KINDS = ("category_l1", "category_l2", "category_l3", "brand", "price_band")


class ProfileFitFeatures(FeatureSet):
    """User x item fit from the profiles (affinities, price ratio, novelty x newness).

    Examples
    --------
    >>> ProfileFitFeatures.name
    'profile_fit'
    """

    name = "profile_fit"
    user_keys = ("user_log_price", "novelty")

    def _user_keys(self, state: dict[str, Any]) -> list[str]:
        return [k for k in state if k.startswith("aff_")] + super()._user_keys(state)

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """Affinity matrices with item codes, user price level, novelty seeking."""
        prof, pctx = ctx.profiles, ctx.profile_context
        levels = pctx.category_levels
        brands = pctx.brands
        codes = {f"category_l{k + 1}": (levels[k].codes if k < len(levels) else None)
                 for k in range(3)}
        codes["brand"] = brands.codes if brands is not None else None
        codes["price_band"] = pctx.price_bands(20)
        st: dict[str, Any] = {}
        for kind in _FIT_KINDS:
            if codes[kind] is None or kind not in prof.affinities:
                continue
            mat, _ = prof.affinities[kind]
            if mat.shape[1] == 0:
                continue
            st[f"aff_{kind}"] = sp.csr_matrix(mat, dtype=np.float32)
            st[f"code_{kind}"] = np.asarray(codes[kind], dtype=np.int64)
        price = np.asarray(pctx.item_price, dtype=float)
        # what the user pays: median log price of the items they interacted with
        ev = ctx.events
        lp = np.log(np.where(price[ev["i"]] > 0, price[ev["i"]], np.nan))
        ok = np.isfinite(lp)
        user_lp = np.full(ctx.shape[0], np.nan)
        if ok.any():
            med = pd.Series(lp[ok]).groupby(ev["u"][ok]).median()
            user_lp[med.index.to_numpy()] = med.to_numpy()
        st["item_log_price"] = np.log(np.where(price > 0, price, np.nan))
        st["user_log_price"] = user_lp
        frame = prof.frame
        nov = frame["novelty_seeking"].to_numpy(float) if "novelty_seeking" in frame \
            else np.full(ctx.shape[0], np.nan)
        st["novelty"] = nov
        first = np.asarray(pctx.item_first_seen, dtype=np.int64)
        known = first != np.iinfo(np.int64).min
        age = np.full(ctx.shape[1], np.nan)
        if ctx.time_informative:
            age[known] = ctx.as_of_day - first[known] / DAY_NS
        st["item_age"] = age
        return st

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Affinity per kind, log price ratio, novelty x newness."""
        names, cols = [], []
        for kind in _FIT_KINDS:
            if f"aff_{kind}" not in state:
                continue
            code = state[f"code_{kind}"][i]
            val = np.full(len(u), np.nan)
            ok = code >= 0
            val[ok] = csr_lookup(state[f"aff_{kind}"], u[ok], code[ok])
            names.append(f"fit_{kind}")
            cols.append(val)
        names.append("fit_price_ratio")
        cols.append(state["item_log_price"][i] - state["user_log_price"][u])
        names.append("fit_novelty_x_newness")
        cols.append(state["novelty"][u] * np.exp(-state["item_age"][i] / 30.0))
        return names, np.column_stack(cols)


#: Behavioural tags used as user flags by :class:`TagFeatures`.
_FLAG_TAGS = ("high_value", "price_sensitive", "churn_risk", "novelty_seeker", "new_user",
              "lifecycle/churned", "value/frequent_buyer", "preference/explorer")


class TagFeatures(FeatureSet):
    """Tags of the user from the default taxonomy: interest match and behavioural flags.

    Examples
    --------
    >>> TagFeatures.name
    'tags'
    """

    name = "tags"
    user_keys = ("interest", "flags")

    def state(self, ctx: FeatureContext) -> dict[str, Any]:
        """User x interest-category matrix (level-1 slugs) and flag columns."""
        from ...tags import Tagger, Taxonomy

        prof = ctx.profiles
        tags = Tagger(Taxonomy.default(prof)).assign(prof).to_frame()
        pctx = ctx.profile_context
        levels = pctx.category_levels
        nu = ctx.shape[0]
        uidx = ctx.dataset.user_map.to_internal(tags[Columns.USER].to_numpy(), strict=False)
        tag = tags[Columns.TAG].astype(str).to_numpy()
        ok = uidx >= 0
        uidx, tag = uidx[ok], tag[ok]
        st: dict[str, Any] = {}
        if levels:
            names = list(levels[0].names)
            col = pd.Index([f"interest/{n}" for n in names]).get_indexer(tag)
            hit = col >= 0
            st["interest"] = sp.csr_matrix((np.ones(int(hit.sum())), (uidx[hit], col[hit])),
                                           shape=(nu, len(names)))
            st["code_l1"] = np.asarray(levels[0].codes, dtype=np.int64)
        flags = np.zeros((nu, len(_FLAG_TAGS)), dtype=np.float32)
        for k, t in enumerate(_FLAG_TAGS):  # a handful of tags, not a loop over users
            flags[uidx[tag == t], k] = 1.0
        st["flags"] = flags
        return st

    def transform(self, state: dict[str, Any], u: np.ndarray,
                  i: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Interest-tag match of the item's category and the user's flags."""
        match = np.full(len(u), np.nan)
        if "interest" in state:
            code = state["code_l1"][i]
            ok = code >= 0
            match[ok] = csr_lookup(state["interest"], u[ok], code[ok])
        names = ["tag_interest_match"] + [f"tag_{t.replace('/', '_')}" for t in _FLAG_TAGS]
        return names, np.column_stack([match, state["flags"][u].astype(np.float64)])


#: Feature set classes by name.
FEATURE_SETS: dict[str, type[FeatureSet]] = {
    cls.name: cls for cls in (HistoryFeatures, UserFeatures, ItemFeatures, ProfileFeatures,
                              ProfileFitFeatures, TagFeatures)
}


def make_feature_sets(names: Any) -> list[FeatureSet]:
    """Instantiate feature sets by name (typed error for unknown names).

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    list of FeatureSet

    Examples
    --------
    >>> [f.name for f in make_feature_sets(["history", "item"])]
    ['history', 'item']
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(
            f"feature_sets must be a sequence of names from {sorted(FEATURE_SETS)}, "
            f"got {names!r}."
        )
    unknown = [n for n in names if n not in FEATURE_SETS]
    if unknown:
        raise InvalidParameterError(
            f"feature_sets: unknown name(s) {unknown}; choose from {sorted(FEATURE_SETS)}."
        )
    return [FEATURE_SETS[n]() for n in dict.fromkeys(names)]

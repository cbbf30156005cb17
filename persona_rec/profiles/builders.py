"""Composable profile builders.

Each builder is a small object whose ``build(ctx)`` returns a
:class:`ProfilePart`: columns (one value per user, internal user order),
their documentation, and optionally affinity matrices or side tables.
:class:`~persona_rec.profiles.ProfileBuilder` runs a list of builders on one
shared :class:`~persona_rec.profiles._context.ProfileContext`.

This module is one cohesive unit, the default builders (one class per block of
profile columns) and the array helpers they share, hence its length; a new
builder may live in a module beside it (``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._params import ParamsMixin
from .._time import attribute_time_ns
from .._validation import check_int, check_number
from ..columns import REGISTRATION_COLUMNS as _REGISTRATION_COLUMNS
from ..exceptions import InvalidParameterError
from ._context import DAY_NS, ProfileContext

__all__ = [
    "ProfilePart",
    "Builder",
    "DemographicBuilder",
    "RFMBuilder",
    "ActivityBuilder",
    "AffinityBuilder",
    "PriceSensitivityBuilder",
    "NoveltyBuilder",
    "LifecycleBuilder",
    "RepurchaseBuilder",
    "AGE_BANDS",
    "LIFECYCLE_STAGES",
    "PRICE_BANDS",
    "QUANTITY_TIERS",
]

#: Labels of ``age_band`` (left-closed bins).
AGE_BANDS: tuple[str, ...] = ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_EDGES = np.array([18, 25, 35, 45, 55, 65])
#: Values of ``lifecycle_stage``.
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "new", "active", "at_risk", "churned", "reactivated")
#: Default lower edges of the quantity tiers of :class:`PriceSensitivityBuilder`.
QUANTITY_TIERS: tuple[float, ...] = (1, 6, 12, 24, 48, 100, 200, 500, 1000)
#: Value names of the ``price_band`` affinity.
PRICE_BANDS: tuple[str, ...] = ("low", "mid", "high")

#: Columns computed by the default builders (user attributes with these names are renamed).
COMPUTED_COLUMNS: frozenset[str] = frozenset({
    "age_band", "account_age_days",
    "recency_days", "frequency", "monetary", "avg_order_value", "r_score", "f_score", "m_score",
    "rfm_score", "n_events", "active_days", "n_sessions", "first_seen", "last_seen", "tenure_days",
    "preferred_hour", "preferred_weekday", "view_share", "cart_share", "purchase_share",
    "view_to_purchase", "cart_to_purchase", "top_category", "top_category_l2", "top_brand",
    "top_price_band", "brand_loyalty", "category_diversity", "price_sensitivity", "discount_share",
    "novelty_seeking", "lifecycle_stage", "expected_interval_days", "repurchase_interval_days",
    "next_purchase_date", "days_to_next_purchase", "days_overdue", "known_at_as_of",
    "p_alive", "expected_purchases", "expected_spend", "clv",  # PredictiveBuilder (opt-in)
    "purchase_days", "purchase_weeks", "purchase_months", "first_purchase_days",  # timing
    "gap_mean_days", "gap_std_days", "dueness", "purchase_days_30d", "purchase_days_90d",
    "purchase_days_180d", "spend_90d", "recent_day_share",  # PurchaseTimingBuilder (opt-in)
})

#: Event types counted as views and as add-to-cart by :class:`ActivityBuilder` (lower case).
VIEW_EVENTS: frozenset[str] = frozenset({"view", "click"})
CART_EVENTS: frozenset[str] = frozenset({"cart", "add_to_cart", "addtocart"})

CATEGORY_CYCLE_COLUMNS = [
    "user_id", "category", "n_orders", "median_interval_days", "last_purchase", "next_purchase_date",
    "days_overdue",
]


@dataclass
class ProfilePart:
    """What one builder contributes to a profile.

    Attributes
    ----------
    columns : dict
        Column name -> array-like of length ``n_users`` (internal user order).
    docs : dict
        Column name -> description with unit.
    affinities : dict
        Kind -> ``(csr_matrix n_users x n_values, value names)``.
    tables : dict
        Name -> side DataFrame (e.g. ``"category_cycles"``).
    sensitive : set
        Columns of this part that are sensitive.
    """

    columns: dict[str, Any] = field(default_factory=dict)
    docs: dict[str, str] = field(default_factory=dict)
    affinities: dict[str, tuple[sp.csr_matrix, list[str]]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)


class Builder(ParamsMixin):
    """Base class of profile builders: store configuration, build a part.

    Subclasses implement :meth:`build`; ``__init__`` only stores (validated)
    configuration, so a builder can be reused across datasets and as-of dates.
    ``get_params``/``set_params``/``clone``/``repr`` come from the
    ``__init__`` signature (see :class:`~persona_rec._params.ParamsMixin`).
    """

    def build(self, ctx: ProfileContext) -> ProfilePart:  # pragma: no cover - abstract
        """Compute this builder's columns from the shared context."""
        raise NotImplementedError


# ----------------------------------------------------------------- helpers
def _per_user_first_last(u: np.ndarray, n_users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``u`` sorted ascending: users present, index of their first and last row."""
    if len(u) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    change = np.flatnonzero(u[1:] != u[:-1]) + 1
    first = np.concatenate(([0], change))
    last = np.concatenate((change - 1, [len(u) - 1]))
    return u[first], first, last


def _full(n: int, value: float = np.nan) -> np.ndarray:
    return np.full(n, value, dtype=np.float64)


def _quantile_score(values: np.ndarray, mask: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """1-5 rank-based quantile score of ``values[mask]`` (ties share their mean rank)."""
    out = _full(len(values))
    v = values[mask]
    if len(v) == 0:
        return out
    if not higher_is_better:
        v = -v
    lo = v.min()
    if bool((v == np.floor(v)).all()) and v.max() - lo < 4 * len(v):
        # small integers (order counts): average ranks by counting, no sort
        k = (v - lo).astype(np.int64)
        cnt = np.bincount(k)
        below = np.cumsum(cnt) - cnt
        pct = (below[k] + (cnt[k] + 1) / 2) / len(v)
        out[mask] = np.clip(np.ceil(pct * 5 - 1e-9), 1, 5)
        return out
    # one sort: score per distinct value (average rank), then 4 threshold comparisons
    n = len(v)
    srt = np.sort(v)
    start = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
    cnt = np.diff(np.append(start, n))
    group_score = np.clip(np.ceil((start + (cnt + 1) / 2) * 5 / n - 1e-9), 1, 5)
    score = np.ones(n)
    for k in (2, 3, 4, 5):
        first = np.searchsorted(group_score, k)  # group_score is non-decreasing
        if first < len(start):
            score += v >= srt[start[first]]
    out[mask] = score
    return out


def _days(ns: np.ndarray) -> np.ndarray:
    return ns / DAY_NS


def _to_datetime_ns(ns: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out = np.full(len(ns), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[valid] = ns[valid].astype("datetime64[ns]")
    return out


def _whole_seconds_ns(days: np.ndarray) -> np.ndarray:
    """Durations in days -> int64 nanoseconds rounded to whole seconds (NaN -> 0)."""
    return np.round(np.nan_to_num(days) * 86_400).astype(np.int64) * 10**9


def _row_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    out = sp.diags(inv) @ m
    out = sp.csr_matrix(out, dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _row_argmax(m: sp.csr_matrix) -> np.ndarray:
    """Column of the largest value per row (first on ties), -1 for empty rows."""
    out = np.full(m.shape[0], -1, dtype=np.int64)
    nnz_rows = np.flatnonzero(np.diff(m.indptr) > 0)
    if len(nnz_rows) == 0:
        return out
    starts = m.indptr[nnz_rows]
    row_max = np.maximum.reduceat(m.data, starts)
    row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    full_max = np.zeros(m.shape[0], dtype=m.data.dtype)
    full_max[nnz_rows] = row_max
    hit = np.flatnonzero(m.data == full_max[row_of])
    rows, first = np.unique(row_of[hit], return_index=True)
    out[rows] = m.indices[hit[first]]
    return out


def _row_max(m: sp.csr_matrix) -> np.ndarray:
    out = np.zeros(m.shape[0], dtype=np.float64)
    nnz_rows = np.flatnonzero(np.diff(m.indptr) > 0)
    if len(nnz_rows):
        out[nnz_rows] = np.maximum.reduceat(m.data, m.indptr[nnz_rows])
    return out


def _names_or_nan(codes: np.ndarray, names: list[str]) -> np.ndarray:
    lut = np.array(list(names) + [None], dtype=object)
    return lut[np.where(codes < 0, len(names), codes)]


# ------------------------------------------------------------- demographic
class DemographicBuilder(Builder):
    """Pass user attributes through and derive ``age_band`` and ``account_age_days``.

    Every user attribute column is copied (sensitive ones too: the
    :class:`~persona_rec.profiles.Profiles` object tracks them and leaves them
    out of ``features()``/``export()`` unless asked). An attribute whose name
    clashes with a computed profile column is renamed ``attr_<name>``.

    Derived columns:

    - ``age_band``: ``age`` bucketed into :data:`AGE_BANDS` (left-closed,
      e.g. 25 -> ``"25-34"``); sensitive whenever ``age`` is.
    - ``account_age_days``: days from ``registration_date`` (or
      ``signup_date``/``registered_at``) to ``as_of``; NaN if the user
      registered at or after ``as_of``.

    Examples
    --------
    >>> DemographicBuilder()
    DemographicBuilder()
    """

    REGISTRATION_COLUMNS = _REGISTRATION_COLUMNS

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the demographic columns."""
        ds = ctx.dataset
        attrs = ds.user_attributes(include_sensitive=True)
        part = ProfilePart()
        sens = set(ds.sensitive_columns)
        for col in attrs.columns:
            name = f"attr_{col}" if col in COMPUTED_COLUMNS else str(col)
            part.columns[name] = attrs[col].to_numpy()
            part.docs[name] = f"user attribute '{col}' as given (unit as in the input)"
            if col in sens:
                part.sensitive.add(name)
        if "age" in attrs.columns:
            age = pd.to_numeric(attrs["age"], errors="coerce").to_numpy(dtype=np.float64)
            idx = np.searchsorted(_AGE_EDGES, age, side="right")
            band = np.array(AGE_BANDS, dtype=object)[np.minimum(idx, len(AGE_BANDS) - 1)]
            band[~np.isfinite(age)] = None
            part.columns["age_band"] = band
            part.docs["age_band"] = (
                "age bucket, one of " + ", ".join(AGE_BANDS) + " (from the 'age' attribute, years)"
            )
            if "age" in sens:
                part.sensitive.add("age_band")
        reg_col = next((c for c in self.REGISTRATION_COLUMNS if c in attrs.columns), None)
        if reg_col is not None:
            reg_ns = attribute_time_ns(attrs[reg_col])
            valid = (reg_ns != np.iinfo(np.int64).min) & (reg_ns < ctx.as_of_ns)
            age_days = _full(ctx.n_users)
            age_days[valid] = _days(ctx.as_of_ns - reg_ns[valid])
            part.columns["account_age_days"] = age_days
            part.docs["account_age_days"] = (
                f"days from '{reg_col}' to as_of (days, float); NaN if missing or not before as_of"
            )
            if reg_col in sens:
                part.sensitive.add("account_age_days")
        return part


# --------------------------------------------------------------------- RFM
class RFMBuilder(Builder):
    """Recency, frequency and monetary value with 1-5 quantile scores.

    Purchases are events of type ``purchase``/``order`` (every event when the
    Dataset has no ``event`` column). Orders are distinct ``order_id`` values
    per user (distinct purchase days when there is no ``order_id``).

    Columns: ``recency_days`` (days from the last purchase to ``as_of``, float),
    ``frequency`` (number of orders), ``monetary`` (sum of quantity * paid unit
    price; quantity 1 and the item list price when missing),
    ``avg_order_value`` (monetary / frequency), ``r_score``, ``f_score``,
    ``m_score`` (1-5, 5 best) and ``rfm_score`` (their sum, 3-15).

    Scores are rank-based quintiles among users with at least one purchase:
    ``score = ceil(5 * rank / n)`` where ``rank`` is the average rank (ties
    share it, so equal values always get equal scores) and ``n`` the number of
    purchasers; recency is ranked so that fewer days score higher. Users with
    no purchase get NaN everywhere.

    Examples
    --------
    >>> RFMBuilder()
    RFMBuilder()
    """

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the RFM columns."""
        n = ctx.n_users
        p = ctx.purchases
        freq = np.bincount(ctx.order_user, minlength=n).astype(np.float64)
        buyer = freq > 0
        recency = np.where(buyer, _days(ctx.as_of_ns - ctx.last_purchase_t), np.nan)
        amount = p["amount"]
        monetary = np.bincount(p["u"], weights=np.nan_to_num(amount, nan=0.0),
                               minlength=n).astype(np.float64)
        nan_any = np.bincount(p["u"], weights=np.isnan(amount), minlength=n) > 0
        monetary[nan_any | ~buyer] = np.nan
        freq[~buyer] = np.nan
        aov = monetary / freq
        r = _quantile_score(recency, buyer, higher_is_better=False)
        f = _quantile_score(freq, buyer, higher_is_better=True)
        m_mask = buyer & np.isfinite(monetary)
        m = _quantile_score(monetary, m_mask, higher_is_better=True)
        part = ProfilePart()
        part.columns.update({
            "recency_days": recency,
            "frequency": freq,
            "monetary": monetary,
            "avg_order_value": aov,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": r + f + m,
        })
        part.docs.update({
            "recency_days": "days from the user's last purchase to as_of (days, float; "
                            "NaN: no purchase)",
            "frequency": "number of distinct orders (order_id; distinct purchase days without "
                         "order_id) (count; NaN: no purchase)",
            "monetary": "sum of quantity * paid unit price over purchases (currency of the data)",
            "avg_order_value": "monetary / frequency (currency per order)",
            "r_score": "recency quintile score 1-5, 5 = most recent (rank-based, ties share a score)",
            "f_score": "frequency quintile score 1-5, 5 = most orders (rank-based)",
            "m_score": "monetary quintile score 1-5, 5 = highest spend (rank-based)",
            "rfm_score": "r_score + f_score + m_score (3-15)",
        })
        return part


# ---------------------------------------------------------------- activity
class ActivityBuilder(Builder):
    """Activity volume, timing and the event-type funnel.

    Parameters
    ----------
    session_gap_minutes : float, default 30
        Without a ``session_id`` column, a new session starts after this many
        minutes without an event of the user.

    Notes
    -----
    Columns: ``n_events``, ``active_days`` (distinct UTC calendar days with an
    event), ``n_sessions``, ``first_seen``/``last_seen`` (timestamps),
    ``tenure_days`` (first_seen to as_of), ``preferred_hour`` (0-23, the local
    hour with most events, earliest on ties), ``preferred_weekday`` (0 = Monday,
    local); local time is the event's own UTC offset or its user's
    ``timezone`` (see ``Dataset.from_frames``), else the timestamp as given,
    ``view_share``/``cart_share``/``purchase_share`` (share of the user's
    events of each type) and ``view_to_purchase``/``cart_to_purchase``
    (purchase events per view / cart event). Without an ``event`` column the
    funnel columns are NaN.

    Examples
    --------
    >>> ActivityBuilder(session_gap_minutes=45)
    ActivityBuilder(session_gap_minutes=45.0)
    """

    def __init__(self, session_gap_minutes: float = 30.0) -> None:
        self.session_gap_minutes = check_number(
            session_gap_minutes, "session_gap_minutes", low=0, low_inclusive=False,
            owner="ActivityBuilder",
        )

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the activity columns."""
        n = ctx.n_users
        ev = ctx.events
        u, t = ev["u"], ev["t"]
        n_events = np.bincount(u, minlength=n)
        has = n_events > 0
        day = t // DAY_NS
        day_span = int(day.max() - day.min() + 1) if len(day) else 1
        day_key = u * day_span + (day - (day.min() if len(day) else 0))
        active_days = np.bincount(pd.unique(day_key) // day_span, minlength=n)
        if "session_id" in ev:
            s_code, _ = pd.factorize(ev["session_id"], use_na_sentinel=False)
            key = u * (int(s_code.max()) + 1 if len(s_code) else 1) + s_code
            n_sessions = np.bincount(pd.unique(key) // (int(s_code.max()) + 1 if len(s_code) else 1),
                                     minlength=n)
        else:
            order = np.lexsort((t, u))
            us, ts = u[order], t[order]
            gap = int(self.session_gap_minutes * 60 * 10**9)
            new = np.ones(len(us), dtype=bool)
            new[1:] = (us[1:] != us[:-1]) | (ts[1:] - ts[:-1] > gap)
            n_sessions = np.bincount(us[new], minlength=n)
        first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(first, u, t)
        np.maximum.at(last, u, t)
        lt = ev["lt"]  # local wall-clock time: the event's own offset or its user's zone
        hour = (lt // (3600 * 10**9)) % 24
        weekday = (lt // DAY_NS + 3) % 7  # 1970-01-01 was a Thursday
        pref_hour = _full(n)
        pref_hour[has] = np.bincount(u * 24 + hour, minlength=n * 24).reshape(n, 24)[has].argmax(1)
        pref_wd = _full(n)
        pref_wd[has] = np.bincount(u * 7 + weekday, minlength=n * 7).reshape(n, 7)[has].argmax(1)
        tenure = _full(n)
        tenure[has] = _days(ctx.as_of_ns - first[has])
        part = ProfilePart()
        part.columns.update({
            "n_events": n_events,
            "active_days": active_days,
            "n_sessions": n_sessions,
            "first_seen": _to_datetime_ns(first, has),
            "last_seen": _to_datetime_ns(last, has),
            "tenure_days": tenure,
            "preferred_hour": pref_hour,
            "preferred_weekday": pref_wd,
        })
        part.columns.update(self._funnel(ctx, n_events))
        part.docs.update({
            "n_events": "number of events before as_of (count)",
            "active_days": "distinct calendar days (UTC) with at least one event (days)",
            "n_sessions": "distinct session_id values, or sessions split by "
                          f"{self.session_gap_minutes:g}-minute gaps without session_id (count)",
            "first_seen": "time of the user's first event (timestamp)",
            "last_seen": "time of the user's last event before as_of (timestamp)",
            "tenure_days": "days from first_seen to as_of (days, float)",
            "preferred_hour": "local hour of day (0-23) with most events; earliest on ties",
            "preferred_weekday": "weekday with most events (0=Monday .. 6=Sunday)",
            "view_share": "share of the user's events that are views (0-1)",
            "cart_share": "share of the user's events that are add-to-cart (0-1)",
            "purchase_share": "share of the user's events that are purchases (0-1)",
            "view_to_purchase": "purchase events per view event (ratio; NaN without views)",
            "cart_to_purchase": "purchase events per cart event (ratio; NaN without carts)",
        })
        return part

    @staticmethod
    def _funnel(ctx: ProfileContext, n_events: np.ndarray) -> dict[str, np.ndarray]:
        n = ctx.n_users
        names = ["view_share", "cart_share", "purchase_share", "view_to_purchase", "cart_to_purchase"]
        codes = ctx.event_codes
        if codes is None:
            return {k: _full(n) for k in names}
        c, types = codes
        u = ctx.events["u"]
        lower = [x.lower() for x in types]

        def count(kinds: set[str]) -> np.ndarray:
            sel = np.array([x in kinds for x in lower] + [False])[np.where(c < 0, len(types), c)]
            return np.bincount(u[sel], minlength=n).astype(np.float64)

        views = count(VIEW_EVENTS)
        carts = count(CART_EVENTS)
        buys = ctx.purchase_mask
        purchases = np.bincount(u[buys], minlength=n).astype(np.float64)
        return ActivityBuilder.funnel_from_counts(views, carts, purchases, n_events)

    @staticmethod
    def funnel_from_counts(views: np.ndarray, carts: np.ndarray, purchases: np.ndarray,
                           n_events: np.ndarray) -> dict[str, np.ndarray]:
        """The funnel columns from per-user counts of views, carts, purchases and events."""
        tot = n_events.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "view_share": np.where(tot > 0, views / tot, np.nan),
                "cart_share": np.where(tot > 0, carts / tot, np.nan),
                "purchase_share": np.where(tot > 0, purchases / tot, np.nan),
                "view_to_purchase": np.where(views > 0, purchases / views, np.nan),
                "cart_to_purchase": np.where(carts > 0, purchases / carts, np.nan),
            }


# ---------------------------------------------------------------- affinity
class AffinityBuilder(Builder):
    """Time-decayed category / brand / price-band affinities.

    Every event contributes ``weight * 0.5 ** (age_days / half_life_days)``
    (``weight`` is the Dataset's event weight, ``age_days`` the time from the
    event to ``as_of``) to the values of its item; each user's row is then
    divided by its sum, so rows sum to 1 (or 0 without events). Kinds:

    - ``category_l1``, ``category_l2``, ``category_l3`` (and deeper levels
      when the data has them): the item ``category`` path split into levels
      (on ``">"`` and ``"/"`` by default, see ``ProfileBuilder.build(...,
      category_sep=)`` and :mod:`persona_rec.categories`), each part slugged
      (lower case, runs of other characters -> ``_``) and joined with ``/``:
      ``"Home > Kitchen"`` and ``"Home/Kitchen"`` -> ``"home"``,
      ``"home/kitchen"``;
    - ``brand``: slugged ``brand`` attribute;
    - ``price_band``: ``low``/``mid``/``high`` = item price tercile within its
      level-1 category (when that category has at least
      ``price_band_min_items`` priced items, else among all items); the item
      price is its list price, else its median paid price before ``as_of``.

    Summary columns: ``top_category`` (level-1 slug), ``top_category_l2``,
    ``top_brand``, ``top_price_band`` (argmax of the row, first on ties),
    ``brand_loyalty`` (share of the top brand in the brand row; NaN with
    fewer than ``min_brand_events`` branded events) and
    ``category_diversity`` (entropy of the level-1 row divided by the log of
    the number of level-1 categories; 0 = one category, 1 = uniform).

    Parameters
    ----------
    half_life_days : float, default 90
        Age at which an event counts half.
    min_brand_events : int, default 3
    price_band_min_items : int, default 20
    n_levels : int, default 3
        Minimum number of category levels reported (missing levels are empty).

    Examples
    --------
    >>> AffinityBuilder(half_life_days=30).half_life_days
    30.0
    """

    def __init__(
        self,
        half_life_days: float = 90.0,
        min_brand_events: int = 3,
        price_band_min_items: int = 20,
        n_levels: int = 3,
    ) -> None:
        self.half_life_days = check_number(
            half_life_days, "half_life_days", low=0, low_inclusive=False, owner="AffinityBuilder"
        )
        self.min_brand_events = check_int(min_brand_events, "min_brand_events", minimum=1,
                                          owner="AffinityBuilder")
        self.price_band_min_items = check_int(price_band_min_items, "price_band_min_items",
                                              minimum=1, owner="AffinityBuilder")
        self.n_levels = check_int(n_levels, "n_levels", minimum=1, owner="AffinityBuilder")

    def user_item_weights(self, ctx: ProfileContext) -> sp.csr_matrix:
        """Decayed users x items weight matrix (before row normalisation)."""
        ev = ctx.events
        age = _days(ctx.as_of_ns - ev["t"])
        w = ev["w"] * np.exp2(-age / self.half_life_days)
        m = sp.csr_matrix((w, (ev["u"], ev["i"])), shape=(ctx.n_users, ctx.n_items))
        m.sum_duplicates()
        return m

    def item_kinds(self, ctx: ProfileContext) -> dict[str, tuple[np.ndarray, list[str]]]:
        """Per affinity kind, the item -> value codes (-1 = none) and the value names."""
        kinds: dict[str, tuple[np.ndarray, list[str]]] = {}
        levels = ctx.category_levels
        for lvl in range(max(self.n_levels, len(levels))):
            if lvl < len(levels):
                kinds[f"category_l{lvl + 1}"] = (levels[lvl].codes, levels[lvl].names)
            else:
                kinds[f"category_l{lvl + 1}"] = (np.full(ctx.n_items, -1, dtype=np.int64), [])
        brands = ctx.brands
        kinds["brand"] = (brands.codes, brands.names) if brands is not None else (
            np.full(ctx.n_items, -1, dtype=np.int64), [])
        kinds["price_band"] = (ctx.price_bands(self.price_band_min_items), list(PRICE_BANDS))
        return kinds

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the affinity matrices and their summary columns."""
        kinds = self.item_kinds(ctx)
        bcodes = kinds["brand"][0]
        branded = bcodes[ctx.events["i"]] >= 0
        n_branded = np.bincount(ctx.events["u"][branded], minlength=ctx.n_users)
        return self.part_from_weights(self.user_item_weights(ctx), kinds, n_branded)

    def part_from_weights(self, ui: sp.csr_matrix,
                          kinds: dict[str, tuple[np.ndarray, list[str]]],
                          n_branded: np.ndarray) -> ProfilePart:
        """The affinity part from the decayed user x item weights.

        Parameters
        ----------
        ui : scipy.sparse.csr_matrix
            :meth:`user_item_weights` (n_users x n_items).
        kinds : dict
            :meth:`item_kinds`.
        n_branded : numpy.ndarray
            Per user, number of events on items with a brand.

        Returns
        -------
        ProfilePart
        """
        n_items = ui.shape[1]
        part = ProfilePart()
        for kind, (codes, names) in kinds.items():
            items = np.flatnonzero(codes >= 0)
            ind = sp.csr_matrix(
                (np.ones(len(items)), (items, codes[items])), shape=(n_items, len(names))
            )
            part.affinities[kind] = (_row_normalise(ui @ ind), list(names))

        def top(kind: str) -> np.ndarray:
            mat, names = part.affinities[kind]
            return _names_or_nan(_row_argmax(mat), names)

        l1 = part.affinities["category_l1"][0]
        k = l1.shape[1]
        p = l1.data.astype(np.float64)
        plogp = sp.csr_matrix((-p * np.log(p), l1.indices, l1.indptr), shape=l1.shape)
        ent = np.asarray(plogp.sum(axis=1)).ravel()
        has_cat = np.diff(l1.indptr) > 0
        diversity = np.where(has_cat, ent / np.log(k) if k > 1 else 0.0, np.nan)
        diversity = np.clip(diversity, 0.0, 1.0)
        loyalty = np.where(n_branded >= self.min_brand_events,
                           _row_max(part.affinities["brand"][0]), np.nan)
        part.columns.update({
            "top_category": top("category_l1"),
            "top_category_l2": top("category_l2"),
            "top_brand": top("brand"),
            "top_price_band": top("price_band"),
            "brand_loyalty": loyalty,
            "category_diversity": diversity,
        })
        hl = f"{self.half_life_days:g}-day half-life"
        part.docs.update({
            "top_category": f"level-1 category slug with the highest decayed affinity ({hl})",
            "top_category_l2": "level-2 category path (l1/l2 slugs) with the highest affinity",
            "top_brand": "brand slug with the highest decayed affinity",
            "top_price_band": "price band (low/mid/high) with the highest decayed affinity",
            "brand_loyalty": "share of the top brand in the user's decayed brand weights (0-1); "
                             f"NaN with fewer than {self.min_brand_events} branded events",
            "category_diversity": "normalised entropy of the level-1 category affinity "
                                  "(0 = one category, 1 = uniform over all level-1 categories)",
        })
        return part


# ------------------------------------------------------- price sensitivity
class PriceSensitivityBuilder(Builder):
    """Share of purchases made below the usual price for the same quantity tier.

    Unit prices often fall with the quantity bought (wholesale price breaks:
    1-11 units at 2.10, 12+ at 1.85 ...). Such a tier price is not a
    discount, so every comparison is made within a **quantity tier**: tier
    ``k`` holds the purchase lines with ``quantity_tiers[k] <= quantity <
    quantity_tiers[k + 1]``; quantities below the first edge or missing go to
    tier 0. The default edges :data:`QUANTITY_TIERS` (1, 6, 12, 24, 48, 100,
    200, 500, 1000) follow the half-dozen, dozen and case-pack breaks of
    wholesale price lists: tiers 1-5, 6-11, 12-23, ... ``quantity_tiers=[1]``
    puts every line in one tier (no tier pricing).

    Prices also change over time, so paid prices are compared within a
    **period** of ``period_days`` days (fixed windows counted from the first
    purchase before ``as_of``): a purchase made before a price rise is not a
    discount against the later prices.

    ``discount_share``: share of the user's purchase lines paid below the
    item's **tier list price**: the list price (``price`` attribute) in the
    first tier; in higher tiers the highest price paid for the item in that
    tier and period, capped at the list price (without a list price: that
    highest paid price in every tier). A line in a higher tier is thus a
    discount only if someone paid more for the same item in the same
    quantity tier at about the same time.

    ``price_sensitivity``: share of the user's purchase lines bought at a
    reduced price, i.e. below the tier list price **or** below the item's
    **usual tier price**:

    1. the median paid price of that item in that tier and period (purchases
       before ``as_of``) when it has at least ``min_item_sales`` purchases
       there at more than one price;
    2. else the tier list price above when the item has a list price;
    3. else the median paid price of the item's (full-path) category in that
       tier.

    "Below" means lower by more than a relative ``tolerance``. Lines without
    a paid price are ignored; NaN for users without priced purchase lines.

    Both halves of ``price_sensitivity`` matter: items bought mostly on
    promotion have a median paid price below list (so a discounted purchase
    is not "below the usual price"), and without list prices the median is
    the only reference. On the synthetic generator's planted price-sensitive
    users (no tier pricing), ``price_sensitivity >= 0.6`` has precision and
    recall >= 0.9 (seeds 0-3; users with at least one purchase). On the
    bundled Online Retail sample (wholesale tier prices, prices raised during
    the year) the top spender, who buys by the hundred, gets 0.15 (0.99 when
    every quantity is compared with the list price), and 0 of 993 buyers
    reach 0.6 (46 without tiers and periods).

    Parameters
    ----------
    min_item_sales : int, default 5
    tolerance : float, default 1e-6
    quantity_tiers : sequence of float, optional
        Increasing lower edges of the quantity tiers (the first one is the
        base tier, where the list price applies). Default
        :data:`QUANTITY_TIERS`.
    period_days : float or None, default 30
        Length of the periods within which paid prices are compared; None
        compares over all purchases before ``as_of``.

    Examples
    --------
    >>> PriceSensitivityBuilder(min_item_sales=3).min_item_sales
    3
    >>> PriceSensitivityBuilder(quantity_tiers=[1, 12, 100]).tiers(np.array([1, 11, 12, 500]))
    array([0, 0, 1, 2])
    >>> PriceSensitivityBuilder().tiers(np.array([1, 5, 6, 12, 150, np.nan]))
    array([0, 0, 1, 2, 5, 0])
    """

    def __init__(self, min_item_sales: int = 5, tolerance: float = 1e-6,
                 quantity_tiers: Any = None, period_days: float | None = 30.0) -> None:
        own = "PriceSensitivityBuilder"
        self.period_days = None if period_days is None else check_number(
            period_days, "period_days", low=0, low_inclusive=False, owner=own)
        self.min_item_sales = check_int(min_item_sales, "min_item_sales", minimum=1, owner=own)
        self.tolerance = check_number(tolerance, "tolerance", low=0, high=1, high_inclusive=False,
                                      owner=own)
        if quantity_tiers is not None:
            edges = [check_number(e, "quantity_tiers", low=0, low_inclusive=False, owner=own)
                     for e in (quantity_tiers if isinstance(quantity_tiers, (list, tuple, np.ndarray))
                               else [quantity_tiers])]
            if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
                raise InvalidParameterError(
                    f"The 'quantity_tiers' parameter of {own} must be a non-empty list of strictly "
                    f"increasing positive numbers (lower edges of the tiers), got {quantity_tiers!r}."
                )
        # stored as given (scikit-learn's clone checks identity); edges in _tier_edges
        self.quantity_tiers = quantity_tiers

    def _tier_edges(self) -> list[float]:
        """Lower tier edges in use (the default pack sizes when ``quantity_tiers`` is None)."""
        if self.quantity_tiers is None:
            return [float(e) for e in QUANTITY_TIERS]
        qt = self.quantity_tiers
        return [float(e) for e in (qt if isinstance(qt, (list, tuple, np.ndarray)) else [qt])]

    def tiers(self, quantity: np.ndarray) -> np.ndarray:
        """Quantity tier (0, 1, ...) of each purchase line; missing quantities are tier 0."""
        q = np.asarray(quantity, dtype=np.float64)
        q = np.where(np.isfinite(q), q, 0.0)
        t = np.searchsorted(np.asarray(self._tier_edges(), dtype=np.float64), q, side="right") - 1
        return np.maximum(t, 0).astype(np.int64)

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute ``price_sensitivity`` and ``discount_share``."""
        n = ctx.n_users
        p = ctx.purchases
        u, i, paid = p["u"], p["i"], p["paid"]
        tier = self.tiers(p["quantity"])
        n_tiers = int(tier.max()) + 1 if len(tier) else 1
        ok = np.isfinite(paid)
        # per (item, tier, period) statistics of the paid price
        if self.period_days is None or not len(tier):
            period = np.zeros(len(tier), dtype=np.int64)
        else:
            # windows counted from the first purchase (not aligned to the Unix epoch)
            period = (p["t"] - p["t"].min()) // int(self.period_days * DAY_NS)
        n_periods = int(period.max()) + 1 if len(period) else 1
        # dense codes of the (item, tier, period) cells: per-cell statistics are then
        # looked up by position instead of by hashing each line's key
        cell, _ = pd.factorize((i * n_tiers + tier) * n_periods + period)
        n_cells = int(cell.max()) + 1 if len(cell) else 0
        g = pd.Series(paid[ok]).groupby(cell[ok])

        def per_cell(values: pd.Series) -> np.ndarray:
            out = np.full(n_cells, np.nan)
            out[values.index.to_numpy()] = values.to_numpy(dtype=np.float64)
            return out[cell]

        tier_med = per_cell(g.median())
        tier_max = per_cell(g.max())
        # "more than one price" <=> min < max (cheaper than counting distinct prices)
        tier_ok = (per_cell(g.size()) >= self.min_item_sales) & (per_cell(g.min()) < tier_max)
        list_price = ctx.item_list_price[i] if len(i) else np.zeros(0)
        has_list = np.isfinite(list_price)
        # tier list price: list price in the base tier, else the highest paid price in the
        # (item, tier), capped at the list price
        tier_list = np.where(has_list & (tier == 0), list_price,
                             np.fmin(tier_max, np.where(has_list, list_price, np.nan)))
        # category median per (leaf category, tier) for items without list price nor sales
        leaf = ctx.leaf_category
        cat_of = leaf[i] if len(i) else np.zeros(0, dtype=np.int64)
        has_cat = ok & (cat_of >= 0)
        cat_ref = np.full(len(i), np.nan)
        need_cat = ~tier_ok & ~has_list  # the category median is only the last resort
        if (has_cat & need_cat).any():
            ckey = cat_of * n_tiers + tier
            cmed = pd.Series(paid[has_cat]).groupby(ckey[has_cat]).median()
            cat_ref[need_cat] = cmed.reindex(ckey[need_cat]).to_numpy()
            cat_ref[cat_of < 0] = np.nan
        ref = np.where(tier_ok, tier_med, np.where(has_list, tier_list, cat_ref))
        tol = 1.0 - self.tolerance
        valid = ok & np.isfinite(ref)
        below = valid & (paid < ref * tol)
        valid_d = ok & np.isfinite(tier_list)
        disc = valid_d & (paid < tier_list * tol)

        def share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            d = np.bincount(u[den], minlength=n).astype(np.float64)
            k = np.bincount(u[num], minlength=n).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(d > 0, k / d, np.nan)

        tiers_doc = f"tier lower edges {self._tier_edges()}"
        period = ("all purchases" if self.period_days is None
                  else f"{self.period_days:g}-day period")
        part = ProfilePart()
        part.columns["price_sensitivity"] = share(below | disc, valid | valid_d)
        part.columns["discount_share"] = share(disc, valid_d)
        part.docs["price_sensitivity"] = (
            "share of purchase lines bought at a reduced price for their quantity tier "
            f"({tiers_doc}) and {period}: below the item's usual price there (its median paid "
            f"price if it has >= {self.min_item_sales} sales at several prices, else its tier "
            "list price, else its category's median paid price in that tier) or below its tier "
            "list price (0-1)"
        )
        part.docs["discount_share"] = (
            "share of purchase lines paid below the item's tier list price: the list price in "
            "the base quantity tier, else the highest price paid for the item in the line's "
            f"quantity tier and {period} (capped at the list price) (0-1)"
        )
        return part


# ----------------------------------------------------------------- novelty
class NoveltyBuilder(Builder):
    """Share of purchases of items that were new at the time.

    ``novelty_seeking``: share of the user's purchase lines made within
    ``window_days`` days of the item's first appearance: the earlier of the
    item ``first_seen`` attribute (when present) and the item's first event
    before ``as_of``. NaN for users without purchases.

    Parameters
    ----------
    window_days : float, default 30

    Examples
    --------
    >>> NoveltyBuilder(window_days=14).window_days
    14.0
    """

    def __init__(self, window_days: float = 30.0) -> None:
        self.window_days = check_number(window_days, "window_days", low=0, low_inclusive=False,
                                        owner="NoveltyBuilder")

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute ``novelty_seeking``."""
        n = ctx.n_users
        p = ctx.purchases
        first = ctx.item_first_seen[p["i"]]
        known = first != np.iinfo(np.int64).min
        novel = known & (p["t"] - first <= int(self.window_days * DAY_NS))
        den = np.bincount(p["u"][known], minlength=n).astype(np.float64)
        num = np.bincount(p["u"][novel], minlength=n).astype(np.float64)
        part = ProfilePart()
        with np.errstate(invalid="ignore", divide="ignore"):
            part.columns["novelty_seeking"] = np.where(den > 0, num / den, np.nan)
        part.docs["novelty_seeking"] = (
            f"share of purchase lines made within {self.window_days:g} days of the item's first "
            "appearance (earlier of first_seen attribute and first event) (0-1)"
        )
        return part


# ------------------------------------------------------- expected interval
def expected_intervals(
    ctx: ProfileContext, prior_weight: float, default_interval_days: float
) -> dict[str, np.ndarray | float]:
    """Shrunk expected inter-order interval per user.

    ``expected = (k * own_median + prior_weight * population_median) / (k + prior_weight)``
    where ``k`` is the user's number of inter-order intervals, ``own_median``
    their median and ``population_median`` the median of all users'
    intervals (``default_interval_days`` when nobody has two orders).

    Parameters
    ----------
    ctx : ProfileContext
        Point-in-time context (orders before ``as_of``); results are cached on it.
    prior_weight : float
        Weight of the population median, in intervals.
    default_interval_days : float
        Population median used when no user has two orders.

    Returns
    -------
    dict
        Per-user arrays (internal user order): ``"expected"`` (days; NaN for
        non-buyers), ``"own_median"`` (NaN without an interval),
        ``"n_intervals"``, ``"first_t"`` / ``"last_t"`` (first and last
        purchase in ns), ``"last_gap"`` (days between the last two orders),
        ``"buyer"`` (bool); and ``"population_median"`` (float days).
    """
    key = ("expected_intervals", prior_weight, default_interval_days)
    cache = ctx.__dict__.setdefault("_cache", {})
    if key in cache:
        return cache[key]
    o = ctx.orders
    out = expected_intervals_from_orders(o["u"].to_numpy(), o["t"].to_numpy(),
                                         ctx.last_purchase_t, ctx.n_users, prior_weight,
                                         default_interval_days)
    cache[key] = out
    return out


def expected_intervals_from_orders(
    u: np.ndarray, t: np.ndarray, last_purchase_t: np.ndarray, n: int,
    prior_weight: float, default_interval_days: float,
) -> dict[str, np.ndarray | float]:
    """:func:`expected_intervals` from the order table.

    Parameters
    ----------
    u, t : numpy.ndarray
        User index and first-line time (int64 ns) of each order, sorted by
        user then time.
    last_purchase_t : numpy.ndarray
        Per user, time of the last purchase line (int64 min without one).
    n : int
        Number of users.
    prior_weight, default_interval_days : float
        As in :func:`expected_intervals`.

    Returns
    -------
    dict
        As :func:`expected_intervals`.
    """
    same = u[1:] == u[:-1]
    iv_u = u[1:][same]
    iv_days = (t[1:] - t[:-1])[same] / DAY_NS
    pop = float(np.median(iv_days)) if len(iv_days) else float(default_interval_days)
    k = np.bincount(iv_u, minlength=n).astype(np.float64)
    own = _full(n)
    if len(iv_days):
        med = pd.Series(iv_days).groupby(iv_u).median()
        own[med.index.to_numpy()] = med.to_numpy()
    own_filled = np.where(k > 0, own, 0.0)
    expected = (k * own_filled + prior_weight * pop) / (k + prior_weight) if prior_weight > 0 \
        else np.where(k > 0, own, pop)
    users, first, last = _per_user_first_last(u, n)
    first_t = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    last_t = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    first_t[users] = t[first]
    last_t[users] = last_purchase_t[users]
    last_gap = _full(n)
    multi = last > first
    last_gap[users[multi]] = _days(t[last[multi]] - t[last[multi] - 1])
    buyer = np.zeros(n, dtype=bool)
    buyer[users] = True
    return {
        "population_median": pop,
        "n_intervals": k,
        "own_median": own,
        "expected": np.where(buyer, expected, np.nan),
        "first_t": first_t,
        "last_t": last_t,
        "last_gap": last_gap,
        "buyer": buyer,
    }


# --------------------------------------------------------------- lifecycle
class LifecycleBuilder(Builder):
    """Lifecycle stage from recency relative to the user's expected interval.

    The expected interval between orders shrinks the user's own median
    inter-order interval towards the population median:
    ``(k * own + prior_weight * population) / (k + prior_weight)`` with ``k``
    the user's number of intervals (so one-order users get the population
    median). With ``recency`` = days since the last order and
    ``churn_threshold = min(churn_factor * expected, churn_cap_days)``,
    stages are assigned in this order of precedence:

    1. ``prospect``: no purchase before ``as_of``;
    2. ``new``: first purchase less than ``new_days`` days before ``as_of``;
    3. ``churned``: recency > churn_threshold and no event of any kind (view,
       cart ...) in the last ``at_risk_factor * expected`` days;
    4. ``at_risk``: recency > ``at_risk_factor * expected`` (includes lapsed
       buyers who still browse);
    5. ``reactivated``: the gap before the last order exceeded the churn
       threshold (the user had churned and came back);
    6. ``active``: everyone else.

    Parameters
    ----------
    new_days : float, default 30
    at_risk_factor : float, default 1.5
    churn_factor : float, default 3.0
    churn_cap_days : float, default 365
    prior_weight : float, default 3.0
    default_interval_days : float, default 30
        Population prior when nobody has two orders.

    Examples
    --------
    >>> LifecycleBuilder(churn_factor=4).churn_factor
    4.0
    """

    def __init__(
        self,
        new_days: float = 30.0,
        at_risk_factor: float = 1.5,
        churn_factor: float = 3.0,
        churn_cap_days: float = 365.0,
        prior_weight: float = 3.0,
        default_interval_days: float = 30.0,
    ) -> None:
        own = "LifecycleBuilder"
        self.new_days = check_number(new_days, "new_days", low=0, owner=own)
        self.at_risk_factor = check_number(at_risk_factor, "at_risk_factor", low=0,
                                           low_inclusive=False, owner=own)
        self.churn_factor = check_number(churn_factor, "churn_factor", low=0, low_inclusive=False,
                                         owner=own)
        if self.churn_factor <= self.at_risk_factor:
            raise InvalidParameterError(
                f"The 'churn_factor' parameter of LifecycleBuilder must be > at_risk_factor="
                f"{self.at_risk_factor}, got {churn_factor!r}."
            )
        self.churn_cap_days = check_number(churn_cap_days, "churn_cap_days", low=0,
                                           low_inclusive=False, owner=own)
        self.prior_weight = check_number(prior_weight, "prior_weight", low=0, owner=own)
        self.default_interval_days = check_number(default_interval_days, "default_interval_days",
                                                  low=0, low_inclusive=False, owner=own)

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute ``lifecycle_stage`` and ``expected_interval_days``."""
        est = expected_intervals(ctx, self.prior_weight, self.default_interval_days)
        ev = ctx.events
        last_event = np.full(ctx.n_users, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last_event, ev["u"], ev["t"])
        return self.part_from_intervals(est, ctx.as_of_ns, last_event)

    def part_from_intervals(self, est: dict[str, Any], as_of_ns: int,
                            last_event: np.ndarray) -> ProfilePart:
        """The lifecycle part from :func:`expected_intervals` and each user's last event.

        Parameters
        ----------
        est : dict
            :func:`expected_intervals` (or :func:`expected_intervals_from_orders`).
        as_of_ns : int
            ``as_of`` in ns.
        last_event : numpy.ndarray
            Per user, time of the last event of any kind (int64 ns; int64 min without one).

        Returns
        -------
        ProfilePart
        """
        buyer = est["buyer"]
        expected = est["expected"]
        recency = np.where(buyer, _days(as_of_ns - est["last_t"]), np.nan)
        since_first = np.where(buyer, _days(as_of_ns - est["first_t"]), np.nan)
        churn_thr = np.minimum(self.churn_factor * expected, self.churn_cap_days)
        risk_thr = self.at_risk_factor * expected
        browsing = _days(as_of_ns - last_event) <= risk_thr
        with np.errstate(invalid="ignore"):
            stage = np.select(
                [~buyer, since_first < self.new_days, (recency > churn_thr) & ~browsing,
                 recency > risk_thr, est["last_gap"] > churn_thr],
                ["prospect", "new", "churned", "at_risk", "reactivated"],
                default="active",
            )
        part = ProfilePart()
        part.columns["lifecycle_stage"] = pd.Categorical(stage, categories=list(LIFECYCLE_STAGES))
        part.columns["expected_interval_days"] = expected
        part.docs["lifecycle_stage"] = (
            "one of prospect (no purchase), new (first purchase < "
            f"{self.new_days:g} days ago), churned (recency > min({self.churn_factor:g} x "
            f"expected interval, {self.churn_cap_days:g} days) and no event in the last "
            f"{self.at_risk_factor:g} x expected interval), at_risk (recency > "
            f"{self.at_risk_factor:g} x expected interval), reactivated (last order came after "
            "a gap above the churn threshold), active"
        )
        part.docs["expected_interval_days"] = (
            "expected days between orders: own median interval shrunk to the population median "
            f"(prior weight {self.prior_weight:g} intervals) (days)"
        )
        return part


# -------------------------------------------------------------- repurchase
class RepurchaseBuilder(Builder):
    """Repurchase cycle per user and per (user, category).

    Per user: ``repurchase_interval_days`` (median days between consecutive
    orders; NaN with fewer than two orders) and three columns built on the
    *expected date* of the next order, last order + the shrunk expected
    interval (see :class:`LifecycleBuilder`):

    - ``next_purchase_date``: the expected date when it is at or after
      ``as_of``; NaT when it has already passed (the customer is overdue) or
      the user never bought. A forecast never lies in the past.
    - ``days_to_next_purchase``: days from ``as_of`` to ``next_purchase_date``
      (>= 0); NaN when overdue or without purchase.
    - ``days_overdue``: days from the expected date to ``as_of`` when it
      has passed (> 0); 0 when it has not; NaN without purchase.

    Exactly one of ``days_to_next_purchase`` and ``days_overdue`` is
    positive for a buyer (both 0 when the expected date is ``as_of``).

    Per (user, category) at ``category_level`` (table ``category_cycles``):
    ``n_orders`` (orders containing the category), ``median_interval_days``,
    ``last_purchase``, ``next_purchase_date`` (last + median interval, when
    at or after ``as_of``; NaT when it has passed) and ``days_overdue``
    (days since that expected date passed; 0 when it has not; NaN without an
    interval); only pairs with at least ``min_orders`` orders are listed.

    Parameters
    ----------
    category_level : int, default 1
    min_orders : int, default 2
    prior_weight : float, default 3.0
    default_interval_days : float, default 30

    Examples
    --------
    >>> RepurchaseBuilder(category_level=2).category_level
    2
    """

    def __init__(
        self,
        category_level: int = 1,
        min_orders: int = 2,
        prior_weight: float = 3.0,
        default_interval_days: float = 30.0,
    ) -> None:
        own = "RepurchaseBuilder"
        self.category_level = check_int(category_level, "category_level", minimum=1, owner=own)
        self.min_orders = check_int(min_orders, "min_orders", minimum=1, owner=own)
        self.prior_weight = check_number(prior_weight, "prior_weight", low=0, owner=own)
        self.default_interval_days = check_number(default_interval_days, "default_interval_days",
                                                  low=0, low_inclusive=False, owner=own)

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the per-user cycle columns and the ``category_cycles`` table."""
        est = expected_intervals(ctx, self.prior_weight, self.default_interval_days)
        buyer = est["buyer"]
        own = np.where(est["n_intervals"] > 0, est["own_median"], np.nan)
        next_ns = est["last_t"] + _whole_seconds_ns(est["expected"])
        ahead = _days(next_ns - ctx.as_of_ns)  # < 0: the expected date has passed
        upcoming = buyer & (ahead >= 0)
        part = ProfilePart()
        part.columns["repurchase_interval_days"] = own
        part.columns["next_purchase_date"] = _to_datetime_ns(next_ns, upcoming)
        part.columns["days_to_next_purchase"] = np.where(upcoming, ahead, np.nan)
        part.columns["days_overdue"] = np.where(buyer, np.maximum(-ahead, 0.0), np.nan)
        part.docs.update({
            "repurchase_interval_days": "median days between the user's consecutive orders "
                                        "(days; NaN with fewer than two orders)",
            "next_purchase_date": "expected date of the next order (last order time + "
                                  "expected_interval_days) when it is at or after as_of "
                                  "(timestamp; NaT when overdue or no purchase)",
            "days_to_next_purchase": "days from as_of to next_purchase_date (days, >= 0; NaN when "
                                     "overdue or no purchase)",
            "days_overdue": "days since the expected date of the next order passed without an "
                            "order (days; 0 when not overdue, NaN without purchase)",
        })
        part.tables["category_cycles"] = self._category_cycles(ctx)
        return part

    def _category_cycles(self, ctx: ProfileContext) -> pd.DataFrame:
        levels = ctx.category_levels
        empty = pd.DataFrame({
            "user_id": ctx.dataset.user_map.external_ids[:0],
            "category": pd.Series([], dtype=object),
            "n_orders": np.zeros(0, dtype=np.int64),
            "median_interval_days": np.zeros(0),
            "last_purchase": np.zeros(0, dtype="datetime64[ns]"),
            "next_purchase_date": np.zeros(0, dtype="datetime64[ns]"),
            "days_overdue": np.zeros(0),
        })
        if len(levels) < self.category_level:
            return empty
        lv = levels[self.category_level - 1]
        p = ctx.purchases
        c = lv.codes[p["i"]]
        ok = c >= 0
        if not ok.any():
            return empty
        n_cat = len(lv.names)
        # one row per (order, category): orders are user-specific keys
        key = p["order"][ok] * n_cat + c[ok]
        df = pd.DataFrame({"key": key, "t": p["t"][ok]}).groupby("key", sort=False)["t"].min()
        keys = df.index.to_numpy()
        order_of = keys // n_cat
        cat = keys % n_cat
        # user of each order
        user_of_order = np.zeros(int(p["order"].max()) + 1, dtype=np.int64)
        user_of_order[p["order"]] = p["u"]
        uu = user_of_order[order_of]
        t = df.to_numpy()
        srt = np.lexsort((t, cat, uu))
        uu, cat, t = uu[srt], cat[srt], t[srt]
        pair = uu * n_cat + cat
        same = np.zeros(len(pair), dtype=bool)
        same[1:] = pair[1:] == pair[:-1]
        gaps = pd.Series(np.where(same, (t - np.roll(t, 1)) / DAY_NS, np.nan))
        grp = pd.DataFrame({"pair": pair, "t": t, "gap": gaps}).groupby("pair", sort=True)
        agg = grp.agg(n_orders=("t", "size"), last=("t", "max"), median=("gap", "median"))
        agg = agg[agg["n_orders"] >= self.min_orders]
        pairs = agg.index.to_numpy()
        med = agg["median"].to_numpy()
        last = agg["last"].to_numpy()
        has = np.isfinite(med)
        nxt = last + _whole_seconds_ns(med)
        ahead = _days(nxt - ctx.as_of_ns)
        return pd.DataFrame({
            "user_id": ctx.dataset.user_map.to_external(pairs // n_cat),
            "category": np.asarray(lv.names, dtype=object)[pairs % n_cat],
            "n_orders": agg["n_orders"].to_numpy().astype(np.int64),
            "median_interval_days": med,
            "last_purchase": last.astype("datetime64[ns]"),
            "next_purchase_date": _to_datetime_ns(nxt, has & (ahead >= 0)),
            "days_overdue": np.where(has, np.maximum(-ahead, 0.0), np.nan),
        })

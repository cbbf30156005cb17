"""Purchase timing profile columns: how regularly, how recently and how "due" a customer is.

:class:`PurchaseTimingBuilder` summarises each customer's purchase *days*
(calendar days, UTC, with at least one purchase: the unit of the BG/NBD
summary in :mod:`persona_rec.profiles.predictive`) before ``as_of``: how many
distinct days, weeks and months they bought on, the mean and spread of the
gaps between purchase days, how overdue the next purchase is relative to
that rhythm, and the activity of the last 30/90/180 days. These are the
behavioural features that rank "buys again in the next window" best on
Online Retail (see ``docs/predictive.md``); they are not part of
``ProfileBuilder.default()`` (the default profile set is unchanged) but are in
the default feature set of :class:`~persona_rec.marketing.LearnedPropensity`.
"""

from __future__ import annotations

import numpy as np

from ._context import DAY_NS, ProfileContext
from .builders import Builder, ProfilePart

__all__ = ["PurchaseTimingBuilder", "TIMING_COLUMNS", "TIMING_WINDOWS_DAYS"]

#: Look-back windows (days before ``as_of``) of the ``purchase_days_<w>d`` columns.
TIMING_WINDOWS_DAYS: tuple[int, ...] = (30, 90, 180)

#: Columns produced by :class:`PurchaseTimingBuilder`.
TIMING_COLUMNS: tuple[str, ...] = (
    "purchase_days", "purchase_weeks", "purchase_months", "first_purchase_days",
    "gap_mean_days", "gap_std_days", "dueness",
    *(f"purchase_days_{w}d" for w in TIMING_WINDOWS_DAYS),
    "spend_90d", "recent_day_share",
)


class PurchaseTimingBuilder(Builder):
    """Purchase-day rhythm per customer: counts, gaps, due-ness and recent activity.

    Everything is computed from the purchases strictly before ``as_of`` (the
    shared :class:`~persona_rec.profiles.ProfileContext` never sees later
    events), vectorised over the distinct (user, purchase day) pairs. Users
    without a purchase get NaN in every column, as for the RFM columns.

    Columns (purchase day = calendar day, UTC, with at least one purchase):

    - ``purchase_days``, ``purchase_weeks``, ``purchase_months``: distinct
      purchase days, ISO weeks (Monday to Sunday) and calendar months;
    - ``first_purchase_days``: days from the first purchase day to ``as_of``;
    - ``gap_mean_days``: mean gap between consecutive purchase days (NaN with
      one purchase day); ``gap_std_days``: their sample standard deviation
      (NaN with fewer than two gaps);
    - ``dueness``: days from the last purchase day to ``as_of`` divided by
      ``gap_mean_days`` (1 = a usual gap has passed; NaN with one purchase day);
    - ``purchase_days_30d``, ``purchase_days_90d``, ``purchase_days_180d``:
      purchase days in the last 30/90/180 days before ``as_of``;
    - ``spend_90d``: spend (quantity x paid price) in the last 90 days (NaN
      when a line in that window has no price);
    - ``recent_day_share``: ``purchase_days_90d / purchase_days`` (0-1: the
      trend of the customer's activity).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> from persona_rec.profiles import ProfileBuilder
    >>> events = pd.DataFrame({
    ...     "user_id": ["a", "a", "a", "a", "b"],
    ...     "item_id": ["x", "y", "x", "x", "y"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00",
    ...                                  "2024-01-11 10:00", "2024-01-31 10:00",
    ...                                  "2024-01-20 10:00"]),
    ...     "price": [2.0, 3.0, 2.0, 2.0, 5.0]})
    >>> ds = Dataset.from_frames(events)
    >>> f = ProfileBuilder([PurchaseTimingBuilder()]).build(ds, as_of="2024-02-10").frame
    >>> f.loc["a", ["purchase_days", "gap_mean_days", "gap_std_days", "dueness"]].tolist()
    [3.0, 15.0, 7.0710678118654755, 0.6666666666666666]
    >>> f.loc["b", ["purchase_days", "gap_mean_days", "purchase_days_30d"]].tolist()
    [1.0, nan, 1.0]
    """

    def build(self, ctx: ProfileContext) -> ProfilePart:
        """Compute the purchase timing columns."""
        n = ctx.n_users
        p = ctx.purchases
        u = np.asarray(p["u"], dtype=np.int64)
        t = np.asarray(p["t"], dtype=np.int64)
        day_of_line = np.floor_divide(t, DAY_NS)
        # distinct (user, day) pairs, sorted by user then day
        pairs = np.unique(np.stack([u, day_of_line], axis=1), axis=0) if len(u) else \
            np.zeros((0, 2), dtype=np.int64)
        pu, pday = pairs[:, 0], pairs[:, 1]
        as_of_day = ctx.as_of_ns / DAY_NS
        buyer = np.bincount(pu, minlength=n) > 0

        def per_user(values: np.ndarray | None = None, users: np.ndarray = pu) -> np.ndarray:
            out = np.bincount(users, weights=values, minlength=n).astype(np.float64)
            out[~buyer] = np.nan
            return out

        def distinct(keys: np.ndarray) -> np.ndarray:
            if len(keys) == 0:
                return per_user()
            both = np.unique(np.stack([pu, keys], axis=1), axis=0)
            return per_user(users=both[:, 0])

        n_days = per_user()
        weeks = np.floor_divide(pday + 3, 7)  # 1970-01-01 is a Thursday: weeks start on Monday
        months = pday.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        first = np.full(n, np.inf)
        np.minimum.at(first, pu, pday)
        last = np.full(n, -np.inf)
        np.maximum.at(last, pu, pday)

        same = pu[1:] == pu[:-1]
        gap = (pday[1:] - pday[:-1])[same].astype(np.float64)
        gu = pu[1:][same]
        n_gaps = np.bincount(gu, minlength=n).astype(np.float64)
        s1 = np.bincount(gu, weights=gap, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            gap_mean = np.where(n_gaps > 0, s1 / n_gaps, np.nan)
            dev = gap - gap_mean[gu]
            ss = np.bincount(gu, weights=dev * dev, minlength=n)
            gap_std = np.where(n_gaps > 1, np.sqrt(ss / np.maximum(n_gaps - 1, 1)), np.nan)
            since_last = np.where(buyer, as_of_day - last, np.nan)
            dueness = since_last / gap_mean

        part = ProfilePart()
        cols = part.columns
        cols["purchase_days"] = n_days
        cols["purchase_weeks"] = distinct(weeks)
        cols["purchase_months"] = distinct(months)
        cols["first_purchase_days"] = np.where(buyer, as_of_day - first, np.nan)
        cols["gap_mean_days"] = gap_mean
        cols["gap_std_days"] = gap_std
        cols["dueness"] = dueness
        age = as_of_day - pday  # > 0 for every purchase day (they are before as_of)
        for w in TIMING_WINDOWS_DAYS:
            cols[f"purchase_days_{w}d"] = per_user((age <= w).astype(np.float64))
        amount = np.asarray(p["amount"], dtype=np.float64)
        recent = (ctx.as_of_ns - t) <= 90 * DAY_NS
        spend = per_user(np.where(recent, np.nan_to_num(amount, nan=0.0), 0.0), users=u) \
            if len(u) else per_user()
        missing = np.bincount(u[recent], weights=np.isnan(amount[recent]), minlength=n) > 0
        spend[missing] = np.nan
        cols["spend_90d"] = spend
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["recent_day_share"] = cols["purchase_days_90d"] / n_days

        d = part.docs
        d["purchase_days"] = ("distinct calendar days (UTC) with a purchase before as_of (count; "
                              "NaN: no purchase)")
        d["purchase_weeks"] = "distinct ISO weeks (Monday-Sunday) with a purchase (count)"
        d["purchase_months"] = "distinct calendar months with a purchase (count)"
        d["first_purchase_days"] = "days from the first purchase day to as_of (days)"
        d["gap_mean_days"] = ("mean gap between consecutive purchase days (days; NaN: one "
                              "purchase day)")
        d["gap_std_days"] = ("sample standard deviation of the gaps between purchase days (days; "
                             "NaN: fewer than two gaps)")
        d["dueness"] = ("days from the last purchase day to as_of / gap_mean_days (1 = one usual "
                        "gap has passed; NaN: one purchase day)")
        for w in TIMING_WINDOWS_DAYS:
            d[f"purchase_days_{w}d"] = f"purchase days in the last {w} days before as_of (count)"
        d["spend_90d"] = ("quantity x paid price of the purchases in the last 90 days before "
                          "as_of (currency; NaN: a line there has no price)")
        d["recent_day_share"] = "purchase_days_90d / purchase_days (0-1)"
        return part

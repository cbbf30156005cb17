"""Profiles on Spark: the default profile builders as Spark DataFrame aggregations.

:func:`build_profiles` evaluates the builders of
:meth:`persona_rec.profiles.ProfileBuilder.default` (demographics, RFM,
activity, category/brand/price affinity, price sensitivity, novelty,
lifecycle, repurchase cycle) on a :class:`~persona_rec.spark.SparkEvents`
at a point in time. Configuration comes from the same builder objects, so
defaults and parameter validation are defined once; category paths and brand
names are slugged by the same Python functions as the pandas path, applied
to the distinct values only. The column formulas are written a second time
(Spark expressions instead of numpy); ``tests/spark`` checks the two against
each other on the full Online Retail file, on the hand-computed tiny shop and
on random event frames (with local time offsets, views without prices and
quantity tiers).

Missing values are SQL ``null`` where pandas has ``NaN``/``NaT``/``None``.

This module is one cohesive unit, the Spark twin of
``persona_rec/profiles/builders.py`` (one function per builder), hence its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._text import CategorySep, category_parts, resolve_category_sep, slugify_values
from ..columns import Columns, PURCHASE_EVENTS
from .._validation import as_of_or_after, check_instance
from ..exceptions import InvalidDtypeError, InvalidParameterError
from ..profiles.builders import (
    AGE_BANDS,
    COMPUTED_COLUMNS,
    PRICE_BANDS,
    ActivityBuilder,
    AffinityBuilder,
    DemographicBuilder,
    LifecycleBuilder,
    NoveltyBuilder,
    PriceSensitivityBuilder,
    RepurchaseBuilder,
    RFMBuilder,
)
from ..profiles.profiles import KNOWN_COLUMN, ProfileBuilder
from .events import ROW_ORDER, SparkEvents

__all__ = ["SparkProfiles", "build_profiles"]

_DAY_US = 86_400 * 10**6
_U, _I = Columns.USER, Columns.ITEM
_VIEW_EVENTS = ("view", "click")
_CART_EVENTS = ("cart", "add_to_cart", "addtocart")
_CYCLES_SCHEMA = ("user_id string, category string, n_orders long, median_interval_days double, "
                  "last_purchase timestamp, next_purchase_date timestamp, days_overdue double")
_SUPPORTED = (DemographicBuilder, RFMBuilder, ActivityBuilder, AffinityBuilder,
              PriceSensitivityBuilder, NoveltyBuilder, LifecycleBuilder, RepurchaseBuilder)


def _F() -> Any:
    from pyspark.sql import functions as F

    return F


def _days(us: Any) -> Any:
    """Microsecond duration (long) -> days (double)."""
    return us.cast("double") / float(_DAY_US)


def _floor_div(a: Any, b: int) -> Any:
    """Exact integer floor division of a long column by a positive constant."""
    F = _F()
    if b <= 1:
        return a
    return F.round((a - F.pmod(a, F.lit(b))) / F.lit(b)).cast("long")


def _div(num: Any, den: Any) -> Any:
    """``num / den`` where ``den > 0``, else null (no ANSI division error)."""
    F = _F()
    return F.when(den > 0, num.cast("double") / den.cast("double"))


@dataclass
class SparkProfiles:
    """Profiles computed by Spark (the counterpart of :class:`~persona_rec.profiles.Profiles`).

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        One row per user (users with events and attribute-only users):
        ``user_id`` then the columns of ``Profiles.frame`` in the same order,
        with the same meanings and units; null where pandas has NaN.
    affinities : pyspark.sql.DataFrame
        Long format ``user_id, kind, value, affinity`` (the non-zero cells of
        ``Profiles.affinities``; float32 values as in pandas, rows sum to 1).
    category_cycles : pyspark.sql.DataFrame
        ``user_id, category, n_orders, median_interval_days, last_purchase,
        next_purchase_date`` as ``Profiles.category_cycles``.
    as_of : pandas.Timestamp
    sensitive_columns : frozenset of str
    column_docs : dict
    user_order : pyspark.sql.DataFrame or None
        ``user_id, okey_a, okey_b``: sorting by ``(okey_a, okey_b)`` gives the
        row order of ``Profiles.frame`` on the same data (first appearance in
        the kept events, then users listed only in the users frame); the Spark
        :func:`~persona_rec.spark.select_audience` breaks ties in that order.
    """

    frame: Any
    affinities: Any
    category_cycles: Any
    as_of: pd.Timestamp
    sensitive_columns: frozenset[str] = field(default_factory=frozenset)
    column_docs: dict[str, str] = field(default_factory=dict)
    _release: Any = field(default=None, repr=False)
    user_order: Any = field(default=None, repr=False)

    def unpersist(self) -> None:
        """Release the intermediate frames cached while building (call when done)."""
        if self._release is not None:
            self._release()

    def export(self, include_sensitive: bool = False) -> Any:
        """The profile frame without the sensitive columns (unless asked)."""
        if not isinstance(include_sensitive, bool):
            raise InvalidDtypeError(f"include_sensitive must be a bool, got {include_sensitive!r}.")
        cols = [c for c in self.frame.columns
                if include_sensitive or c not in self.sensitive_columns]
        return self.frame.select(*cols)


class _Ctx:
    """Shared point-in-time Spark frames (the counterpart of ``ProfileContext``)."""

    def __init__(self, ev: SparkEvents, as_of: pd.Timestamp,
                 category_sep: tuple[str, ...]) -> None:
        F = _F()
        self.ev = ev
        self.as_of = as_of
        self.category_sep = category_sep
        # events have microsecond timestamps: t < as_of  <=>  t_us < ceil(as_of_ns / 1000)
        self.as_of_us = -((-int(as_of.value)) // 1000)
        inter = ev.interactions.withColumn("tu", F.unix_micros(F.col(Columns.TIMESTAMP)))
        # local wall-clock time (µs): timestamp + utc_offset_min, as local_time_ns
        if Columns.UTC_OFFSET in inter.columns:
            inter = inter.withColumn("lt", F.col("tu") + F.col(Columns.UTC_OFFSET).cast("long")
                                     * F.lit(60 * 10**6))
        else:
            inter = inter.withColumn("lt", F.col("tu"))
        self.all_events = inter
        self._cached: list[Any] = []
        self.has_event = Columns.EVENT in inter.columns
        self.events = self.keep(inter.where(F.col("tu") < F.lit(self.as_of_us)))
        self.user_keys = self.keep(self._users())
        self.users = self.user_keys.select(_U)
        self.items = self.keep(self._items())

    def keep(self, df: Any) -> Any:
        """Materialise an intermediate frame and cut its lineage (``localCheckpoint``).

        Builders join a dozen frames that all derive from the same inputs; without
        cutting the lineage the logical plan grows with every join (the analyser
        then runs out of driver memory on the full Online Retail file). The
        checkpoint lives on the executors; ``release`` drops it.
        """
        df = df.localCheckpoint(eager=True)
        self._cached.append(df)
        return df

    def release(self) -> None:
        for df in self._cached:
            df.unpersist()

    def age_days(self, col: str = "tu") -> Any:
        return _days(_F().lit(self.as_of_us) - _F().col(col))

    def _users(self) -> Any:
        """One row per user: ``user_id, okey_a, okey_b`` (the Dataset's user order).

        A Dataset numbers users by their first row among the kept events, then
        the users that only the users frame lists, in its order; ``(okey_a,
        okey_b)`` sorts users the same way.
        """
        F = _F()
        ids = (self.ev.interactions.groupBy(_U).agg(F.min(ROW_ORDER).alias("okey_b"))
               .withColumn("okey_a", F.lit(0)))
        if self.ev.users is not None:
            only = (self.ev.users.select(_U, F.col(ROW_ORDER).alias("okey_b"))
                    .join(ids.select(_U), _U, "left_anti").withColumn("okey_a", F.lit(1)))
            ids = ids.unionByName(only)
        return ids

    def _items(self) -> Any:
        """One row per item: ``item_id, okey_a, okey_b`` (item-map order) and attributes."""
        F = _F()
        from_events = (self.ev.interactions.groupBy(_I)
                       .agg(F.min(ROW_ORDER).alias("okey_b"))
                       .withColumn("okey_a", F.lit(0)))
        items = self.ev.items
        if items is None:
            return from_events
        only = (items.select(_I, F.col(ROW_ORDER).alias("okey_b"))
                .join(from_events.select(_I), _I, "left_anti").withColumn("okey_a", F.lit(1)))
        keys = from_events.unionByName(only)
        attrs = items.drop(ROW_ORDER)
        return keys.join(attrs, _I, "left")

    @property
    def item_columns(self) -> list[str]:
        return self.items.columns

    @property
    def purchase_cond(self) -> Any:
        F = _F()
        if not self.has_event:
            return F.lit(True)
        return F.coalesce(F.lower(F.col(Columns.EVENT).cast("string"))
                          .isin(sorted(PURCHASE_EVENTS)), F.lit(False))

    def purchases(self) -> Any:
        """Purchase lines: ``user_id, item_id, tu, qty, paid, amount, order_key``."""
        F = _F()
        p = self.events.where(self.purchase_cond)
        if Columns.PRICE in p.columns:
            paid = F.col(Columns.PRICE).cast("double")
        elif Columns.PRICE in self.item_columns:
            p = p.join(self.items.select(_I, F.col(Columns.PRICE).cast("double").alias("_lp")),
                       _I, "left")
            paid = F.col("_lp")
        else:
            paid = F.lit(None).cast("double")
        qty = (F.col(Columns.QUANTITY).cast("double") if Columns.QUANTITY in p.columns
               else F.lit(1.0))
        paid = F.when(~F.isnan(paid), paid)  # NaN counts as missing
        day = F.floor(F.col("tu") / F.lit(_DAY_US)).cast("string")
        if "order_id" in p.columns:
            # a line without an order_id is one order per (user, purchase day), as in pandas;
            # the prefixes keep day keys apart from order ids that look like day numbers
            oid = F.col("order_id")
            missing = oid.isNull()
            if p.schema["order_id"].dataType.typeName() in ("float", "double"):
                missing = missing | F.isnan(oid)
            order_key = F.when(missing, F.concat(F.lit("day:"), day)).otherwise(
                F.concat(F.lit("id:"), oid.cast("string")))
        else:
            order_key = day
        return p.select(_U, _I, "tu", qty.alias("qty"), paid.alias("paid"),
                        (qty * paid).alias("amount"), order_key.alias("order_key"))

    def category_levels(self, n_levels: int) -> Any:
        """Item -> category slug path per level: ``item_id, level, name`` (+ name order key).

        The Python :func:`~persona_rec._text.category_parts` is applied to the
        distinct raw category values (a small vocabulary), not per event.
        """
        F = _F()
        if "category" not in self.item_columns:
            return None
        raw = self.items.where(F.col("category").isNotNull()).select(
            F.col("category").cast("string").alias("category")).distinct()
        sep = self.category_sep  # resolved on the driver: executors do not share its default

        def expand(batches: Any) -> Any:
            for b in batches:
                rows = []
                for path in b["category"]:
                    parts = category_parts(path, sep)
                    for lvl in range(len(parts)):
                        rows.append((path, lvl + 1, "/".join(parts[: lvl + 1])))
                yield pd.DataFrame(rows, columns=["category", "level", "name"]).astype(
                    {"level": "int32"})

        mapping = raw.mapInPandas(expand, "category string, level int, name string")
        lv = (self.items.where(F.col("category").isNotNull())
              .select(_I, "okey_a", "okey_b", F.col("category").cast("string").alias("category"))
              .join(F.broadcast(mapping), "category"))
        return self.keep(lv.drop("category"))

    def brands(self) -> Any:
        F = _F()
        if "brand" not in self.item_columns:
            return None
        raw = self.items.where(F.col("brand").isNotNull()).select(
            F.col("brand").cast("string").alias("brand")).distinct()

        def slug(batches: Any) -> Any:
            for b in batches:
                yield pd.DataFrame({"brand": b["brand"],
                                    "name": slugify_values(b["brand"].to_numpy(dtype=object))})

        mapping = raw.mapInPandas(slug, "brand string, name string").where(
            F.col("name").isNotNull())
        return self.keep(self.items.where(F.col("brand").isNotNull())
                         .select(_I, "okey_a", "okey_b",
                                 F.col("brand").cast("string").alias("brand"))
                         .join(F.broadcast(mapping), "brand").drop("brand"))


def _builders(builder: ProfileBuilder | None) -> dict[type, Any]:
    if builder is None:
        builder = ProfileBuilder.default()
    check_instance(builder, ProfileBuilder, "builder must be a persona_rec.profiles.ProfileBuilder")
    out: dict[type, Any] = {}
    for b in builder.builders:
        if type(b) not in _SUPPORTED:
            raise InvalidParameterError(
                f"builder holds {type(b).__name__}, which has no Spark definition; supported: "
                f"{[c.__name__ for c in _SUPPORTED]}."
            )
        if type(b) in out:
            raise InvalidParameterError(
                f"builder holds {type(b).__name__} twice; each column must come from one builder."
            )
        out[type(b)] = b
    return out


# ------------------------------------------------------------------ helpers
def _quantile_score(df: Any, col: str, higher_is_better: bool, out: str) -> Any:
    """1-5 rank-based quantile score of ``df[col]`` (non-null rows), as in the pandas path.

    ``score = clip(ceil(5 * (below + (ties + 1) / 2) / n - 1e-9), 1, 5)``: the
    average rank of the value among the ``n`` scored users. The ranking runs
    over one row per distinct value.
    """
    from pyspark.sql import Window

    F = _F()
    v = F.col(col) if higher_is_better else -F.col(col)
    counts = df.where(F.col(col).isNotNull()).groupBy(v.alias("_v")).count()
    w_below = Window.orderBy("_v").rowsBetween(Window.unboundedPreceding, -1)
    w_all = Window.partitionBy(F.lit(1))
    counts = counts.select(
        "_v", "count",
        F.coalesce(F.sum("count").over(w_below), F.lit(0)).alias("_below"),
        F.sum("count").over(w_all).alias("_n"),
    )
    pct = (F.col("_below") + (F.col("count") + 1) / 2.0) / F.col("_n")
    score = F.least(F.greatest(F.ceil(pct * 5 - 1e-9), F.lit(1)), F.lit(5)).cast("double")
    scores = counts.select("_v", score.alias(out))
    return df.where(F.col(col).isNotNull()).select(_U, v.alias("_v")).join(
        scores, "_v").select(_U, out)


def _median(df: Any, keys: list[str], col: str, out: str) -> Any:
    """Median of ``col`` per ``keys`` exactly as pandas: the middle value, or the mean of the two.

    Spark's ``median`` interpolates (``a + (b - a) * 0.5``), which can differ from
    pandas' ``(a + b) / 2`` in the last bit, and a rounding to whole seconds
    then flips. So the Spark median ``m`` only locates the middle: a second
    aggregation finds the two middle values around it (counts below and at
    ``m``, nearest values on each side) without sorting or collecting a group.
    Null values are ignored. Returns ``keys + [out]`` (one row per group).
    """
    F = _F()
    x = df.where(F.col(col).isNotNull()).select(*keys, F.col(col).alias("_x"))
    m = x.groupBy(*keys).agg(F.median("_x").alias("_m"), F.count(F.lit(1)).alias("_cnt"))
    j = x.join(m, keys) if keys else x.crossJoin(m)
    xv, mv = F.col("_x"), F.col("_m")
    g = j.groupBy(*keys, "_m", "_cnt").agg(
        F.sum((xv < mv).cast("long")).alias("_lt"),
        F.sum((xv <= mv).cast("long")).alias("_le"),
        F.max(F.when(xv < mv, xv)).alias("_below"),
        F.min(F.when(xv > mv, xv)).alias("_above"))
    n = F.col("_cnt")
    odd = (n % 2) == 1
    r1 = F.when(odd, (n + 1) / 2).otherwise(n / 2)  # ranks of the two middle values
    r2 = F.when(odd, (n + 1) / 2).otherwise(n / 2 + 1)
    a = F.when(F.col("_lt") >= r1, F.col("_below")).otherwise(mv)
    b = F.when(F.col("_le") < r2, F.col("_above")).otherwise(mv)
    return g.select(*keys, F.when(odd, mv).otherwise((a + b) / 2.0).alias(out))


def _argmax_name(df: Any, value: str, out: str) -> Any:
    """Per user, the name with the largest ``value``; ties -> first in item-map order."""
    F = _F()
    best = F.max(F.struct(F.col(value), -F.col("nkey_a"), -F.col("nkey_b"), F.col("name")))
    return df.groupBy(_U).agg(best.getField("name").alias(out))


# ----------------------------------------------------------------- builders
def _demographic(ctx: _Ctx, docs: dict[str, str], sensitive: set[str]) -> tuple[Any, list[str]]:
    F = _F()
    users = ctx.ev.users
    if users is None:
        return None, []
    sens = set(ctx.ev.sensitive_columns)
    attrs = [c for c in users.columns if c not in (_U, ROW_ORDER)]
    sel = [F.col(_U)]
    names: list[str] = []
    for col in attrs:
        name = f"attr_{col}" if col in COMPUTED_COLUMNS else str(col)
        sel.append(F.col(col).alias(name))
        names.append(name)
        docs[name] = f"user attribute '{col}' as given (unit as in the input)"
        if col in sens:
            sensitive.add(name)
    if "age" in attrs:
        age = F.col("age").try_cast("double")
        edges = [18, 25, 35, 45, 55, 65]
        band = F.when(age < edges[0], AGE_BANDS[0])
        for k in range(1, len(edges)):
            band = band.when(age < edges[k], AGE_BANDS[k])
        band = F.when(age.isNotNull() & ~F.isnan(age) & (F.abs(age) != float("inf")),
                      band.otherwise(AGE_BANDS[-1]))
        sel.append(band.alias("age_band"))
        names.append("age_band")
        docs["age_band"] = ("age bucket, one of " + ", ".join(AGE_BANDS)
                            + " (from the 'age' attribute, years)")
        if "age" in sens:
            sensitive.add("age_band")
    reg_col = next((c for c in DemographicBuilder.REGISTRATION_COLUMNS if c in attrs), None)
    if reg_col is not None:
        reg_us = _as_micros(users, reg_col)
        sel.append(F.when(reg_us < F.lit(ctx.as_of_us), _days(F.lit(ctx.as_of_us) - reg_us))
                   .alias("account_age_days"))
        names.append("account_age_days")
        docs["account_age_days"] = (
            f"days from '{reg_col}' to as_of (days, float); NaN if missing or not before as_of")
        if reg_col in sens:
            sensitive.add("account_age_days")
    return users.select(*sel), names


def _rfm(ctx: _Ctx, p: Any) -> Any:
    F = _F()
    orders = p.groupBy(_U, "order_key").count()
    freq = orders.groupBy(_U).agg(F.count(F.lit(1)).cast("double").alias("frequency"))
    per_user = p.groupBy(_U).agg(
        F.max("tu").alias("_last_tu"),
        F.sum("amount").alias("_sum"),
        F.count("amount").alias("_n_amount"),
        F.count(F.lit(1)).alias("_n_lines"),
    )
    df = freq.join(per_user, _U).select(
        _U,
        ctx.age_days("_last_tu").alias("recency_days"),
        "frequency",
        F.when(F.col("_n_amount") == F.col("_n_lines"), F.col("_sum")).alias("monetary"),
    ).withColumn("avg_order_value", F.col("monetary") / F.col("frequency"))
    r = _quantile_score(df, "recency_days", False, "r_score")
    f = _quantile_score(df, "frequency", True, "f_score")
    m = _quantile_score(df, "monetary", True, "m_score")
    out = df.join(r, _U, "left").join(f, _U, "left").join(m, _U, "left")
    return out.withColumn("rfm_score", F.col("r_score") + F.col("f_score") + F.col("m_score"))


def _activity(ctx: _Ctx, b: ActivityBuilder) -> Any:
    from pyspark.sql import Window

    F = _F()
    ev = ctx.events
    day = F.floor(F.col("tu") / F.lit(float(_DAY_US)))
    base = ev.groupBy(_U).agg(
        F.count(F.lit(1)).alias("n_events"),
        F.countDistinct(day).alias("active_days"),
        F.min("tu").alias("_first"),
        F.max("tu").alias("_last"),
    )
    if "session_id" in ev.columns:
        sessions = (ev.groupBy(_U, "session_id").count().groupBy(_U)
                    .agg(F.count(F.lit(1)).alias("n_sessions")))
    else:
        gap_ns = int(b.session_gap_minutes * 60 * 10**9)
        w = Window.partitionBy(_U).orderBy("tu")
        prev = F.lag("tu").over(w)
        new = prev.isNull() | ((F.col("tu") - prev) * 1000 > F.lit(gap_ns))
        sessions = (ev.select(_U, "tu").withColumn("_new", new).groupBy(_U)
                    .agg(F.sum(F.col("_new").cast("long")).alias("n_sessions")))

    def mode(expr: Any, out: str) -> Any:
        counts = ev.groupBy(_U, expr.alias("_k")).count()
        best = F.max(F.struct(F.col("count"), -F.col("_k")))
        return counts.groupBy(_U).agg((-best.getField("col2")).cast("double").alias(out))

    # local wall-clock hour and weekday (1970-01-01 was a Thursday), as the pandas builder
    hour = mode(F.pmod(_floor_div(F.col("lt"), 3600 * 10**6), F.lit(24)), "preferred_hour")
    weekday = mode(F.pmod(_floor_div(F.col("lt"), _DAY_US) + 3, F.lit(7)), "preferred_weekday")
    out = base.join(sessions, _U).join(hour, _U).join(weekday, _U).select(
        _U, "n_events", "active_days", F.col("n_sessions").cast("long").alias("n_sessions"),
        F.timestamp_micros("_first").alias("first_seen"),
        F.timestamp_micros("_last").alias("last_seen"),
        ctx.age_days("_first").alias("tenure_days"),
        "preferred_hour", "preferred_weekday",
    )
    if ctx.has_event:
        low = F.lower(F.col(Columns.EVENT).cast("string"))
        funnel = ev.groupBy(_U).agg(
            F.count(F.lit(1)).alias("_tot"),
            F.sum(F.coalesce(low.isin(*_VIEW_EVENTS), F.lit(False)).cast("long")).alias("_views"),
            F.sum(F.coalesce(low.isin(*_CART_EVENTS), F.lit(False)).cast("long")).alias("_carts"),
            F.sum(ctx.purchase_cond.cast("long")).alias("_buys"),
        ).select(
            _U,
            _div(F.col("_views"), F.col("_tot")).alias("view_share"),
            _div(F.col("_carts"), F.col("_tot")).alias("cart_share"),
            _div(F.col("_buys"), F.col("_tot")).alias("purchase_share"),
            _div(F.col("_buys"), F.col("_views")).alias("view_to_purchase"),
            _div(F.col("_buys"), F.col("_carts")).alias("cart_to_purchase"),
        )
        out = out.join(funnel, _U, "left")
    else:
        for c in ("view_share", "cart_share", "purchase_share", "view_to_purchase",
                  "cart_to_purchase"):
            out = out.withColumn(c, F.lit(None).cast("double"))
    return out


def _item_price(ctx: _Ctx, p: Any) -> Any:
    """Per item: list price, else the median paid price before as_of (``item_id, price``)."""
    F = _F()
    med = _median(p, [_I], "paid", "_med")
    items = ctx.items.select(_I, *(["price"] if Columns.PRICE in ctx.item_columns else []))
    lp = (F.when(~F.isnan(F.col(Columns.PRICE).cast("double")),
                 F.col(Columns.PRICE).cast("double"))
          if Columns.PRICE in ctx.item_columns else F.lit(None).cast("double"))
    return items.join(med, _I, "left").select(_I, F.coalesce(lp, F.col("_med")).alias("price"))


def _pct_rank(df: Any, group: list[str], col: str, out: str) -> Any:
    """Average rank / group size of ``col`` within ``group`` (pandas ``rank(pct=True)``)."""
    from pyspark.sql import Window

    F = _F()
    part = [F.col(g) for g in group] or [F.lit(1)]
    counts = df.groupBy(*group, col).count()
    w_below = Window.partitionBy(*part).orderBy(col).rowsBetween(Window.unboundedPreceding, -1)
    w_all = Window.partitionBy(*part)
    counts = counts.select(
        *group, col,
        ((F.coalesce(F.sum("count").over(w_below), F.lit(0)) + (F.col("count") + 1) / 2.0)
         / F.sum("count").over(w_all)).alias(out),
    )
    return df.join(counts, [*group, col])


def _price_bands(ctx: _Ctx, p: Any, levels: Any, min_items: int) -> Any:
    """``item_id, name`` (low/mid/high) with name order keys, as ``ProfileContext.price_bands``."""
    F = _F()
    priced = _item_price(ctx, p).where(F.col("price").isNotNull())
    if levels is not None:
        l1 = levels.where(F.col("level") == 1).select(_I, F.col("name").alias("_l1"))
        priced = priced.join(l1, _I, "left")
    else:
        priced = priced.withColumn("_l1", F.lit(None).cast("string"))
    g = _pct_rank(priced, [], "price", "_pct_g")
    c = _pct_rank(priced.where(F.col("_l1").isNotNull()), ["_l1"], "price", "_pct_c")
    sizes = priced.where(F.col("_l1").isNotNull()).groupBy("_l1").agg(
        F.count(F.lit(1)).alias("_size"))
    df = g.join(c.select(_I, "_pct_c"), _I, "left").join(sizes, "_l1", "left")
    pct = F.when(F.col("_size") >= min_items, F.col("_pct_c")).otherwise(F.col("_pct_g"))
    code = F.when(pct <= 1 / 3, 0).when(pct <= 2 / 3, 1).otherwise(2)
    names = F.element_at(F.array(*[F.lit(x) for x in PRICE_BANDS]), code + 1)
    return df.select(_I, names.alias("name"), F.lit(0).alias("nkey_a"),
                     code.cast("long").alias("nkey_b"))


def _affinity(ctx: _Ctx, b: AffinityBuilder, p: Any, levels: Any,
              brands: Any) -> tuple[Any, Any, list[str]]:
    """Summary columns and the long affinity frame."""
    from pyspark.sql import Window

    F = _F()
    ev = ctx.events
    dw = F.col(Columns.WEIGHT).cast("double") * F.pow(F.lit(2.0),
                                                       -ctx.age_days() / b.half_life_days)
    ui = ev.groupBy(_U, _I).agg(F.sum(dw).alias("_w"))

    def name_keys(df: Any) -> Any:  # name -> first item (item-map order) carrying it
        keys = df.groupBy("name").agg(F.min(F.struct("okey_a", "okey_b")).alias("_k"))
        return df.select(_I, "name").join(keys.select(
            "name", F.col("_k.okey_a").alias("nkey_a"), F.col("_k.okey_b").alias("nkey_b")),
            "name")

    kinds: dict[str, Any] = {}
    n_levels = b.n_levels
    depth, n_l1 = 0, 0
    if levels is not None:  # one small job: deepest level, number of level-1 categories
        row = levels.agg(F.max("level"), F.countDistinct(
            F.when(F.col("level") == 1, F.col("name")))).first()
        depth, n_l1 = int(row[0] or 0), int(row[1] or 0)
    for lvl in range(1, max(n_levels, depth) + 1):
        if levels is not None and lvl <= depth:
            kinds[f"category_l{lvl}"] = name_keys(levels.where(F.col("level") == lvl))
        else:
            kinds[f"category_l{lvl}"] = None
    kinds["brand"] = name_keys(brands) if brands is not None else None
    kinds["price_band"] = _price_bands(ctx, p, levels, b.price_band_min_items)

    parts = []
    for kind, mapping in kinds.items():
        if mapping is None:
            continue
        s = ui.join(mapping, _I).groupBy(_U, "name", "nkey_a", "nkey_b").agg(
            F.sum("_w").alias("_s"))
        tot = F.sum("_s").over(Window.partitionBy(_U))
        s = s.withColumn("affinity", (F.col("_s") * _div(F.lit(1.0), tot)).cast("float"))
        parts.append(s.where(F.col("affinity") > 0).withColumn("kind", F.lit(kind)))
    long = parts[0]
    for x in parts[1:]:
        long = long.unionByName(x)
    long = ctx.keep(long)
    summary = ctx.users
    for kind, out in (("category_l1", "top_category"), ("category_l2", "top_category_l2"),
                      ("brand", "top_brand"), ("price_band", "top_price_band")):
        k = long.where(F.col("kind") == kind)
        summary = summary.join(_argmax_name(k, "affinity", out), _U, "left")
    # diversity: entropy of the level-1 row / log(number of level-1 categories)
    import math

    pv = F.col("affinity").cast("double")
    ent = (long.where(F.col("kind") == "category_l1").groupBy(_U)
           .agg(F.sum(-pv * F.log(pv)).alias("_ent")))
    div = (F.col("_ent") / math.log(n_l1)) if n_l1 > 1 else F.lit(0.0)
    ent = ent.select(_U, F.least(F.greatest(div, F.lit(0.0)), F.lit(1.0)).alias(
        "category_diversity"))
    if brands is not None:
        branded = ev.join(brands.select(_I).distinct(), _I).groupBy(_U).agg(
            F.count(F.lit(1)).alias("_n_branded"))
        top_b = long.where(F.col("kind") == "brand").groupBy(_U).agg(
            F.max(F.col("affinity").cast("double")).alias("_bmax"))
        loyalty = branded.join(top_b, _U, "left").select(
            _U, F.when(F.col("_n_branded") >= b.min_brand_events,
                       F.coalesce(F.col("_bmax"), F.lit(0.0))).alias("brand_loyalty"))
        summary = summary.join(loyalty, _U, "left")
    else:
        summary = summary.withColumn("brand_loyalty", F.lit(None).cast("double"))
    summary = summary.join(ent, _U, "left")
    long = long.select(_U, "kind", F.col("name").alias("value"), "affinity")
    return summary, long, list(kinds)


def _price_sensitivity(ctx: _Ctx, b: PriceSensitivityBuilder, p: Any) -> Any:
    """``price_sensitivity`` and ``discount_share`` within quantity tiers and periods."""
    F = _F()
    # tier = number of edges <= quantity, minus 1, at least 0 (missing quantity: tier 0)
    qty = F.coalesce(F.when(~F.isnan(F.col("qty")), F.col("qty")), F.lit(0.0))
    n_le = None
    for e in b._tier_edges():
        term = (qty >= F.lit(float(e))).cast("int")
        n_le = term if n_le is None else n_le + term
    tier = F.greatest(n_le - 1, F.lit(0))
    if b.period_days is None:
        period = F.lit(0).cast("long")
    else:
        # windows counted from the first purchase, as in pandas (one scalar aggregation)
        t0 = p.agg(F.min("tu")).first()[0] or 0
        period = _floor_div((F.col("tu") - F.lit(t0)) * F.lit(1000),
                            int(b.period_days * _DAY_US * 1000))
    lines = p.select(_U, _I, "tu", "paid", tier.alias("_tier"), period.alias("_period"))
    ok = F.col("paid").isNotNull()
    cell = [_I, "_tier", "_period"]
    stats = lines.where(ok).groupBy(*cell).agg(
        F.count(F.lit(1)).alias("_n"), F.max("paid").alias("_tmax"), F.min("paid").alias("_tmin"))
    stats = stats.join(_median(lines, cell, "paid", "_tmed"), cell)
    lines = lines.join(stats, cell, "left")
    has_cat = "category" in ctx.item_columns
    has_lp = Columns.PRICE in ctx.item_columns
    item_cols = [_I]
    if has_cat:
        item_cols.append(F.col("category").cast("string").alias("_leaf"))
    if has_lp:
        lpc = F.col(Columns.PRICE).cast("double")
        item_cols.append(F.when(~F.isnan(lpc), lpc).alias("_lp"))
    if len(item_cols) > 1:
        lines = lines.join(ctx.items.select(*item_cols), _I, "left")
    lp = F.col("_lp") if has_lp else F.lit(None).cast("double")
    # tier list price: list price in the base tier, else the highest paid price in the
    # (item, tier, period), capped at the list price (least() skips nulls, as numpy's fmin)
    tier_list = F.when(lp.isNotNull() & (F.col("_tier") == 0), lp).otherwise(
        F.least(F.col("_tmax"), lp))
    tier_ok = F.coalesce((F.col("_n") >= b.min_item_sales) & (F.col("_tmin") < F.col("_tmax")),
                         F.lit(False))
    if has_cat:  # median paid price per (leaf category, tier), over all periods
        cat_med = _median(lines.where(F.col("_leaf").isNotNull()), ["_leaf", "_tier"], "paid",
                          "_cmed")
        lines = lines.join(cat_med, ["_leaf", "_tier"], "left")
        cat_ref = F.col("_cmed")
    else:
        cat_ref = F.lit(None).cast("double")
    ref = F.when(tier_ok, F.col("_tmed")).when(lp.isNotNull(), tier_list).otherwise(cat_ref)
    tol = 1.0 - b.tolerance
    paid = F.col("paid")
    valid = ok & ref.isNotNull()
    below = valid & (paid < ref * tol)
    valid_d = ok & tier_list.isNotNull()
    disc = valid_d & (paid < tier_list * tol)

    def n(cond: Any) -> Any:
        return F.sum(F.coalesce(cond, F.lit(False)).cast("long"))

    agg = lines.groupBy(_U).agg(
        n(below | disc).alias("_k1"), n(valid | valid_d).alias("_d1"),
        n(disc).alias("_k2"), n(valid_d).alias("_d2"))
    return agg.select(_U, _div(F.col("_k1"), F.col("_d1")).alias("price_sensitivity"),
                      _div(F.col("_k2"), F.col("_d2")).alias("discount_share"))


def _novelty(ctx: _Ctx, b: NoveltyBuilder, p: Any) -> Any:
    F = _F()
    first = ctx.events.groupBy(_I).agg(F.min("tu").alias("_first"))
    if "first_seen" in ctx.item_columns:
        from pyspark.sql import types as T

        dtype = ctx.items.schema["first_seen"].dataType
        fs = F.col("first_seen")
        fs = F.try_to_timestamp(fs) if isinstance(dtype, T.StringType) else fs.cast("timestamp")
        attr = ctx.items.select(_I, F.unix_micros(fs).alias("_fs"))
        first = attr.join(first, _I, "full").select(
            _I, F.least(F.col("_first"), F.col("_fs")).alias("_first"))
    window_ns = int(b.window_days * 86_400 * 10**9)
    lines = p.join(first, _I, "left").where(F.col("_first").isNotNull())
    novel = (F.col("tu") - F.col("_first")) * 1000 <= F.lit(window_ns)
    agg = lines.groupBy(_U).agg(F.count(F.lit(1)).alias("_den"),
                                F.sum(novel.cast("long")).alias("_num"))
    return agg.select(_U, _div(F.col("_num"), F.col("_den")).alias("novelty_seeking"))


def _orders(p: Any) -> Any:
    """One row per (user, order): ``user_id, ot`` (first line time, µs)."""
    F = _F()
    return p.groupBy(_U, "order_key").agg(F.min("tu").alias("ot"))


def _expected(ctx: _Ctx, p: Any, prior_weight: float, default_days: float) -> Any:
    """Per buyer: ``expected, own, k, first_t, last_t, last_gap`` (see ``expected_intervals``)."""
    from pyspark.sql import Window

    F = _F()
    o = _orders(p)
    w = Window.partitionBy(_U).orderBy("ot")
    o = o.withColumn("_prev", F.lag("ot").over(w))
    iv = o.where(F.col("_prev").isNotNull()).select(
        _U, _days(F.col("ot") - F.col("_prev")).alias("days"))
    pop_row = _median(iv, [], "days", "_pop").first()
    pop = float(pop_row[0]) if pop_row is not None and pop_row[0] is not None \
        else float(default_days)
    own = iv.groupBy(_U).agg(F.count(F.lit(1)).cast("double").alias("_k")).join(
        _median(iv, [_U], "days", "_own"), _U)
    # gap between the last two orders in time order (one window, so tied times give 0 as in
    # the sorted pandas arrays)
    w_desc = Window.partitionBy(_U).orderBy(F.col("ot").desc())
    ranked = o.withColumn("_r", F.row_number().over(w_desc)).where(F.col("_r") <= 2)
    last2 = ranked.groupBy(_U).agg(
        _days(F.max(F.when(F.col("_r") == 1, F.col("ot")))
              - F.max(F.when(F.col("_r") == 2, F.col("ot")))).alias("last_gap"))
    per_user = o.groupBy(_U).agg(F.min("ot").alias("first_t"))
    last_t = p.groupBy(_U).agg(F.max("tu").alias("last_t"))
    df = per_user.join(last_t, _U).join(own, _U, "left").join(last2, _U, "left")
    k = F.coalesce(F.col("_k"), F.lit(0.0))
    own_filled = F.when(k > 0, F.col("_own")).otherwise(0.0)
    if prior_weight > 0:
        expected = (k * own_filled + prior_weight * pop) / (k + prior_weight)
    else:
        expected = F.when(k > 0, F.col("_own")).otherwise(F.lit(pop))
    return df.select(_U, expected.alias("expected"), F.col("_own").alias("own"),
                     k.alias("k"), "first_t", "last_t", "last_gap")


def _lifecycle(ctx: _Ctx, b: LifecycleBuilder, est: Any) -> Any:
    F = _F()
    last_event = ctx.events.groupBy(_U).agg(F.max("tu").alias("_last_ev"))
    df = ctx.users.join(est, _U, "left").join(last_event, _U, "left")
    buyer = F.col("expected").isNotNull()
    expected = F.col("expected")
    recency = ctx.age_days("last_t")
    since_first = ctx.age_days("first_t")
    churn_thr = F.least(b.churn_factor * expected, F.lit(b.churn_cap_days))
    risk_thr = b.at_risk_factor * expected
    browsing = F.coalesce(ctx.age_days("_last_ev") <= risk_thr, F.lit(False))
    stage = (F.when(~buyer, "prospect")
             .when(since_first < b.new_days, "new")
             .when((recency > churn_thr) & ~browsing, "churned")
             .when(recency > risk_thr, "at_risk")
             .when(F.col("last_gap") > churn_thr, "reactivated")
             .otherwise("active"))
    return df.select(_U, stage.alias("lifecycle_stage"),
                     expected.alias("expected_interval_days"))


def _whole_seconds_us(days: Any) -> Any:
    """Days -> microseconds rounded to whole seconds (half to even, as numpy)."""
    F = _F()
    return F.bround(days * 86_400.0, 0).cast("long") * 10**6


def _repurchase(ctx: _Ctx, b: RepurchaseBuilder, est: Any, p: Any, levels: Any) -> tuple[Any, Any]:
    from pyspark.sql import Window

    F = _F()
    next_us = F.col("last_t") + _whole_seconds_us(F.col("expected"))
    ahead = _days(next_us - F.lit(ctx.as_of_us))  # < 0: the expected date has passed
    upcoming = ahead >= 0
    user_cols = est.select(
        _U,
        F.when(F.col("k") > 0, F.col("own")).alias("repurchase_interval_days"),
        F.when(upcoming, F.timestamp_micros(next_us)).alias("next_purchase_date"),
        F.when(upcoming, ahead).alias("days_to_next_purchase"),
        F.greatest(-ahead, F.lit(0.0)).alias("days_overdue"),
    )
    schema = _CYCLES_SCHEMA
    if levels is None:
        return user_cols, ctx.ev.spark.createDataFrame([], schema)
    lv = levels.where(F.col("level") == b.category_level).select(_I, F.col("name").alias(
        "category"))
    oc = p.join(lv, _I).groupBy(_U, "order_key", "category").agg(F.min("tu").alias("t"))
    w = Window.partitionBy(_U, "category").orderBy("t")
    oc = oc.withColumn("_gap", _days(F.col("t") - F.lag("t").over(w)))
    agg = oc.groupBy(_U, "category").agg(F.count(F.lit(1)).alias("n_orders"),
                                         F.max("t").alias("_last"))
    agg = agg.join(_median(oc, [_U, "category"], "_gap", "median_interval_days"),
                   [_U, "category"], "left")
    agg = agg.where(F.col("n_orders") >= b.min_orders)
    nxt = F.col("_last") + _whole_seconds_us(F.col("median_interval_days"))
    has = F.col("median_interval_days").isNotNull()
    ahead = _days(nxt - F.lit(ctx.as_of_us))
    cycles = agg.select(
        _U, "category", F.col("n_orders").cast("long").alias("n_orders"),
        "median_interval_days",
        F.timestamp_micros("_last").alias("last_purchase"),
        F.when(has & (ahead >= 0), F.timestamp_micros(nxt)).alias("next_purchase_date"),
        F.when(has, F.greatest(-ahead, F.lit(0.0))).alias("days_overdue"),
    )
    return user_cols, cycles


def _known_users(ctx: _Ctx, listed_are_known: bool) -> Any:
    """``user_id, known_at_as_of``: the user existed at as_of (``ProfileContext.known_users``)."""
    F = _F()
    before = ctx.events.select(_U).distinct().withColumn("_before", F.lit(True))
    df = ctx.users.join(before, _U, "left")
    known = F.coalesce(F.col("_before"), F.lit(False))
    users = ctx.ev.users
    if users is not None:
        reg_col = next((c for c in DemographicBuilder.REGISTRATION_COLUMNS if c in users.columns),
                       None)
        cols = [_U, F.lit(True).alias("_listed")]
        if reg_col is not None:
            cols.append(_as_micros(users, reg_col).alias("_reg"))
        df = df.join(users.select(*cols), _U, "left")
        listed = F.coalesce(F.col("_listed"), F.lit(False))
        if reg_col is not None:
            registered = F.coalesce(F.col("_reg") < F.lit(ctx.as_of_us), F.lit(False))
            registered_later = F.col("_reg").isNotNull() & ~registered
        else:
            registered, registered_later = F.lit(False), F.lit(False)
        known = known | registered
        if listed_are_known:
            known = known | (listed & ~registered_later)
    return df.select(_U, known.alias(KNOWN_COLUMN))


def _as_micros(frame: Any, col: str) -> Any:
    """A date/time attribute column as epoch microseconds (null where unparseable)."""
    from pyspark.sql import types as T

    F = _F()
    dtype = frame.schema[col].dataType
    c = F.col(col)
    if isinstance(dtype, T.StringType):
        c = F.try_to_timestamp(c)
    elif not isinstance(dtype, T.TimestampType):
        c = c.cast("timestamp")
    return F.unix_micros(c)


# -------------------------------------------------------------------- public
def build_profiles(
    events: SparkEvents,
    as_of: Any = None,
    *,
    builder: ProfileBuilder | None = None,
    category_sep: CategorySep = None,
) -> SparkProfiles:
    """Build user profiles with Spark from the events strictly before ``as_of``.

    Parameters
    ----------
    events : SparkEvents
        Validated events (:meth:`SparkEvents.from_frames`).
    as_of : datetime-like, optional
        Cut-off; default: the last event time + 1 second (all events), as in
        :meth:`ProfileBuilder.build`.
    builder : ProfileBuilder, optional
        Which builders to run and their parameters; default
        ``ProfileBuilder.default()``. Every builder must be one of the default
        builder classes (custom builders have no Spark definition).
    category_sep : str, sequence of str or None, default None
        Separator(s) of the levels of the item ``category`` path, as in
        :meth:`ProfileBuilder.build` (None: the package default, resolved on
        the driver).

    Returns
    -------
    SparkProfiles
        Spark frames. The shared intermediate frames and each builder's part
        are computed during the call and kept on the executors
        (``localCheckpoint``, released by :meth:`SparkProfiles.unpersist`);
        only scalars (the population median interval, the number of level-1
        categories, the deepest category level) reach the driver.

    Raises
    ------
    InvalidDtypeError
        ``events`` is not a SparkEvents or ``builder`` not a ProfileBuilder.
    InvalidValueError
        ``as_of`` cannot be parsed.
    InvalidParameterError
        ``builder`` holds a builder without a Spark definition.
    """
    F = _F()
    if not isinstance(events, SparkEvents):
        raise InvalidDtypeError(
            f"events must be a persona_rec.spark.SparkEvents, got {type(events).__name__}; "
            f"build one with SparkEvents.from_frames(...)."
        )
    bs = _builders(builder)
    sep = resolve_category_sep(category_sep)
    last = None
    if as_of is None:
        last = events.interactions.agg(F.max(F.unix_micros(F.col(Columns.TIMESTAMP)))).first()[0]
        last = pd.Timestamp(int(last) * 1000)
    ts = as_of_or_after(as_of, last)
    ctx = _Ctx(events, ts, sep)
    docs: dict[str, str] = {}
    sensitive: set[str] = set()
    frame = ctx.users
    order: list[str] = []
    p = ctx.keep(ctx.purchases())
    need_levels = any(t in bs for t in (AffinityBuilder, RepurchaseBuilder))
    levels = ctx.category_levels(0) if need_levels else None
    affinities = None
    cycles = ctx.ev.spark.createDataFrame([], _CYCLES_SCHEMA)
    est_cache: dict[tuple[float, float], Any] = {}

    def est_for(prior: float, default: float) -> Any:
        if (prior, default) not in est_cache:
            est_cache[(prior, default)] = ctx.keep(_expected(ctx, p, prior, default))
        return est_cache[(prior, default)]

    for b in bs.values():
        part = None
        if isinstance(b, DemographicBuilder):
            part, names = _demographic(ctx, docs, sensitive)
            order += names
        elif isinstance(b, RFMBuilder):
            part = _rfm(ctx, p)
            names = ["recency_days", "frequency", "monetary", "avg_order_value", "r_score",
                     "f_score", "m_score", "rfm_score"]
        elif isinstance(b, ActivityBuilder):
            part = _activity(ctx, b)
            names = ["n_events", "active_days", "n_sessions", "first_seen", "last_seen",
                     "tenure_days", "preferred_hour", "preferred_weekday", "view_share",
                     "cart_share", "purchase_share", "view_to_purchase", "cart_to_purchase"]
        elif isinstance(b, AffinityBuilder):
            part, affinities, _ = _affinity(ctx, b, p, levels, ctx.brands())
            names = ["top_category", "top_category_l2", "top_brand", "top_price_band",
                     "brand_loyalty", "category_diversity"]
        elif isinstance(b, PriceSensitivityBuilder):
            part = _price_sensitivity(ctx, b, p)
            names = ["price_sensitivity", "discount_share"]
        elif isinstance(b, NoveltyBuilder):
            part = _novelty(ctx, b, p)
            names = ["novelty_seeking"]
        elif isinstance(b, LifecycleBuilder):
            part = _lifecycle(ctx, b, est_for(b.prior_weight, b.default_interval_days))
            names = ["lifecycle_stage", "expected_interval_days"]
        elif isinstance(b, RepurchaseBuilder):
            part, cycles = _repurchase(ctx, b, est_for(b.prior_weight, b.default_interval_days),
                                       p, levels)
            names = ["repurchase_interval_days", "next_purchase_date", "days_to_next_purchase",
                     "days_overdue"]
        if part is None:
            continue
        if not isinstance(b, DemographicBuilder):
            order += names
        frame = frame.join(ctx.keep(part), _U, "left")
    if KNOWN_COLUMN not in order:
        frame = frame.join(ctx.keep(_known_users(ctx, listed_are_known=as_of is None)), _U,
                           "left")
        order.append(KNOWN_COLUMN)
    frame = frame.select(_U, *order)
    if ActivityBuilder in bs:
        frame = frame.fillna(0, subset=["n_events", "active_days", "n_sessions"])
    if affinities is None:
        affinities = ctx.ev.spark.createDataFrame(
            [], "user_id string, kind string, value string, affinity float")
    return SparkProfiles(frame=frame, affinities=affinities, category_cycles=cycles, as_of=ts,
                         sensitive_columns=frozenset(sensitive), column_docs=docs,
                         _release=ctx.release,
                         user_order=ctx.user_keys)

"""Audiences on Spark: :func:`persona_rec.marketing.select_audience` over Spark frames.

:func:`select_audience` runs the funnel of the pandas function on the long
tag frame of :func:`~persona_rec.spark.assign_tags`:

1. **candidates** - the users of the Spark profiles (optionally restricted);
2. **expression** - the tag expression, parsed and validated by the pandas
   parser (:func:`~persona_rec.tags.parse_tag_expression`: unknown tags,
   sensitive tags without ``allow_sensitive=True`` and malformed text raise the
   same typed errors) and compiled to one Spark boolean column over a pivot of
   the expression's tags (no Python function per row);
3. **scored** - with a propensity frame, users without a score or below
   ``min_score`` leave;
4. **exclusions**;
5. **quotas** per segment, best scores first;
6. **budget**;
7. **privacy floor** - fewer than ``min_audience_size`` users raise
   :class:`~persona_rec.marketing.AudienceTooSmallError`.

The audience is the pandas one, user for user and rank for rank. The pandas
path ranks by score and breaks ties with ``default_rng(random_state)
.random(n)``, one draw per surviving user in the profiles' row order; here
each survivor's position in that order is computed with a range partitioning
(one count per partition reaches the driver) and its draw is the PCG64 stream
advanced to that position (``bit_generator.advance``), batch by batch on the
executors. The tag score (mean positive confidence over the expression's
tags) is summed in float32 in numpy's pairwise order, so equal confidences
give equal scores, bit for bit.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._text import example_values, fill_doc
from .._validation import check_bool, check_instance, check_int, check_number
from ..columns import Columns
from ..exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from ..marketing.audience import (
    _SELECT_RAISES,
    AudienceTooSmallError,
    _fmt,
    _ids,
    quota_limits,
)
from ..tags.expressions import _fold, parse_tag_expression
from ..tags.taxonomy import Taxonomy
from ._session import require_spark_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from .profiles import SparkProfiles

__all__ = ["SparkAudience", "select_audience"]

_U = Columns.USER
_PW_BLOCK = 128  # numpy's pairwise-summation block size


def _F() -> Any:
    from pyspark.sql import functions as F

    return F


@dataclass(frozen=True)
class SparkAudience:
    """An audience selected by Spark (the counterpart of the pandas audience frame).

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        ``user_id, score, rank, [segment,] reason``, one row per selected user,
        ``rank`` from 1 (materialised on the executors with ``localCheckpoint``).
    funnel : dict
        Users left after each step (``attrs["funnel"]`` of the pandas result).
    """

    frame: Any
    funnel: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.funnel.get("budget", 0))


# --------------------------------------------------------------------------- helpers
def _pairwise_sum(terms: list[Any], add: Any) -> Any:
    """numpy's float reduction order along a contiguous row (its pairwise summation)."""

    def pw(a: list[Any]) -> Any:
        n = len(a)
        if n < 8:
            res = a[0]
            for x in a[1:]:
                res = add(res, x)
            return res
        if n <= _PW_BLOCK:
            r = list(a[:8])
            i = 8
            while i < n - (n % 8):
                r = [add(r[j], a[i + j]) for j in range(8)]
                i += 8
            res = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])))
            for x in a[i:]:
                res = add(res, x)
            return res
        n2 = n // 2
        n2 -= n2 % 8
        return add(pw(a[:n2]), pw(a[n2:]))

    return pw(list(terms))


def _tag_score(conf: list[Any]) -> Any:
    """The pandas tag score: float32 mean of the positive confidences, 1.0 when there is none."""
    F = _F()
    pos = [F.when(c > 0, c) for c in conf]
    zero = F.lit(0.0).cast("float")
    total = _pairwise_sum([F.coalesce(p, zero) for p in pos], lambda a, b: (a + b).cast("float"))
    count = sum((F.when(p.isNotNull(), 1).otherwise(0) for p in pos), F.lit(0))
    mean = (total.cast("double") / count).cast("float")
    return F.when(count > 0, mean).otherwise(F.lit(1.0).cast("float")).cast("double")


def _rng_state(random_state: Any) -> tuple[dict, Any]:
    """PCG64 state of ``default_rng(random_state)`` (and the Generator to advance, if given)."""
    if isinstance(random_state, np.random.Generator):
        bg = random_state.bit_generator
        if not isinstance(bg, np.random.PCG64):
            raise InvalidParameterError(
                "The 'random_state' parameter must be None, an int or a numpy Generator over "
                f"PCG64 (the default), got a Generator over {type(bg).__name__}.")
        return bg.state, random_state
    if random_state is not None and (isinstance(random_state, bool)
                                     or not isinstance(random_state, (int, np.integer))):
        raise InvalidParameterError(
            "The 'random_state' parameter must be None, an int or a numpy Generator, got "
            f"{random_state!r}.")
    return np.random.default_rng(random_state).bit_generator.state, None


def _draws(state: dict, positions: np.ndarray) -> np.ndarray:
    """``default_rng(...).random(n)[positions]`` without drawing the values in between."""
    out = np.empty(len(positions), dtype=np.float64)
    if len(positions) == 0:
        return out
    order = np.argsort(positions, kind="stable")
    pos = positions[order]
    breaks = np.flatnonzero(np.diff(pos) > 4096) + 1
    for run in np.split(np.arange(len(pos)), breaks):
        lo, hi = int(pos[run[0]]), int(pos[run[-1]])
        bg = np.random.PCG64()
        bg.state = state
        bg.advance(lo)
        vals = np.random.Generator(bg).random(hi - lo + 1)
        out[order[run]] = vals[pos[run] - lo]
    return out


def _positions(frame: Any, keys: list[Any], name: str) -> Any:
    """Add ``name``: the 0-based position of each row in the total order ``keys``.

    A range partitioning puts consecutive key ranges in consecutive partitions;
    the driver receives one row count per partition and each row's position is
    its partition's offset plus its row number within the partition.
    """
    from pyspark.sql import Window

    F = _F()
    spark = frame.sparkSession
    n_parts = max(int(spark.conf.get("spark.sql.shuffle.partitions")), 1)
    ranged = (frame.repartitionByRange(n_parts, *keys)
              .withColumn("_pid", F.spark_partition_id()).localCheckpoint(eager=True))
    counts = sorted((int(r[0]), int(r[1])) for r in ranged.groupBy("_pid").count().collect())
    offsets, acc = [], 0
    for pid, c in counts:
        offsets += [F.lit(pid), F.lit(acc)]
        acc += c
    offset = F.create_map(*offsets)[F.col("_pid")] if offsets else F.lit(0)
    w = Window.partitionBy("_pid").orderBy(*keys)
    return ranged.withColumn(name, (offset + F.row_number().over(w) - 1).cast("long")).drop("_pid")


def _id_frame(values: Any, name: str, spark: Any, id_type: Any) -> Any:
    """A Spark frame ``user_id`` from a Spark frame or an iterable of ids."""
    F = _F()
    from pyspark.sql import DataFrame

    if isinstance(values, DataFrame):
        if _U not in values.columns:
            raise MissingColumnError(f"{name} is missing column(s) ['{_U}']; it has {values.columns}.")
        return values.select(F.col(_U).cast(id_type).alias(_U)).where(F.col(_U).isNotNull()).distinct()
    ids = _ids(values, name)
    from pyspark.sql.types import StructField, StructType

    schema = StructType([StructField(_U, id_type, True)])
    try:
        return spark.createDataFrame(pd.DataFrame({_U: np.asarray(ids, dtype=object)}), schema)
    except Exception as exc:  # Python, pyarrow or pyspark conversion errors
        raise InvalidDtypeError(
            f"{name} holds ids that are not of the profiles' user_id type "
            f"{id_type.simpleString()}, e.g. {example_values(ids)}.") from exc


def _check_columns(frame: Any, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{name} is missing column(s) {missing}; it has {frame.columns}.")


def _pivot(tags: Any, names: list[str]) -> tuple[Any, list[str]]:
    """``user_id, _c0.._ck, _n0.._nk`` for the expression's tags (confidence, rows per pair)."""
    F = _F()
    conf = F.col("confidence").cast("float")
    sub = tags.where(F.col("tag_id").isin(names))
    aggs = []
    for i, t in enumerate(names):
        aggs.append(F.max(F.when(F.col("tag_id") == t, conf)).alias(f"_c{i}"))
        aggs.append(F.count(F.when(F.col("tag_id") == t, 1)).alias(f"_n{i}"))
        aggs.append(F.max(F.when(F.col("tag_id") == t, F.when(
            F.isnan(conf) | (conf < 0) | (conf > 1) | conf.isNull(), 1).otherwise(0))).alias(f"_b{i}"))
    return sub.groupBy(_U).agg(*aggs), [f"_c{i}" for i in range(len(names))]


# --------------------------------------------------------------------------- public
@fill_doc(select_raises=_SELECT_RAISES)
def select_audience(
    tags: DataFrame,
    profiles: SparkProfiles,
    taxonomy: Taxonomy,
    *,
    expression: str | None = None,
    propensity: Any = None,
    budget: int | None = None,
    segments: Any = None,
    quotas: Mapping[Any, int | float] | None = None,
    exclude: Any = None,
    allow_sensitive: bool = False,
    min_audience_size: int = 50,
    min_confidence: float = 0.0,
    min_score: float | None = None,
    candidates: Any = None,
    label: str | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> SparkAudience:
    """Choose the users for a campaign with Spark (the funnel of the pandas ``select_audience``).

    For the same users, tags, expression, budget, segments, quotas, exclusions
    and ``random_state``, the audience (users, scores, ranks, segments and
    reasons) equals :func:`persona_rec.marketing.select_audience` applied to
    ``Tagger(taxonomy).assign(profiles)`` on the same data.

    Parameters
    ----------
    tags : pyspark.sql.DataFrame
        Long tag frame ``user_id, tag_id, confidence``
        (:func:`~persona_rec.spark.assign_tags`).
    profiles : SparkProfiles
        From :func:`~persona_rec.spark.build_profiles`: its users are the
        candidates (users without tags included) and its ``user_order`` is the
        row order used to break ties, as in the pandas path.
    taxonomy : Taxonomy
        The taxonomy the tags were assigned with (known and sensitive tags).
    expression : str, optional
        Tag expression, e.g. ``"interest/home & !churned"``.
    propensity : pyspark.sql.DataFrame, optional
        ``user_id, score`` (one row per user, finite numbers); users are then
        ranked by it and users without a score leave at the ``scored`` step.
        Without it, users are ranked by their mean confidence over the
        expression's tags.
    budget : int, optional
        Maximum audience size.
    segments : pyspark.sql.DataFrame, optional
        ``user_id, segment`` (e.g. :func:`~persona_rec.spark.rfm_segments`);
        adds a ``segment`` column, needed for ``quotas``.
    quotas : mapping segment -> int or float, optional
        Maximum users per segment (an int is a count, a float in (0, 1] a
        share of ``budget``).
    exclude : pyspark.sql.DataFrame or iterable, optional
        Users never selected: a frame with a ``user_id`` column, or ids.
    allow_sensitive : bool, default False
    min_audience_size : int, default 50
        Privacy floor (set 1 to disable).
    min_confidence : float, default 0.0
        Tag confidence below which a tag counts as absent.
    min_score : float, optional
        With ``propensity``: drop users scored below it.
    candidates : pyspark.sql.DataFrame or iterable, optional
        Restrict the universe to these users.
    label : str, optional
        Name of the propensity target in ``reason``.
    random_state : int, numpy Generator (PCG64) or None, default 0
        Tie-breaking among equal scores (a Generator is advanced by the number
        of draws, as the pandas path consumes it).

    Returns
    -------
    SparkAudience
        ``frame`` (``user_id, score, rank, [segment,] reason``) and ``funnel``.

    Raises
    ------
    {select_raises}
    InvalidParameterError
        Invalid budget, quota, threshold, ``random_state``, or quotas without
        segments.
    InvalidDtypeError, MissingColumnError
        An argument of the wrong type or a frame without its columns.
    InvalidValueError, DuplicateIdError
        Duplicated or out-of-range tag rows, non-finite or duplicated
        propensity scores, duplicated segment rows.
    """
    from .profiles import SparkProfiles

    F = _F()
    check_bool(allow_sensitive, "allow_sensitive")
    min_size = check_int(min_audience_size, "min_audience_size", minimum=1)
    if budget is not None:
        budget = check_int(budget, "budget", minimum=1)
    require_spark_frame(tags, "tags")
    _check_columns(tags, "tags", [_U, "tag_id", "confidence"])
    check_instance(profiles, SparkProfiles, "profiles must be a persona_rec.spark.SparkProfiles")
    if profiles.user_order is None:
        raise InvalidParameterError(
            "profiles carry no user order (user_order is None); build them with "
            "persona_rec.spark.build_profiles.")
    check_instance(taxonomy, Taxonomy, "taxonomy must be a Taxonomy")
    if label is not None and not isinstance(label, str):
        raise InvalidDtypeError(f"label must be a str, got {type(label).__name__}.")
    state, generator = _rng_state(random_state)
    spark = tags.sparkSession
    uni = profiles.user_order
    id_type = uni.schema[_U].dataType
    funnel: dict[str, int] = {}

    # 1. universe
    if candidates is not None:
        uni = uni.join(_id_frame(candidates, "candidates", spark, id_type), _U, "left_semi")

    # 2. expression
    match = F.lit(True)
    score = F.lit(1.0)
    reason = F.lit("")
    expr = None
    if expression is not None:
        expr = parse_tag_expression(expression)
        expr.validate(taxonomy, allow_sensitive=allow_sensitive)
        m = min_confidence
        if isinstance(m, bool) or not isinstance(m, (int, float, np.number)) \
                or not np.isfinite(m) or not 0.0 <= float(m) <= 1.0:
            raise InvalidParameterError(
                f"The 'min_confidence' parameter must be a number in [0, 1], got {m!r}.")
        names = sorted(expr.tags)
        piv, cols = _pivot(tags, names)
        piv = piv.localCheckpoint(eager=True)
        k = range(len(names))
        dup = sum((F.when(F.col(f"_n{i}") > 1, 1).otherwise(0) for i in k), F.lit(0)) > 0
        oob = sum((F.coalesce(F.col(f"_b{i}"), F.lit(0)) for i in k), F.lit(0)) > 0
        for flag, rule in ((dup, "must hold one row per (user_id, tag_id); got several rows"),
                           (oob, "confidences must be in [0, 1]; got others")):
            bad_rows = piv.where(flag).select(_U).limit(3).collect()
            if bad_rows:
                raise InvalidValueError(
                    f"tags {rule} for the tags of {expr.text!r} for user(s) "
                    f"{example_values(r[0] for r in bad_rows)}.")
        unknown = piv.select(_U).join(profiles.user_order.select(_U), _U, "left_anti")
        bad_rows = unknown.limit(3).collect()
        if bad_rows:
            raise UnknownIdError(
                f"tags hold user(s) that the profiles do not have, e.g. "
                f"{example_values(r[0] for r in bad_rows)}.")
        uni = uni.join(piv.select(_U, *cols), _U, "left")
        conf = [F.col(c) for c in cols]
        floor = F.lit(float(m)).cast("float")
        present = {t: F.coalesce((c > 0) & (c >= floor) if m > 0 else (c > 0), F.lit(False))
                   for t, c in zip(names, conf)}
        # the same bottom-up walk as the pandas path, over boolean columns
        match = _fold(expr._root, present.__getitem__, operator.invert, operator.and_, operator.or_)
        score = _tag_score(conf)
        reason = F.lit(f"tags match '{expr.text}'")

    # 3. propensity
    scored = F.lit(True)
    if propensity is not None:
        require_spark_frame(propensity, "propensity")
        _check_columns(propensity, "propensity", [_U, Columns.SCORE])
        from pyspark.sql import types as T

        dtype = propensity.schema[Columns.SCORE].dataType
        if isinstance(dtype, T.BooleanType):
            raise InvalidDtypeError(
                "propensity must hold numeric scores, got bool values; pass a score (e.g. a "
                "probability) or use candidates= for a yes/no selection.")
        if not isinstance(dtype, T.NumericType):
            raise InvalidDtypeError(
                f"propensity must hold numeric scores, got Spark type {dtype.simpleString()}.")
        p = propensity.select(F.col(_U).cast(id_type).alias(_U),
                              F.col(Columns.SCORE).cast("double").alias("_p"))
        dup = p.groupBy(_U).count().where(F.col("count") > 1).select(_U).limit(3).collect()
        if dup:
            raise InvalidValueError(
                f"propensity index must hold unique user ids, got duplicates "
                f"{[r[0] for r in dup]}.")
        nonfinite = F.col("_p").isNull() | F.isnan("_p") | (F.abs("_p") == float("inf"))
        bad_rows = p.where(nonfinite).limit(3).collect()
        if bad_rows:
            n_bad = p.where(nonfinite).count()
            ex = ", ".join(f"{r[0]!r}: {r[1]}" for r in bad_rows)
            raise InvalidValueError(
                f"propensity must hold finite scores; got {n_bad} non-finite value(s) (null, NaN "
                f"or +/-inf), e.g. {{{ex}}}. An infinite score would be ranked first or last "
                "whatever the others are; a NaN means the user was not scored: drop those users "
                "or fill them explicitly.")
        uni = uni.join(p, _U, "left")
        scored = F.col("_p").isNotNull()
        if min_score is not None:
            ms = check_number(min_score, "min_score")
            scored = scored & (F.col("_p") >= F.lit(float(ms)))
        score = F.col("_p")

    # 4. exclusions
    excluded = F.lit(False)
    if exclude is not None:
        ex_ids = _id_frame(exclude, "exclude", spark, id_type).withColumn("_excl", F.lit(True))
        uni = uni.join(ex_ids, _U, "left")
        excluded = F.coalesce(F.col("_excl"), F.lit(False))

    # segments and quotas (validated before any heavy work)
    if quotas is not None and segments is None:
        raise InvalidParameterError("The 'quotas' parameter needs segments.")
    limits = quota_limits(quotas, budget) if quotas is not None else None
    if segments is not None:
        require_spark_frame(segments, "segments")
        if not {_U, Columns.SEGMENT} <= set(segments.columns):
            raise InvalidDtypeError(
                f"segments as a DataFrame needs columns ['user_id', 'segment'], got "
                f"{list(segments.columns)}.")
        seg = segments.select(F.col(_U).cast(id_type).alias(_U), F.col(Columns.SEGMENT).alias("_seg"))
        dup = seg.groupBy(_U).count().where(F.col("count") > 1).select(_U).limit(3).collect()
        if dup:
            raise DuplicateIdError(
                f"segments must give one segment per user_id, got duplicate user id(s) "
                f"{example_values(r[0] for r in dup)}.")
        uni = uni.join(seg, _U, "left")

    flags = uni.select(
        "*", match.alias("_m"), scored.alias("_s"), excluded.alias("_x"), score.alias("_score"))
    flags = flags.localCheckpoint(eager=True)
    keep_m = F.col("_m")
    keep_s = keep_m & F.col("_s")
    keep_x = keep_s & ~F.col("_x")
    row = flags.agg(F.count(F.lit(1)), F.sum(keep_m.cast("long")), F.sum(keep_s.cast("long")),
                    F.sum(keep_x.cast("long"))).first()
    funnel["candidates"] = int(row[0])
    funnel["expression"] = int(row[1] or 0)
    funnel["scored"] = int(row[2] or 0)
    funnel["exclusions"] = int(row[3] or 0)
    n_keep = funnel["exclusions"]

    # order the survivors: score desc, then the pandas draw of their position, then position
    surv = flags.where(keep_x).select(_U, "_score", "okey_a", "okey_b",
                                      *(["_seg"] if segments is not None else []))
    surv = _positions(surv, [F.col("okey_a"), F.col("okey_b")], "_pos")
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")  # type: ignore[misc]
    def _tie(pos: pd.Series) -> pd.Series:
        return pd.Series(_draws(state, pos.to_numpy(dtype=np.int64)), index=pos.index)

    surv = surv.withColumn("_tie", _tie(F.col("_pos")))
    if generator is not None:  # the pandas path consumes one draw per survivor
        generator.bit_generator.advance(n_keep)
    keys = [F.col("_score").desc(), F.col("_tie").asc(), F.col("_pos").asc()]

    # 5. quotas
    if limits is not None:
        from pyspark.sql import Window

        group = F.coalesce(F.col("_seg").cast("string"), F.lit("__none__"))
        lim = F.lit(None).cast("long")
        for name, q in reversed(list(limits.items())):
            lim = F.when(F.col("_seg") == F.lit(name), F.lit(int(q))).otherwise(lim)
        w = Window.partitionBy(group).orderBy(*keys)
        surv = surv.withColumn("_in_seg", F.row_number().over(w) - 1)
        surv = surv.where(lim.isNull() | (F.col("_in_seg") < lim)).drop("_in_seg")
        surv = surv.localCheckpoint(eager=True)
        funnel["quotas"] = int(surv.count())

    # 6. budget
    ranked = _positions(surv, keys, "_rank")
    if budget is not None:
        ranked = ranked.where(F.col("_rank") < budget)
    ranked = ranked.localCheckpoint(eager=True)
    funnel["budget"] = int(ranked.count())

    # 7. privacy floor
    if funnel["budget"] < min_size:
        raise AudienceTooSmallError(
            f"The audience has {funnel['budget']} user(s), below min_audience_size={min_size}; "
            f"funnel: {funnel}. Widen the expression or lower the threshold (privacy rule).")

    rank = (F.col("_rank") + 1).cast("long")

    @pandas_udf("string")  # type: ignore[misc]
    def _fmt4(v: pd.Series) -> pd.Series:
        return pd.Series(_fmt(v.to_numpy(dtype=np.float64)), index=v.index, dtype=object)

    if propensity is not None:
        what = f" for {label}" if label else ""
        pct = F.ceil(F.lit(100) * rank / F.lit(max(n_keep, 1))).cast("long")
        extra = F.concat(F.lit("propensity" + what + " "), _fmt4(F.col("_score")),
                         F.lit(" (top "), pct.cast("string"), F.lit("%)"))
    elif expr is not None:
        extra = F.concat(F.lit("tag confidence "), _fmt4(F.col("_score")))
    else:
        extra = F.lit("candidate")
    text = F.concat(reason, F.lit("; "), extra) if expr is not None else extra
    if limits is not None:
        text = F.concat(text, F.lit("; within quota of segment "),
                        F.coalesce(F.col("_seg").cast("string"), F.lit("None")))
    cols = [F.col(_U), F.col("_score").alias(Columns.SCORE), rank.alias(Columns.RANK)]
    if segments is not None:
        cols.append(F.col("_seg").alias(Columns.SEGMENT))
    cols.append(text.alias("reason"))
    return SparkAudience(frame=ranked.select(*cols), funnel=funnel)

"""Events from Spark: the rules of :meth:`persona_rec.Dataset.from_frames`, evaluated by Spark.

:class:`SparkEvents` validates a Spark DataFrame of events (and optional users
and items frames) with the same rules, in the same order, and the same typed
errors as the pandas path (``persona_rec._ingest``). Rows that break a rule
are counted by Spark (one aggregation over per-row rule flags); only the
per-rule counts and at most three example values per broken rule reach the
driver.

Time strings are parsed by the pandas path's own parser
(:func:`persona_rec._time.parse_times`), run on the executors batch by
batch; the column-wide rules of that parser (no mix of values with and
without a UTC offset, one epoch magnitude per column) are checked over the
whole column by Spark.

The module is one cohesive unit, the Spark twin of :mod:`persona_rec._ingest`
(ingestion and every cleaning rule with its report), hence its length.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._ingest import PURCHASE_EVENTS, check_event_weights
from .._time import EPOCH_UNITS, check_time_options
from .._validation import example_values
from ..cleaning import CleaningReport
from ..columns import Columns
from ..dataset import DEFAULT_EVENT_WEIGHTS, DEFAULT_SENSITIVE_COLUMNS
from ..exceptions import (
    DuplicateIdError,
    DuplicateRowWarning,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from ._session import require_pyspark, require_spark_frame

__all__ = ["SparkEvents", "ROW_ORDER"]

#: Hidden column holding the input order (ties are broken by first appearance, as in pandas).
ROW_ORDER = "_row"
_NUMERIC_OPTIONAL = (Columns.WEIGHT, Columns.QUANTITY, Columns.PRICE)
_F32_MAX = float(np.finfo(np.float32).max)
_F64_MAX = float(np.finfo(np.float64).max)
# datetime64[ns] range in microseconds (Spark timestamps are microseconds)
_US_MIN = -(-int(pd.Timestamp.min.value) // 1000)
_US_MAX = int(pd.Timestamp.max.value) // 1000
_UNIT_EDGES = (1e11, 1e14, 1e17)
_UNIT_NAMES = ("s", "ms", "us", "ns")
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# a trailing UTC offset after a clock time (the pandas parser's rule, in Java regex syntax)
_OFFSET_RE = (r"^.*?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*"
              r"(?:[zZ]|UTC|GMT|utc|gmt|[+-]\d{2}:?(?:\d{2})?)$")
_TS_OOR_DESCRIPTION = (
    "timestamp must lie between 1677-09-22 and 2262-04-11 (the datetime64[ns] range)"
)


def _F() -> Any:
    from pyspark.sql import functions as F

    return F


def _is_numeric(dtype: Any) -> bool:
    from pyspark.sql import types as T

    return isinstance(dtype, T.NumericType) and not isinstance(dtype, T.BooleanType)


def _require_numeric(frame: Any, col: str, name: str, rule: str = "must be numeric") -> None:
    """Raise InvalidDtypeError naming ``name[col]``, the rule and the Spark type unless numeric."""
    dtype = frame.schema[col].dataType
    if not _is_numeric(dtype):
        raise InvalidDtypeError(
            f"{name}['{col}'] {rule}, got Spark type {dtype.simpleString()}.")


def _check_frame(frame: Any, name: str, required: Iterable[str]) -> Any:
    require_spark_frame(frame, name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{name} is missing column(s) {missing}; it has {list(frame.columns)}."
        )
    return frame


def _id_kind(frame: Any, name: str, col: str) -> str:
    """'str' or 'int' (the Spark type of an id column); typed error otherwise."""
    from pyspark.sql import types as T

    dtype = frame.schema[col].dataType
    if isinstance(dtype, T.StringType):
        return "str"
    if isinstance(dtype, T.IntegralType):
        return "int"
    raise InvalidDtypeError(
        f"{name}['{col}'] must hold str or int ids, got Spark type {dtype.simpleString()}; "
        f"cast it, e.g. with F.col('{col}').cast('long') or .cast('string')."
    )


def _check_kinds_match(a_kind: str, a_name: str, b_kind: str, b_name: str, col: str) -> None:
    if a_kind != b_kind:
        raise InvalidDtypeError(
            f"{a_name}['{col}'] holds {a_kind} ids but {b_name}['{col}'] holds {b_kind} ids; "
            f"1 and '1' are different ids, so no row would match. Convert one side, e.g. "
            f"{b_name}['{col}'].cast({'string' if a_kind == 'str' else 'long'!r})."
        )


def _missing_id(frame: Any, col: str) -> Any:
    from pyspark.sql import types as T

    F = _F()
    bad = F.col(col).isNull()
    if isinstance(frame.schema[col].dataType, T.StringType):
        bad = bad | (F.col(col) == F.lit(""))
    return bad


def _nan(c: Any) -> Any:
    """A double column with null shown as NaN (pandas' examples show NaN for missing numbers)."""
    F = _F()
    return F.coalesce(c, F.lit(float("nan")))


def _finite(c: Any) -> Any:
    F = _F()
    return c.isNotNull() & ~F.isnan(c) & (F.abs(c) != float("inf"))


# ----------------------------------------------------------------- time
def _epoch_times(frame: Any, name: str, epoch_unit: str | None) -> Any:
    """Numeric epoch values -> (microseconds expression, out-of-range flag), unit as pandas."""
    F = _F()
    what = f"{name}['{Columns.TIMESTAMP}']"
    v = F.col(Columns.TIMESTAMP).cast("double")
    finite = _finite(v)
    huge = finite & (F.abs(v) >= 1e20)
    if epoch_unit is None:
        cls = (F.when(F.abs(v) < _UNIT_EDGES[0], 0).when(F.abs(v) < _UNIT_EDGES[1], 1)
               .when(F.abs(v) < _UNIT_EDGES[2], 2).otherwise(3))
        usable = finite & ~huge
        present = sorted(r[0] for r in frame.where(usable).select(cls.alias("c")).distinct()
                         .collect())
        if len(present) > 1:
            parts = []
            for c in present[:3]:
                sample = [r[0] for r in frame.where(usable & (cls == c))
                          .orderBy(ROW_ORDER).select(Columns.TIMESTAMP).limit(2).collect()]
                parts.append(f"{example_values(sample, 2)} read as "
                             f"{_UNIT_WORDS[_UNIT_NAMES[c]]}")
            raise InvalidValueError(
                f"{what} mixes epoch magnitudes: " + "; ".join(parts) + ". One column must use "
                "one unit: pass epoch_unit='s', 'ms', 'us' or 'ns' to say which (values out of "
                "range in that unit are then reported as such)."
            )
        unit = _UNIT_NAMES[int(present[0])] if present else "s"
    else:
        unit = epoch_unit
    factor_ns = EPOCH_UNITS[unit]
    lo, hi = int(pd.Timestamp.min.value) / factor_ns, int(pd.Timestamp.max.value) / factor_ns
    missing = v.isNull() | F.isnan(v)
    oor = (~finite & ~missing) | huge | (finite & ((v < lo) | (v > hi)))
    from pyspark.sql import types as T

    if isinstance(frame.schema[Columns.TIMESTAMP].dataType, T.IntegralType):
        raw = F.col(Columns.TIMESTAMP).cast("long")
        us = (raw * (factor_ns // 1000)) if factor_ns >= 1000 else F.floor(raw / 1000).cast("long")
    else:  # pandas rounds float epochs to whole nanoseconds; Spark keeps microseconds
        us = F.floor(F.round(v * float(factor_ns)) / 1000.0).cast("long")
    ok = finite & ~oor
    return F.when(ok, us), F.coalesce(oor, F.lit(False)), F.lit(None).cast("int")


def _string_times(frame: Any, name: str, dayfirst: bool | None, time_format: str | None,
                  epoch_unit: str | None) -> tuple[Any, Any, Any, Any]:
    """Parse strings with the pandas parser on the executors; column-wide rules checked here.

    Returns a frame with the hidden struct column ``_pt`` and the expressions
    (microseconds, out-of-range flag, offset in minutes or None).
    """
    from pyspark.sql.functions import pandas_udf

    F = _F()
    what = f"{name}['{Columns.TIMESTAMP}']"
    schema = "us long, off int, missing boolean, oor boolean, aware boolean, err string"

    @pandas_udf(schema)  # type: ignore[misc]
    def parse(values: pd.Series) -> pd.DataFrame:
        from persona_rec._time import parse_times

        n = len(values)
        try:
            p = parse_times(values.reset_index(drop=True), what, dayfirst=dayfirst,
                            time_format=time_format, epoch_unit=epoch_unit)
        except (InvalidValueError, InvalidDtypeError) as exc:
            return pd.DataFrame({"us": np.zeros(n, np.int64), "off": np.zeros(n, np.int32),
                                 "missing": np.zeros(n, bool), "oor": np.zeros(n, bool),
                                 "aware": np.zeros(n, bool),
                                 "err": [f"{type(exc).__name__}\x00{exc}"] * n})
        ns = p.utc.view(np.int64)
        bad = p.missing | p.out_of_range
        aware = np.full(n, p.offset_min is not None) & ~bad
        return pd.DataFrame({
            "us": np.where(bad, 0, np.floor_divide(ns, 1000)).astype(np.int64),
            "off": (np.zeros(n) if p.offset_min is None else p.offset_min).astype(np.int32),
            "missing": p.missing, "oor": p.out_of_range, "aware": aware,
            "err": pd.Series([None] * n, dtype=object),
        })

    df = frame.withColumn("_pt", parse(F.col(Columns.TIMESTAMP)))
    text = F.trim(F.col(Columns.TIMESTAMP))
    present = F.coalesce(text != "", F.lit(False))
    aware = present & text.rlike(_OFFSET_RE)
    row = df.agg(
        F.min(F.when(F.col("_pt.err").isNotNull(), F.struct(ROW_ORDER, "_pt.err"))).alias("e"),
        F.sum(aware.cast("long")).alias("aware"),
        F.sum((present & ~aware).cast("long")).alias("naive"),
    ).first()
    if row["e"] is not None:
        kind, msg = row["e"]["err"].split("\x00", 1)
        raise (InvalidDtypeError if kind == "InvalidDtypeError" else InvalidValueError)(msg)
    has_offsets = bool(row["aware"])
    if row["aware"] and row["naive"]:
        def shown(cond: Any) -> str:
            vals = [r[0] for r in df.where(cond).orderBy(ROW_ORDER).select(text).limit(2)
                    .collect()]
            return example_values(vals, 2)

        raise InvalidValueError(
            f"{what} mixes times with a UTC offset (e.g. {shown(aware)}) and "
            f"without one (e.g. {shown(present & ~aware)}): the zone of the bare "
            f"ones cannot be guessed. Give every value an offset, or none (then every value is "
            f"read as local wall-clock time; a users['timezone'] column can say each user's zone)."
        )
    us = F.when(~F.col("_pt.missing") & ~F.col("_pt.oor"), F.col("_pt.us"))
    off = F.col("_pt.off") if has_offsets else None
    return df, us, F.col("_pt.oor"), off


def _times(frame: Any, name: str, dayfirst: bool | None, time_format: str | None,
           epoch_unit: str | None) -> tuple[Any, Any, Any, Any]:
    """(frame, microseconds or null, out-of-range flag, offset minutes or None)."""
    from pyspark.sql import types as T

    F = _F()
    col = Columns.TIMESTAMP
    dtype = frame.schema[col].dataType
    c = F.col(col)
    if isinstance(dtype, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        us = F.unix_micros(c.cast("timestamp"))
        oor = F.coalesce((us < _US_MIN) | (us > _US_MAX), F.lit(False))
        return frame, F.when(~oor, us), oor, None
    if isinstance(dtype, T.BooleanType):
        raise InvalidDtypeError(
            f"{name}['{col}'] must be datetime64, epoch numbers or date strings, got dtype bool."
        )
    if _is_numeric(dtype):
        us, oor, off = _epoch_times(frame, name, epoch_unit)
        return frame, us, oor, None
    if isinstance(dtype, T.StringType):
        return _string_times(frame, name, dayfirst, time_format, epoch_unit)
    raise InvalidDtypeError(
        f"{name}['{col}'] must be datetime64, epoch numbers or date strings, "
        f"got Spark type {dtype.simpleString()}."
    )


# ----------------------------------------------------------------- rules
class _Violation:
    def __init__(self, frame: str, reason: str, n_rows: int, description: str,
                 first_row: int, examples: str, error: type[Exception]) -> None:
        self.frame, self.reason, self.n_rows = frame, reason, n_rows
        self.description, self.first_row, self.examples = description, first_row, examples
        self.error = error

    def message(self) -> str:
        return (
            f"{self.frame}: {self.n_rows} row(s) break the rule '{self.description}' "
            f"(first at row {self.first_row}, e.g. {self.examples})."
        )


def _raise_if_any(sink: list[_Violation]) -> None:
    """One error for every broken rule, typed as the first (as the pandas path)."""
    if not sink:
        return
    fix = " Fix the data or pass clean=True to drop them with a report."
    if len(sink) == 1:
        msg = sink[0].message() + fix
    else:
        lines = [f"({k}) {v.message()}" for k, v in enumerate(sink, 1)]
        msg = f"{len(sink)} rules are broken: " + " ".join(lines) + fix
    err = sink[0].error(msg)
    err.violations = list(sink)  # type: ignore[attr-defined]
    raise err


class _SparkRules:
    """Row rules of one frame, evaluated in one Spark aggregation.

    Strict mode counts each rule over all rows and records a violation per
    broken rule (examples and first row fetched for those only). Clean mode
    gives each row the first rule it breaks, in order (as the pandas path,
    where an earlier rule's rows are no longer counted by later rules), and
    counts rows per reason.
    """

    def __init__(self, name: str, clean: bool) -> None:
        self.name = name
        self.clean = clean
        self.rules: list[tuple[str, Any, str, Any, type[Exception]]] = []

    def add(self, reason: str, bad: Any, description: str, shown: Any,
            error: type[Exception] = InvalidValueError) -> None:
        F = _F()
        self.rules.append((reason, F.coalesce(bad, F.lit(False)), description, shown, error))

    def _reason(self) -> Any:
        F = _F()
        expr = None
        for reason, bad, _, _, _ in self.rules:
            expr = F.when(bad, F.lit(reason)) if expr is None else expr.when(bad, F.lit(reason))
        return F.lit(None).cast("string") if expr is None else expr

    def strict(self, frame: Any, sink: list[_Violation]) -> None:
        """Count each rule's rows; record a violation per broken rule."""
        F = _F()
        if not self.rules:
            return
        aggs = [F.sum(bad.cast("long")).alias(f"_n{k}")
                for k, (_, bad, _, _, _) in enumerate(self.rules)]
        row = frame.agg(*aggs).first()
        for k, (reason, bad, description, shown, error) in enumerate(self.rules):
            n_bad = int(row[f"_n{k}"] or 0)
            if n_bad == 0:
                continue
            ex = frame.where(bad).orderBy(ROW_ORDER).select(ROW_ORDER, shown.alias("_x")) \
                .limit(3).collect()
            first = int(frame.where(F.col(ROW_ORDER) < F.lit(ex[0][ROW_ORDER])).count())
            sink.append(_Violation(self.name, reason, n_bad, description, first,
                                   example_values([r["_x"] for r in ex]), error))

    def flag(self, frame: Any) -> Any:
        """``frame`` with the hidden column ``_reason`` (first rule broken, null if none)."""
        return frame.withColumn("_reason", self._reason())

    def report(self, flagged: Any, extra: Iterable[tuple[str, str]] = ()) -> CleaningReport:
        """Counts per reason of a flagged frame, as a CleaningReport (rules in order)."""
        rows = flagged.groupBy("_reason").count().collect()  # one row per reason (tiny)
        counts = {r["_reason"]: int(r["count"]) for r in rows}
        report = CleaningReport(self.name, sum(counts.values()))
        descriptions = [(r, d) for r, _, d, _, _ in self.rules] + list(extra)
        for reason, description in descriptions:
            if counts.get(reason, 0):
                report.add(reason, counts[reason], description)
        self.n_input = report.n_input
        self.n_output = counts.get(None, 0)
        return report


class SparkEvents:
    """Validated events, users and items held as Spark DataFrames.

    The Spark counterpart of :class:`persona_rec.Dataset`: build it with
    :meth:`from_frames`, which applies the same rules in the same order and
    raises the same typed errors. No id maps are built (there is no driver-side
    state); external ids stay in the frames.

    Attributes
    ----------
    interactions : pyspark.sql.DataFrame
        Columns ``user_id, item_id, timestamp`` (Spark timestamp, UTC),
        ``weight`` (float, as the float32 weights of a Dataset), then
        ``event``, ``quantity``, ``price``, ``utc_offset_min`` (when the input
        carried zone information, as in a Dataset) and any other given
        columns, plus ``_row`` (input order, used to break ties by first
        appearance).
    users, items : pyspark.sql.DataFrame or None
        Validated attribute frames (one row per id) with a ``_row`` column.
        Without an items frame, an events ``category`` column gives the items
        (one category per item), as in the pandas path.
    cleaning_reports : list of CleaningReport
        Rows removed per reason when ``clean=True``.
    event_weights : dict
    sensitive_columns : frozenset of str
    """

    def __init__(
        self,
        *,
        interactions: Any,
        users: Any,
        items: Any,
        event_weights: Mapping[str, float],
        sensitive_columns: frozenset[str],
        cleaning_reports: list[CleaningReport],
    ) -> None:
        self.interactions = interactions
        self.users = users
        self.items = items
        self.event_weights = dict(event_weights)
        self.sensitive_columns = frozenset(sensitive_columns)
        self.cleaning_reports = list(cleaning_reports)

    @property
    def spark(self) -> Any:
        """The SparkSession of the frames."""
        return self.interactions.sparkSession

    @classmethod
    def from_frames(
        cls,
        interactions: Any,
        users: Any = None,
        items: Any = None,
        *,
        event_weights: Mapping[str, float] | None = None,
        sensitive: Iterable[str] | None = None,
        clean: bool = False,
        dayfirst: bool | None = None,
        time_format: str | None = None,
        epoch_unit: str | None = None,
    ) -> SparkEvents:
        """Validate Spark frames with the rules of :meth:`Dataset.from_frames`.

        Parameters
        ----------
        interactions : pyspark.sql.DataFrame
            Required columns ``user_id``, ``item_id`` (string or integral),
            ``timestamp`` (timestamp, date, epoch numbers or date strings,
            read as the pandas path reads them); optional ``event``,
            ``weight``, ``quantity``, ``price`` (both may be missing on
            non-purchase events), ``utc_offset_min``, ``order_id``,
            ``session_id``, ``category`` and any other column.
        users, items : pyspark.sql.DataFrame, optional
            Attribute frames keyed by ``user_id`` / ``item_id``; a users
            ``timezone`` column (IANA names) gives each user's local time.
        event_weights : mapping, optional
            Defaults to :data:`persona_rec.DEFAULT_EVENT_WEIGHTS`.
        sensitive : iterable of str, optional
            Defaults to the attribute columns named in
            :data:`persona_rec.dataset.DEFAULT_SENSITIVE_COLUMNS`.
        clean : bool, default False
            Raise once for every broken rule (False; exact duplicate rows are
            then kept with a :class:`~persona_rec.exceptions.DuplicateRowWarning`)
            or drop the rows and report them per reason (True).
        dayfirst, time_format, epoch_unit
            How to read time strings and epoch numbers, as in
            :meth:`Dataset.from_frames`.

        Returns
        -------
        SparkEvents

        Raises
        ------
        InvalidDtypeError, MissingColumnError, EmptyInputError, InvalidValueError,
        DuplicateIdError, UnknownIdError, InvalidParameterError
            As :meth:`persona_rec.Dataset.from_frames`.

        Notes
        -----
        Spark timestamps hold microseconds: nanosecond digits of the input are
        truncated (pandas keeps them).
        """
        require_pyspark()
        F = _F()
        cols = Columns
        name = "interactions"
        if not isinstance(clean, bool):
            raise InvalidDtypeError(f"clean must be a bool, got {clean!r}.")
        check_time_options(dayfirst, time_format, epoch_unit)
        _check_frame(interactions, name, cols.INTERACTIONS_REQUIRED)
        if event_weights is None:
            event_weights = DEFAULT_EVENT_WEIGHTS
        check_event_weights(event_weights)
        n = int(interactions.count())
        if n == 0:
            raise EmptyInputError(f"{name} is empty: at least one row is required.")

        sink: list[_Violation] = []
        reports: list[CleaningReport] = []
        users_df, users_kind = cls._prepare_entities(users, "users", cols.USER, clean, reports,
                                                     sink)
        items_df, items_kind = cls._prepare_entities(items, "items", cols.ITEM, clean, reports,
                                                     sink)

        original = list(interactions.columns)
        inter = interactions.withColumn(ROW_ORDER, F.monotonically_increasing_id())
        kinds = {c: _id_kind(inter, name, c) for c in (cols.USER, cols.ITEM)}
        if users_kind is not None:
            _check_kinds_match(users_kind, "users", kinds[cols.USER], name, cols.USER)
        if items_kind is not None:
            _check_kinds_match(items_kind, "items", kinds[cols.ITEM], name, cols.ITEM)
        rules = _SparkRules(name, clean)
        for col in (cols.USER, cols.ITEM):
            rules.add(f"missing_{col}", _missing_id(inter, col),
                      f"{col} must not be missing or empty", F.col(col))
        inter, us, oor, str_offset = _times(inter, name, dayfirst, time_format, epoch_unit)
        inter = inter.withColumn("_tu", us).withColumn("_oor", oor)
        raw_ts = F.col(cols.TIMESTAMP)
        rules.add("bad_timestamp", F.col("_tu").isNull() & ~F.col("_oor"),
                  "timestamp must be a parseable date/time", raw_ts)
        rules.add("timestamp_out_of_range", F.col("_oor"), _TS_OOR_DESCRIPTION, raw_ts)

        offset = None  # expression of the local offset in minutes
        if str_offset is not None:
            offset = str_offset
        if cols.UTC_OFFSET in inter.columns:
            _require_numeric(inter, cols.UTC_OFFSET, name, "must hold minutes (numbers)")
            if str_offset is not None:
                raise InvalidValueError(
                    f"{name} has both timestamps with UTC offsets and a '{cols.UTC_OFFSET}' "
                    f"column; give the local offset one way only."
                )
            ov = F.col(cols.UTC_OFFSET).cast("double")
            rules.add("bad_utc_offset",
                      ~_finite(ov) | (ov != F.round(ov)) | (F.abs(ov) > 18 * 60),
                      f"{cols.UTC_OFFSET} must be whole minutes between -1080 and 1080", _nan(ov))
            offset = F.coalesce(F.when(_finite(ov), ov), F.lit(0.0)).cast("int")

        has_event = cols.EVENT in inter.columns
        if has_event:
            from pyspark.sql import types as T

            if not isinstance(inter.schema[cols.EVENT].dataType, T.StringType):
                inter = inter.withColumn(cols.EVENT, F.col(cols.EVENT).cast("string"))
            is_purchase = F.coalesce(F.lower(F.col(cols.EVENT)).isin(sorted(PURCHASE_EVENTS)),
                                     F.lit(False))
        else:
            is_purchase = F.lit(True)
        numeric: list[str] = []
        for col in _NUMERIC_OPTIONAL:
            if col not in inter.columns:
                continue
            _require_numeric(inter, col, name)
            numeric.append(col)
            v = F.col(col).cast("double")
            if col == cols.WEIGHT:
                limit = _F32_MAX / max(n, 1)
                rules.add("bad_weight", ~_finite(v) | (v < 0) | (v > limit),
                          f"weight must be a finite number >= 0 and <= {limit:.3g} (so that sums "
                          f"stay finite in the float32 matrix)", _nan(v))
            else:
                nan_ok = (v.isNull() | F.isnan(v)) & ~is_purchase
                rules.add(f"bad_{col}", ~nan_ok & (~_finite(v) | (v < 0)),
                          f"{col} must be a finite number >= 0 (missing is allowed on "
                          f"non-purchase events)", _nan(v))
        if cols.QUANTITY in numeric and cols.PRICE in numeric:
            q, p = F.col(cols.QUANTITY).cast("double"), F.col(cols.PRICE).cast("double")
            amount = q * p
            limit = _F64_MAX / max(n, 1)
            rules.add("bad_amount", _finite(q) & _finite(p) & (~_finite(amount) | (amount > limit)),
                      f"quantity * price must be <= {limit:.3g} (so that monetary sums stay "
                      f"finite)", _nan(amount))
        if has_event and cols.WEIGHT not in inter.columns:
            known = F.col(cols.EVENT).isin(list(event_weights))
            rules.add("unknown_event", ~F.coalesce(known, F.lit(False)),
                      f"event must be one of the event_weights keys {sorted(event_weights)}",
                      F.col(cols.EVENT))
        if items_df is not None:
            known_items = items_df.select(F.col(cols.ITEM).alias("_known_item"))
            inter = inter.join(known_items, inter[cols.ITEM] == known_items["_known_item"], "left")
            rules.add("unknown_item", F.col("_known_item").isNull(),
                      "item_id must be listed in items", F.col(cols.ITEM), error=UnknownIdError)

        # exact duplicates: same value in every input column (times compared in UTC)
        from pyspark.sql import Window

        dup_key = [F.col("_tu") if c == cols.TIMESTAMP else F.col(c) for c in original]
        dup_desc = ("a row must not repeat an earlier row exactly (same value in every column); "
                    "the first is kept")
        if clean:
            flagged = rules.flag(inter)
            w = Window.partitionBy(*dup_key, F.col("_reason").isNull()).orderBy(ROW_ORDER)
            flagged = flagged.withColumn("_reason", F.coalesce(
                F.col("_reason"), F.when(F.row_number().over(w) > 1, F.lit("duplicate_row"))))
            flagged = flagged.localCheckpoint(eager=True)
            report = rules.report(flagged, [("duplicate_row", dup_desc)])
            kept = flagged.where(F.col("_reason").isNull()).drop("_reason")
            _raise_if_any(sink)
            reports.insert(0, report)
            n_out = rules.n_output
        else:
            rules.strict(inter, sink)
            cls._warn_duplicates(inter, dup_key, name)  # warned before raising, as pandas
            _raise_if_any(sink)
            kept = inter
            n_out = n
        if n_out == 0:
            raise EmptyInputError(
                f"{name} has no valid rows left after cleaning ({n} removed); "
                f"see the cleaning report: {reports[0].removed}."
            )

        # local offsets: the users' time zones win over the events' own offsets
        if users_df is not None and cols.TIMEZONE in users_df.columns \
                and users_df.where(F.col(cols.TIMEZONE).isNotNull()).limit(1).count():
            tz = users_df.select(F.col(cols.USER).alias("_tz_user"),
                                 F.col(cols.TIMEZONE).alias("_tz"))
            kept = kept.join(tz, kept[cols.USER] == tz["_tz_user"], "left")
            ts = F.timestamp_micros(F.col("_tu"))
            tz_off = ((F.unix_micros(F.from_utc_timestamp(ts, F.col("_tz")))
                       - F.col("_tu")) / F.lit(60 * 10**6)).cast("int")
            offset = F.when(F.col("_tz").isNotNull(), tz_off).otherwise(
                F.lit(0) if offset is None else offset)

        if cols.WEIGHT in kept.columns:
            weight = F.col(cols.WEIGHT).cast("float")
        elif has_event:
            mapping = F.create_map(*[x for k, v in event_weights.items()
                                     for x in (F.lit(k), F.lit(float(v)))])
            weight = F.element_at(mapping, F.col(cols.EVENT)).cast("float")
        else:
            weight = F.lit(1.0).cast("float")
        reserved = set(cols.INTERACTIONS_REQUIRED) | {cols.WEIGHT, cols.UTC_OFFSET}
        out_cols = [F.col(cols.USER), F.col(cols.ITEM),
                    F.timestamp_micros(F.col("_tu")).alias(cols.TIMESTAMP),
                    weight.alias(cols.WEIGHT)]
        for col in original:
            if col not in reserved:
                c = F.col(col)
                if col == cols.PRICE or (col == cols.QUANTITY and not isinstance(
                        kept.schema[col].dataType, _integral_types())):
                    c = c.cast("double")
                out_cols.append(c.alias(col))
        if offset is not None:
            out_cols.append(offset.cast("int").alias(cols.UTC_OFFSET))
        out_cols.append(F.col(ROW_ORDER))
        kept = kept.select(*out_cols)

        if items_df is None and cols.CATEGORY in kept.columns:
            items_df = cls._items_from_events(kept)

        user_attr_cols = [c for c in (users_df.columns if users_df is not None else [])
                          if c not in (cols.USER, ROW_ORDER)]
        item_attr_cols = [c for c in (items_df.columns if items_df is not None else [])
                          if c not in (cols.ITEM, ROW_ORDER)]
        if sensitive is None:
            sens = frozenset(c for c in user_attr_cols + item_attr_cols
                             if str(c).lower() in DEFAULT_SENSITIVE_COLUMNS)
        else:
            if isinstance(sensitive, str):
                raise InvalidDtypeError(
                    f"sensitive must be an iterable of column names, got the string {sensitive!r}."
                )
            sens = frozenset(sensitive)
            unknown = sens - set(user_attr_cols) - set(item_attr_cols)
            if unknown:
                raise InvalidParameterError(
                    f"sensitive names column(s) {sorted(unknown)} that are in neither users "
                    f"nor items."
                )
        return cls(interactions=kept, users=users_df, items=items_df,
                   event_weights=event_weights, sensitive_columns=sens, cleaning_reports=reports)

    @staticmethod
    def _warn_duplicates(inter: Any, dup_key: list[Any], name: str) -> None:
        """Strict mode keeps exact duplicate rows but says so (they inflate counts)."""
        from pyspark.sql import Window

        F = _F()
        w = Window.partitionBy(*dup_key).orderBy(ROW_ORDER)
        dups = inter.withColumn("_dupn", F.row_number().over(w)).where(F.col("_dupn") > 1)
        n_dup = int(dups.count())
        if not n_dup:
            return
        shown = [c for c in Columns.INTERACTIONS_REQUIRED if c in inter.columns]
        ex = dups.orderBy(ROW_ORDER).select(ROW_ORDER, *shown).limit(3).collect()
        first = int(inter.where(F.col(ROW_ORDER) < F.lit(ex[0][ROW_ORDER])).count())
        examples = example_values([{c: r[c] for c in shown} for r in ex])
        warnings.warn(
            f"{name}: {n_dup} row(s) repeat an earlier row exactly (same value in every column; "
            f"first at row {first}, e.g. {examples}); they are kept as separate events and count "
            f"twice in frequency and monetary. Pass clean=True to drop them (reported as "
            f"'duplicate_row').",
            DuplicateRowWarning,
            stacklevel=3,
        )

    @staticmethod
    def _items_from_events(kept: Any) -> Any:
        """Items from an events ``category`` column (one category per item, first one kept)."""
        from pyspark.sql import Window

        F = _F()
        cat = Columns.CATEGORY
        withcat = kept.where(F.col(cat).isNotNull()).select(Columns.ITEM, cat, ROW_ORDER)
        conflict = (withcat.groupBy(Columns.ITEM).agg(F.countDistinct(cat).alias("_k"))
                    .where(F.col("_k") > 1))
        n_conflict = int(conflict.count())
        if n_conflict:
            shown = []
            for r in conflict.select(Columns.ITEM).limit(3).collect():
                item = r[0]
                vals = [x[0] for x in withcat.where(F.col(Columns.ITEM) == F.lit(item))
                        .groupBy(cat).agg(F.min(ROW_ORDER).alias("_o")).orderBy("_o")
                        .limit(3).collect()]
                shown.append(f"{item!r}: {vals}")
            raise InvalidValueError(
                f"interactions['{cat}'] gives {n_conflict} item(s) more than one category "
                f"({'; '.join(shown)}); an item has one category. Fix the data or pass an items "
                f"frame (then the events' category column is kept as a plain column)."
            )
        w = Window.partitionBy(Columns.ITEM).orderBy(ROW_ORDER)
        return (withcat.withColumn("_k", F.row_number().over(w)).where(F.col("_k") == 1)
                .select(Columns.ITEM, cat, ROW_ORDER))

    @staticmethod
    def _prepare_entities(frame: Any, name: str, id_col: str, clean: bool,
                          reports: list[CleaningReport],
                          sink: list[_Violation]) -> tuple[Any, str | None]:
        """Validate a users/items frame: ids present and unique, price >= 0, time zones."""
        from pyspark.sql import Window

        F = _F()
        if frame is None:
            return None, None
        _check_frame(frame, name, (id_col,))
        kind = _id_kind(frame, name, id_col)
        df = frame.withColumn(ROW_ORDER, F.monotonically_increasing_id())
        rules = _SparkRules(name, clean)
        rules.add(f"missing_{id_col}", _missing_id(df, id_col),
                  f"{id_col} must not be missing or empty", F.col(id_col))
        df = df.withColumn("_dup", F.row_number().over(
            Window.partitionBy(id_col).orderBy(ROW_ORDER)) > 1)
        rules.add(f"duplicate_{id_col}", F.col("_dup"),
                  f"{id_col} must be unique (one row per {name[:-1]}); the first row is kept",
                  F.col(id_col), error=DuplicateIdError)
        if Columns.PRICE in df.columns:
            _require_numeric(df, Columns.PRICE, name)
            price = F.col(Columns.PRICE).cast("double")
            rules.add(f"bad_{Columns.PRICE}", (price < 0) | (F.abs(price) == float("inf")),
                      f"{Columns.PRICE} must be >= 0 (missing is allowed)", _nan(price))
        if name == "users" and Columns.TIMEZONE in df.columns:
            tz = F.col(Columns.TIMEZONE).cast("string")
            names = [r[0] for r in df.where(tz.isNotNull()).select(tz).distinct().collect()]
            good = [z for z in names if _is_zone(z)]
            rules.add("bad_timezone", tz.isNotNull() & ~tz.isin(good),
                      "timezone must be an IANA time-zone name such as 'Asia/Shanghai' "
                      "(missing is allowed)", F.col(Columns.TIMEZONE))
        if clean:
            flagged = rules.flag(df).localCheckpoint(eager=True)
            reports.append(rules.report(flagged))
            out = flagged.where(F.col("_reason").isNull()).drop("_reason", "_dup")
        else:
            rules.strict(df, sink)
            out = df.drop("_dup")
        if Columns.PRICE in out.columns:
            out = out.withColumn(Columns.PRICE, F.col(Columns.PRICE).cast("double"))
        return out, kind

    def count_interactions(self) -> int:
        """Number of interaction rows (a Spark count)."""
        return int(self.interactions.count())

    def __repr__(self) -> str:
        return f"SparkEvents(columns={self.interactions.columns})"


def _integral_types() -> Any:
    from pyspark.sql import types as T

    return T.IntegralType


def _is_zone(name: Any) -> bool:
    """An IANA zone name known to Python (as the pandas path checks it)."""
    from zoneinfo import ZoneInfo

    try:
        return isinstance(name, str) and bool(name) and ZoneInfo(name) is not None
    except (KeyError, ValueError, TypeError, OSError):
        return False

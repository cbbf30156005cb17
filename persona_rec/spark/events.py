"""Events from Spark: the rules of :meth:`persona_rec.Dataset.from_frames`, evaluated by Spark.

:class:`SparkEvents` validates a Spark DataFrame of events (and optional users
and items frames) with the same rules, in the same order, and the same typed
errors as the pandas path. Rows that break a rule are counted by Spark (one
``groupBy`` over a per-row reason column); only the per-reason counts and at
most three example values reach the driver.
"""

from __future__ import annotations

from ._parity import warn_parity

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._validation import example_values
from ..cleaning import CleaningReport
from ..columns import Columns
from ..dataset import DEFAULT_EVENT_WEIGHTS, DEFAULT_SENSITIVE_COLUMNS
from ..exceptions import (
    DuplicateIdError,
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
_REASON = "_reason"
_NUMERIC_OPTIONAL = (Columns.WEIGHT, Columns.QUANTITY, Columns.PRICE)


def _type_name(frame: Any, col: str) -> str:
    return frame.schema[col].dataType.simpleString()


def _is_numeric(dtype: Any) -> bool:
    from pyspark.sql import types as T

    return isinstance(dtype, T.NumericType)


def _check_frame(frame: Any, name: str, required: Iterable[str]) -> Any:
    require_spark_frame(frame, name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{name} is missing column(s) {missing}; it has {list(frame.columns)}."
        )
    return frame


def _check_id_dtype(frame: Any, name: str, col: str) -> None:
    from pyspark.sql import types as T

    dtype = frame.schema[col].dataType
    if isinstance(dtype, (T.StringType, T.IntegralType)):
        return
    raise InvalidDtypeError(
        f"{name}['{col}'] must hold str or int ids, got Spark type {dtype.simpleString()}; "
        f"cast it, e.g. with F.col('{col}').cast('long') or .cast('string')."
    )


def _missing_id(frame: Any, col: str) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    bad = F.col(col).isNull()
    if isinstance(frame.schema[col].dataType, T.StringType):
        bad = bad | (F.col(col) == F.lit(""))
    return bad


def _bad_number(col: str, allow_missing: bool = False) -> Any:
    from pyspark.sql import functions as F

    c = F.col(col).cast("double")
    bad = F.isnan(c) | (c == float("inf")) | (c == float("-inf")) | (c < 0)
    if allow_missing:
        return F.coalesce(bad & c.isNotNull(), F.lit(False))
    return F.coalesce(bad, F.lit(True))


def _timestamp(frame: Any, name: str) -> Any:
    """Expression converting ``timestamp`` to a Spark timestamp (null where unparseable)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    col = Columns.TIMESTAMP
    dtype = frame.schema[col].dataType
    c = F.col(col)
    if isinstance(dtype, T.TimestampType):
        return c
    if isinstance(dtype, (T.TimestampNTZType, T.DateType)):
        return c.cast("timestamp")
    if isinstance(dtype, T.BooleanType):
        raise InvalidDtypeError(
            f"{name}['{col}'] must be datetime64, integer epoch seconds or date strings, "
            f"got dtype bool."
        )
    if _is_numeric(dtype):  # epoch seconds, as in the pandas path
        v = c.cast("double")
        ok = ~F.isnan(v) & (F.abs(v) < 1e11)
        return F.when(ok, F.timestamp_micros(F.round(v * 1e6).cast("long")))
    if isinstance(dtype, T.StringType):
        return F.try_to_timestamp(c)
    raise InvalidDtypeError(
        f"{name}['{col}'] must be datetime64, integer epoch seconds or date strings, "
        f"got Spark type {dtype.simpleString()}."
    )


class _SparkRules:
    """Collect row rules as one 'first reason broken' column, then count with Spark."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rules: list[tuple[str, Any, str, str, type[Exception]]] = []

    def add(self, reason: str, bad: Any, description: str, shown: str,
            error: type[Exception] = InvalidValueError) -> None:
        self.rules.append((reason, bad, description, shown, error))

    def reason_column(self) -> Any:
        from pyspark.sql import functions as F

        expr = None
        for reason, bad, _, _, _ in self.rules:
            expr = F.when(bad, F.lit(reason)) if expr is None else expr.when(bad, F.lit(reason))
        return F.lit(None).cast("string") if expr is None else expr

    def apply(self, frame: Any, clean: bool, reports: list[CleaningReport]) -> Any:
        """Return ``frame`` without bad rows (``clean``) or raise on the first rule broken."""
        from pyspark.sql import functions as F

        flagged = frame.withColumn(_REASON, self.reason_column())
        rows = flagged.groupBy(_REASON).count().collect()  # one row per reason (tiny)
        counts = {r[_REASON]: int(r["count"]) for r in rows}
        n_input = sum(counts.values())
        report = CleaningReport(self.name, n_input)
        for reason, _, description, shown, error in self.rules:
            n_bad = counts.get(reason, 0)
            if n_bad == 0:
                continue
            if not clean:
                examples = [r[0] for r in flagged.where(F.col(_REASON) == reason)
                            .select(shown).limit(3).collect()]
                raise error(
                    f"{self.name}: {n_bad} row(s) break the rule '{description}' "
                    f"(e.g. {example_values(examples)}). Fix the data or pass "
                    f"clean=True to drop them with a report."
                )
            report.add(reason, n_bad, description)
        if clean:
            reports.append(report)
        self.n_input = n_input
        self.n_output = counts.get(None, 0)
        return flagged.where(F.col(_REASON).isNull()).drop(_REASON)


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
        ``event``, ``quantity``, ``price`` and any other given columns, plus
        ``_row`` (input order, used to break ties by first appearance).
    users, items : pyspark.sql.DataFrame or None
        Validated attribute frames (one row per id) with a ``_row`` column.
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
    ) -> SparkEvents:
        """Validate Spark frames with the rules of :meth:`Dataset.from_frames`.

        Parameters
        ----------
        interactions : pyspark.sql.DataFrame
            Required columns ``user_id``, ``item_id`` (string or integral),
            ``timestamp`` (timestamp, date, epoch seconds or date strings);
            optional ``event``, ``weight``, ``quantity``, ``price``,
            ``order_id``, ``session_id`` and any other column.
        users, items : pyspark.sql.DataFrame, optional
            Attribute frames keyed by ``user_id`` / ``item_id``.
        event_weights : mapping, optional
            Defaults to :data:`persona_rec.DEFAULT_EVENT_WEIGHTS`.
        sensitive : iterable of str, optional
            Defaults to the attribute columns named in
            :data:`persona_rec.dataset.DEFAULT_SENSITIVE_COLUMNS`.
        clean : bool, default False
            Raise on the first broken rule (False) or drop the rows and
            report them per reason (True).

        Returns
        -------
        SparkEvents

        Raises
        ------
        InvalidDtypeError, MissingColumnError, EmptyInputError, InvalidValueError,
        DuplicateIdError, UnknownIdError
            As :meth:`persona_rec.Dataset.from_frames`.
        """
        require_pyspark()
        from pyspark.sql import functions as F

        warn_parity("persona_rec.spark.SparkEvents.from_frames")
        cols = Columns
        name = "interactions"
        _check_frame(interactions, name, cols.INTERACTIONS_REQUIRED)
        if event_weights is None:
            event_weights = DEFAULT_EVENT_WEIGHTS
        for key, val in dict(event_weights).items():
            if not isinstance(val, (int, float, np.integer, np.floating)) or isinstance(val, bool) \
                    or not np.isfinite(val) or val < 0:
                raise InvalidParameterError(
                    f"event_weights[{key!r}] must be a finite number >= 0, got {val!r}."
                )
        if not isinstance(clean, bool):
            raise InvalidDtypeError(f"clean must be a bool, got {clean!r}.")
        if interactions.isEmpty():
            raise EmptyInputError(f"{name} is empty: at least one row is required.")

        reports: list[CleaningReport] = []
        users_df = cls._prepare_entities(users, "users", cols.USER, clean, reports)
        items_df = cls._prepare_entities(items, "items", cols.ITEM, clean, reports)

        inter = interactions.withColumn(ROW_ORDER, F.monotonically_increasing_id())
        _check_id_dtype(inter, name, cols.USER)
        _check_id_dtype(inter, name, cols.ITEM)
        rules = _SparkRules(name)
        for col in (cols.USER, cols.ITEM):
            rules.add(f"missing_{col}", _missing_id(inter, col),
                      f"{col} must not be missing or empty", col)
        inter = inter.withColumn("_ts", _timestamp(inter, name))
        rules.add("bad_timestamp", F.col("_ts").isNull(),
                  "timestamp must be a parseable date/time", cols.TIMESTAMP)
        for col in _NUMERIC_OPTIONAL:
            if col not in inter.columns:
                continue
            dtype = inter.schema[col].dataType
            if not _is_numeric(dtype):
                raise InvalidDtypeError(
                    f"{name}['{col}'] must be numeric, got Spark type {dtype.simpleString()}."
                )
            rules.add(f"bad_{col}", _bad_number(col), f"{col} must be a finite number >= 0", col)
        has_event = cols.EVENT in inter.columns
        if has_event and cols.WEIGHT not in inter.columns:
            known = F.col(cols.EVENT).cast("string").isin(list(event_weights))
            rules.add("unknown_event", ~F.coalesce(known, F.lit(False)),
                      f"event must be one of the event_weights keys {sorted(event_weights)}",
                      cols.EVENT)
        if items_df is not None:
            known_items = items_df.select(F.col(cols.ITEM).alias("_known_item"))
            inter = inter.join(known_items, inter[cols.ITEM] == known_items["_known_item"], "left")
            rules.add("unknown_item", F.col("_known_item").isNull(),
                      "item_id must be listed in items", cols.ITEM, error=UnknownIdError)
        kept = rules.apply(inter, clean, reports)
        if clean:  # the interactions report comes first, as in the pandas path
            reports.insert(0, reports.pop())
        if rules.n_output == 0:
            raise EmptyInputError(
                f"{name} has no valid rows left after cleaning ({rules.n_input} removed); "
                f"see the cleaning report: {reports[0].removed}."
            )
        if "_known_item" in kept.columns:
            kept = kept.drop("_known_item")
        if cols.WEIGHT in kept.columns:
            weight = F.col(cols.WEIGHT).cast("float")
        elif has_event:
            mapping = F.create_map(*[x for k, v in event_weights.items()
                                     for x in (F.lit(k), F.lit(float(v)))])
            weight = F.element_at(mapping, F.col(cols.EVENT).cast("string")).cast("float")
        else:
            weight = F.lit(1.0).cast("float")
        reserved = set(cols.INTERACTIONS_REQUIRED) | {cols.WEIGHT, "_ts", ROW_ORDER}
        out_cols = [F.col(cols.USER), F.col(cols.ITEM), F.col("_ts").alias(cols.TIMESTAMP),
                    weight.alias(cols.WEIGHT)]
        for col in kept.columns:
            if col not in reserved:
                c = F.col(col)
                if col == cols.PRICE:
                    c = c.cast("double")
                out_cols.append(c.alias(col))
        out_cols.append(F.col(ROW_ORDER))
        kept = kept.select(*out_cols)

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
    def _prepare_entities(frame: Any, name: str, id_col: str, clean: bool,
                          reports: list[CleaningReport]) -> Any:
        """Validate a users/items frame: ids present and unique, price >= 0."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        if frame is None:
            return None
        _check_frame(frame, name, (id_col,))
        _check_id_dtype(frame, name, id_col)
        df = frame.withColumn(ROW_ORDER, F.monotonically_increasing_id())
        rules = _SparkRules(name)
        rules.add(f"missing_{id_col}", _missing_id(df, id_col),
                  f"{id_col} must not be missing or empty", id_col)
        df = df.withColumn("_dup", F.row_number().over(
            Window.partitionBy(id_col).orderBy(ROW_ORDER)) > 1)
        rules.add(f"duplicate_{id_col}", F.col("_dup"),
                  f"{id_col} must be unique (one row per {name[:-1]}); the first row is kept",
                  id_col, error=DuplicateIdError)
        if Columns.PRICE in df.columns:
            dtype = df.schema[Columns.PRICE].dataType
            if not _is_numeric(dtype):
                raise InvalidDtypeError(
                    f"{name}['{Columns.PRICE}'] must be numeric, got Spark type "
                    f"{dtype.simpleString()}."
                )
            price = F.col(Columns.PRICE).cast("double")
            rules.add(f"bad_{Columns.PRICE}",
                      F.coalesce((price < 0) | (F.abs(price) == float("inf")), F.lit(False)),
                      f"{Columns.PRICE} must be >= 0 (missing is allowed)", Columns.PRICE)
        out = rules.apply(df, clean, reports).drop("_dup")
        if Columns.PRICE in out.columns:
            out = out.withColumn(Columns.PRICE, F.col(Columns.PRICE).cast("double"))
        return out

    def count_interactions(self) -> int:
        """Number of interaction rows (a Spark count)."""
        return int(self.interactions.count())

    def __repr__(self) -> str:
        return f"SparkEvents(columns={self.interactions.columns})"

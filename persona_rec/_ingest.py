"""Ingestion: validate and clean the input frames of :meth:`Dataset.from_frames`.

One cohesive unit: column renaming (``columns=``), event renaming
(``event_map=``), id checks, the time parser, numeric rules, exact-duplicate
removal, local time (UTC offsets and users' time zones) and events-frame
categories. Row rules either collect every violation and raise once
(``clean=False``) or drop the offending rows and count them per reason in a
:class:`~persona_rec.cleaning.CleaningReport` (``clean=True``). The
rules read best in one place, hence its length.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._text import category_path
from ._time import check_time_options, numpy_backed, parse_times
from ._validation import check_bool, check_frame, check_instance, example_values
from .cleaning import CleaningReport
from .columns import DATE_ATTRIBUTES, PURCHASE_EVENTS, Columns
from .exceptions import (
    DuplicateIdError,
    DuplicateRowWarning,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    UnknownIdError,
    UnmatchedIdWarning,
)
from .identifiers import IdMap


def _py(value: Any) -> Any:
    """A numpy scalar as its Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


__all__ = ["ingest", "check_event_weights", "PURCHASE_EVENTS"]


_F32_MAX = float(np.finfo(np.float32).max)
_F64_MAX = float(np.finfo(np.float64).max)
_NUMERIC_OPTIONAL = (Columns.WEIGHT, Columns.QUANTITY, Columns.PRICE)


# ----------------------------------------------------------------- row rules
@dataclass
class Violation:
    """One broken row rule in strict mode."""

    frame: str
    reason: str
    n_rows: int
    description: str
    first_row: int
    examples: str
    error: type[Exception]

    def message(self) -> str:
        """One sentence naming the frame, rule, count, first row and examples."""
        return (
            f"{self.frame}: {self.n_rows} row(s) break the rule '{self.description}' "
            f"(first at row {self.first_row}, e.g. {self.examples})."
        )


@dataclass
class _Violations:
    items: list[Violation] = field(default_factory=list)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        fix = " Fix the data or pass clean=True to drop them with a report."
        if len(self.items) == 1:
            msg = self.items[0].message() + fix
        else:
            lines = [f"({k}) {v.message()}" for k, v in enumerate(self.items, 1)]
            msg = f"{len(self.items)} rules are broken: " + " ".join(lines) + fix
        err = self.items[0].error(msg)
        err.violations = list(self.items)  # type: ignore[attr-defined]
        raise err


class _RowRules:
    """Apply row rules: collect violations (strict) or drop and report (clean)."""

    def __init__(self, frame_name: str, n_rows: int, clean: bool, sink: _Violations) -> None:
        self.frame_name = frame_name
        self.clean = clean
        self.sink = sink
        self.keep = np.ones(n_rows, dtype=bool)
        self.report = CleaningReport(frame_name, n_rows)

    def apply(
        self,
        reason: str,
        bad: np.ndarray,
        description: str,
        examples: Any,
        error: type[Exception] = InvalidValueError,
    ) -> None:
        bad = np.asarray(bad, dtype=bool) & self.keep
        n_bad = int(bad.sum())
        if n_bad == 0:
            return
        if not self.clean:
            if isinstance(examples, (pd.Series, pd.Index)):
                examples = examples.to_numpy()
            ex = np.asarray(examples, dtype=object) if not isinstance(examples, np.ndarray) \
                else examples
            self.sink.items.append(Violation(
                self.frame_name, reason, n_bad, description, int(np.flatnonzero(bad)[0]),
                example_values(ex[bad]), error,
            ))
            return
        self.keep &= ~bad
        self.report.add(reason, n_bad, description)


# ----------------------------------------------------------------- arguments
def _numeric_column(frame: pd.DataFrame, col: str, name: str, must: str = "be numeric") -> pd.Series:
    """``frame[col]``, refused with an InvalidDtypeError unless its dtype is int, uint or float."""
    s = frame[col]
    if s.dtype.kind not in "iuf":
        raise InvalidDtypeError(f"{name}['{col}'] must {must}, got dtype {s.dtype}"
                                + _not_numbers(s) + ".")
    return s


def _not_numbers(s: pd.Series) -> str:
    """The offending values of a non-numeric column, with row positions, for a message."""
    if s.dtype.kind == "b" or isinstance(s.dtype, pd.BooleanDtype):
        return f" (e.g. {_py(s.iloc[0]) if len(s) else None!r} at row position 0)"
    try:
        as_num = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError):  # unhashable or odd cells
        as_num = pd.Series(np.nan, index=s.index)
    bad = (s.notna() & as_num.isna()).to_numpy()
    if not bad.any():
        first = np.flatnonzero(s.notna().to_numpy())
        shown = repr(s.iloc[first[0]]) if len(first) else "None"
        pos = int(first[0]) if len(first) else 0
        return (f" (e.g. {shown} at row position {pos}): the values are numbers stored as text; "
                f"convert the column with pd.to_numeric")
    pos = np.flatnonzero(bad)
    out = (f": {len(pos)} value(s) are not numbers, e.g. {example_values(s.iloc[pos[:3]])} at "
           f"row position(s) {pos[:3].tolist()}")
    comma = s.iloc[pos].astype(str).str.fullmatch(r"\s*[+-]?\d{1,3}(?:[.\s]?\d{3})*,\d+\s*")
    if bool(comma.any()):
        out += (" (decimal commas? read the file with decimal=',', e.g. "
                "pd.read_csv(path, decimal=','), or convert them)")
    return out


def _check_mapping(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    check_instance(value, Mapping, f"{name} must be a mapping of str to str")
    bad = [(k, v) for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)
           or not v]
    if bad:
        shown = example_values([f"{k!r}: {v!r}" for k, v in bad])
        raise InvalidParameterError(f"{name} must map str to non-empty str, got {shown}.")
    return dict(value)


def _numpy_backed_frame(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The frame with its pyarrow-backed (``pd.ArrowDtype``) columns converted to numpy ones."""
    if frame is None or not any(isinstance(d, pd.ArrowDtype) for d in frame.dtypes):
        return frame
    out = frame.copy(deep=False)
    for j, d in enumerate(frame.dtypes):
        if isinstance(d, pd.ArrowDtype):
            out.isetitem(j, numpy_backed(frame.iloc[:, j]))
    return out


def _check_event_map(value: Any) -> dict[Any, str]:
    """``event_map``: str or int keys (numeric event codes) to non-empty str."""
    if value is None:
        return {}
    check_instance(value, Mapping, "event_map must be a mapping of str (or int) to str")
    bad = [(k, v) for k, v in value.items()
           if not (isinstance(k, str) or (isinstance(k, (int, np.integer))
                                          and not isinstance(k, (bool, np.bool_))))
           or not isinstance(v, str) or not v]
    if bad:
        shown = example_values([f"{k!r}: {v!r}" for k, v in bad])
        raise InvalidParameterError(
            f"event_map must map str (or int event codes) to non-empty str, got {shown}."
        )
    return {int(k) if isinstance(k, np.integer) else k: v for k, v in value.items()}


def _map_events(ev_cat: pd.Categorical, emap: dict[Any, str], column: str) -> pd.Categorical:
    """Rename event types; int keys match integer event codes, str keys text ones."""
    cats = list(ev_cat.categories)
    is_int = [(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)))
              or (isinstance(c, (float, np.floating)) and float(c).is_integer())  # 4.0: gaps
              for c in cats]
    int_keys = [k for k in emap if isinstance(k, int)]
    str_keys = [k for k in emap if isinstance(k, str)]
    if cats and int_keys and not any(is_int):
        raise InvalidParameterError(
            f"event_map has int key(s) {int_keys[:3]} but interactions['{column}'] holds no "
            f"integer event codes (e.g. {_py(cats[0])!r}); write the keys as they appear in the "
            f"column, e.g. {{{str(int_keys[0])!r}: {emap[int_keys[0]]!r}}}."
        )
    if cats and str_keys and all(is_int):
        digits = [k for k in str_keys if k.strip().lstrip("+-").isdigit()]
        hint = (f"; use int keys for numeric codes, e.g. {{{int(digits[0])}: "
                f"{emap[digits[0]]!r}}}" if digits else "")
        raise InvalidParameterError(
            f"event_map has str key(s) {str_keys[:3]} but interactions['{column}'] holds integer "
            f"event codes (e.g. {_py(cats[0])!r}), which str keys never match{hint}."
        )
    new = np.asarray([emap.get(int(c), c) if i else (emap.get(c, c) if isinstance(c, str) else c)
                      for c, i in zip(cats, is_int)] + [None], dtype=object)
    codes = np.where(ev_cat.codes < 0, len(new) - 1, ev_cat.codes)
    return pd.Categorical(new[codes])


def _rename(frame: pd.DataFrame | None, columns: dict[str, str], name: str) -> pd.DataFrame | None:
    if frame is None or not columns:
        return frame
    present = {k: v for k, v in columns.items() if k in frame.columns}
    if not present:
        return frame
    clash = [v for k, v in present.items() if v in frame.columns and v not in present]
    if clash:
        raise InvalidParameterError(
            f"columns= renames into {clash}, but {name} already has column(s) with that name; "
            f"drop or rename them first."
        )
    targets = list(present.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise InvalidParameterError(f"columns= maps several columns of {name} onto {dup}.")
    return frame.rename(columns=present)


# ----------------------------------------------------------------------- ids
@dataclass
class _IdCheck:
    missing: np.ndarray
    bad_type: np.ndarray
    kinds: dict[str, Any]  # kind name -> an example value


def _check_ids(series: pd.Series, frame: str, column: str) -> _IdCheck:
    """Element-wise id checks: missing and wrong element types; the kinds present."""
    dtype = series.dtype
    n = len(series)
    if isinstance(dtype, pd.CategoricalDtype):
        cats = _check_ids(pd.Series(dtype.categories), frame, column)
        codes = series.cat.codes.to_numpy()

        def pick(a: np.ndarray, fill: bool) -> np.ndarray:  # code -1 (missing) -> fill
            ext = np.append(a, fill)
            return ext[np.where(codes < 0, len(a), codes)]

        used = np.unique(codes[codes >= 0])
        kinds = cats.kinds if len(used) else {}
        return _IdCheck(pick(cats.missing, True), pick(cats.bad_type, False), kinds)
    zeros = np.zeros(n, dtype=bool)
    if dtype.kind in "iu":  # nullable Int64 may hold <NA>
        na = series.isna().to_numpy()
        first = np.flatnonzero(~na)
        return _IdCheck(na, zeros, {"int": series.iloc[first[0]]} if len(first) else {})
    is_string_dtype = isinstance(dtype, pd.StringDtype)
    if dtype.kind != "O" and not is_string_dtype:
        example = series.iloc[0] if n else None
        raise InvalidDtypeError(
            f"{frame}['{column}'] must hold str or int ids, got dtype {dtype} "
            f"(e.g. {example!r}); convert it, e.g. with .astype('int64') or .astype(str)."
        )
    vals = series.to_numpy(dtype=object, na_value=None) if is_string_dtype \
        else series.to_numpy(dtype=object)
    inferred = "string" if is_string_dtype else pd.api.types.infer_dtype(vals, skipna=True)
    na = np.asarray(pd.isna(vals), dtype=bool) if vals.size else zeros
    if inferred == "string":
        is_str, is_int = ~na, zeros
    elif inferred == "integer":
        is_str, is_int = zeros, ~na
    elif inferred == "empty":
        is_str, is_int = zeros, zeros
    else:
        types = pd.Series(vals).map(type).to_numpy()
        codes, uniq = pd.factorize(types)
        str_t = np.array([issubclass(t, str) for t in uniq] + [False])
        int_t = np.array([issubclass(t, (int, np.integer))
                          and not issubclass(t, (bool, np.bool_)) for t in uniq] + [False])
        is_str = str_t[codes] & ~na
        is_int = int_t[codes] & ~na
    empty = zeros.copy()
    if is_str.any():
        empty[is_str] = (pd.Series(vals[is_str], dtype=object) == "").to_numpy()
    missing = na | empty
    bad_type = ~missing & ~is_str & ~is_int
    kinds: dict[str, Any] = {}
    ok_str = is_str & ~empty
    if ok_str.any():
        kinds["str"] = vals[np.flatnonzero(ok_str)[0]]
    if is_int.any():
        kinds["int"] = vals[np.flatnonzero(is_int)[0]]
    return _IdCheck(missing, bad_type, kinds)


def _apply_id_rules(rules: _RowRules, check: _IdCheck, ids: pd.Series, col: str) -> None:
    rules.apply(f"missing_{col}", check.missing, f"{col} must not be missing or empty", ids)
    rules.apply(
        f"bad_{col}_type",
        check.bad_type,
        f"{col} must be a str or an int (not bool, float, tuple, bytes ...)",
        ids,
        error=InvalidDtypeError,
    )


def _check_kinds_match(a: _IdCheck, a_name: str, b: _IdCheck, b_name: str, col: str) -> None:
    if a.kinds and b.kinds and not set(a.kinds) & set(b.kinds):
        ka, kb = sorted(a.kinds)[0], sorted(b.kinds)[0]
        raise InvalidDtypeError(
            f"{a_name}['{col}'] holds {ka} ids (e.g. {_py(a.kinds[ka])!r}) but {b_name}['{col}'] "
            f"holds {kb} ids (e.g. {_py(b.kinds[kb])!r}); 1 and '1' are different ids, so no row "
            f"would match. Convert one side, e.g. {b_name}['{col}'].astype("
            f"{'str' if ka == 'str' else repr('int64')})."
        )


# ------------------------------------------------------------------ entities
def _prepare_entities(
    frame: pd.DataFrame | None,
    name: str,
    id_col: str,
    clean: bool,
    reports: list[CleaningReport],
    sink: _Violations,
) -> tuple[pd.DataFrame | None, _IdCheck | None]:
    """Validate a users/items frame and return it indexed by id."""
    if frame is None:
        return None, None
    check_frame(frame, name, (id_col,), allow_empty=True)
    ids = frame[id_col]
    check = _check_ids(ids, name, id_col)
    rules = _RowRules(name, len(frame), clean, sink)
    _apply_id_rules(rules, check, ids, id_col)
    try:
        dup = ids.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable ids were reported above
        dup = np.zeros(len(ids), dtype=bool)
    rules.apply(
        f"duplicate_{id_col}",
        dup,
        f"{id_col} must be unique (one row per {name[:-1]}); the first row is kept",
        ids,
        error=DuplicateIdError,
    )
    if Columns.PRICE in frame.columns:
        s = _numeric_column(frame, Columns.PRICE, name)
        v = s.to_numpy(dtype=np.float64)
        rules.apply(f"bad_{Columns.PRICE}", (v < 0) | np.isinf(v),
                    f"{Columns.PRICE} must be >= 0 (missing is allowed)", v)
    if name == "users" and Columns.TIMEZONE in frame.columns:
        tz = frame[Columns.TIMEZONE]
        rules.apply(
            "bad_timezone",
            _bad_timezones(tz),
            "timezone must be an IANA time-zone name such as 'Asia/Shanghai' (missing is allowed)",
            tz,
        )
    if clean:
        reports.append(rules.report)
    out = frame.loc[rules.keep] if not rules.keep.all() else frame
    return out.set_index(id_col), check


def _bad_timezones(tz: pd.Series) -> np.ndarray:
    from zoneinfo import ZoneInfo

    vals = tz.to_numpy(dtype=object)
    na = np.asarray(pd.isna(vals), dtype=bool)
    codes, uniq = pd.factorize(pd.Series(vals).where(~na, None))
    ok = []
    for name in uniq:  # one lookup per distinct zone name
        try:
            ok.append(isinstance(name, str) and bool(name) and ZoneInfo(name) is not None)
        except (KeyError, ValueError, TypeError, OSError):  # ZoneInfoNotFoundError is a KeyError
            ok.append(False)
    good = np.array(ok + [True])
    return ~good[np.where(codes < 0, len(uniq), codes)] & ~na


def _local_offsets(utc: np.ndarray, user_tz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset (minutes) of each UTC instant in its user's zone; mask of rows with a zone."""
    off = np.zeros(len(utc), dtype=np.int64)
    na = np.asarray(pd.isna(user_tz), dtype=bool)
    codes, uniq = pd.factorize(pd.Series(user_tz, dtype=object).where(~na, None))
    for k, tz in enumerate(uniq):
        sel = codes == k
        t = pd.DatetimeIndex(utc[sel])
        local = t.tz_localize("UTC").tz_convert(tz).tz_localize(None)
        off[sel] = (local.asi8 - t.asi8) // (60 * 10**9)
    return off, codes >= 0


# ---------------------------------------------------------------- categories
def _items_from_events(item_vals: np.ndarray, cats: np.ndarray) -> pd.DataFrame:
    """One category per item from the events' ``category`` column (first spelling kept).

    Spellings of one path (``"Home/Kitchen"``, ``"Home > Kitchen"``,
    ``"home/kitchen/"``) are the same category by the category convention
    (:func:`persona_rec.categories.category_path`); only different paths conflict.
    """
    df = pd.DataFrame({Columns.ITEM: item_vals, Columns.CATEGORY: cats})
    df = df[df[Columns.CATEGORY].notna()]
    codes, uniques = pd.factorize(df[Columns.CATEGORY])
    paths = pd.factorize(np.array([category_path(c) for c in uniques], dtype=object))[0]
    df = df.assign(_path=paths[codes] if len(codes) else np.zeros(0, dtype=np.int64))
    n_cat = df.groupby(Columns.ITEM, sort=False)["_path"].nunique()
    conflict = n_cat[n_cat > 1]
    if len(conflict):
        shown = []
        for item in conflict.index[:3]:
            sub = df[df[Columns.ITEM] == item].drop_duplicates("_path")
            vals = sub[Columns.CATEGORY].tolist()[:3]  # one spelling per distinct path
            shown.append(f"{item!r}: {vals}")
        raise InvalidValueError(
            f"interactions['{Columns.CATEGORY}'] gives {len(conflict)} item(s) more than one "
            f"category ({'; '.join(shown)}); an item has one category. Fix the data or pass an "
            f"items frame (then the events' category column is kept as a plain column)."
        )
    first = df.drop_duplicates(Columns.ITEM, keep="first").drop(columns="_path")
    return first.set_index(Columns.ITEM)[[Columns.CATEGORY]]


# --------------------------------------------------------------------- main
def check_event_weights(event_weights: Mapping[str, float]) -> None:
    """Refuse an event weight that is not a finite number >= 0 (bools are not numbers here).

    The pandas and Spark ingestion both apply this rule with this message.

    Examples
    --------
    >>> check_event_weights({"view": 1, "purchase": 5.0})
    >>> check_event_weights({"view": -1})
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidParameterError: event_weights['view'] must be a finite number >= 0, got -1.
    """
    for key, val in dict(event_weights).items():
        if not isinstance(val, (int, float, np.integer, np.floating)) or isinstance(val, bool) \
                or not np.isfinite(val) or val < 0:
            raise InvalidParameterError(
                f"event_weights[{key!r}] must be a finite number >= 0, got {val!r}."
            )


def ingest(
    interactions: pd.DataFrame,
    users: pd.DataFrame | None,
    items: pd.DataFrame | None,
    *,
    event_weights: Mapping[str, float],
    sensitive: Iterable[str] | None,
    clean: bool,
    event_map: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    time_format: str | None = None,
    epoch_unit: str | None = None,
    sensitive_defaults: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Validate, clean and index the input frames; return the Dataset's constructor arguments.

    See :meth:`persona_rec.Dataset.from_frames` for the parameters and rules.
    """
    cols = Columns
    name = "interactions"
    check_bool(clean, "clean", owner="Dataset.from_frames", error=InvalidDtypeError)
    check_event_weights(event_weights)
    check_time_options(dayfirst, time_format, epoch_unit)
    emap = _check_event_map(event_map)
    cmap = _check_mapping(columns, "columns")
    frames = {"interactions": interactions, "users": users, "items": items}
    for fname, frame in frames.items():
        if frame is not None:
            check_frame(frame, fname, (), allow_empty=True)
    if cmap:
        unused = [k for k in cmap if not any(
            f is not None and k in f.columns for f in frames.values())]
        if unused:
            raise InvalidParameterError(
                f"columns= names column(s) {unused} that are in none of the input frames."
            )
        interactions = _rename(interactions, cmap, "interactions")
        users = _rename(users, cmap, "users")
        items = _rename(items, cmap, "items")
    check_frame(interactions, name, cols.INTERACTIONS_REQUIRED)
    # pandas' pyarrow dtype backend: the same values as a numpy-backed frame
    interactions = _numpy_backed_frame(interactions)
    users = _numpy_backed_frame(users)
    items = _numpy_backed_frame(items)

    sink = _Violations()
    reports: list[CleaningReport] = []
    users_df, users_ids = _prepare_entities(users, "users", cols.USER, clean, reports, sink)
    items_df, items_ids = _prepare_entities(items, "items", cols.ITEM, clean, reports, sink)
    users_df = parse_date_attributes(users_df, "users", dayfirst=dayfirst,
                                     time_format=time_format, epoch_unit=epoch_unit)
    items_df = parse_date_attributes(items_df, "items", dayfirst=dayfirst,
                                     time_format=time_format, epoch_unit=epoch_unit)

    inter = interactions
    n = len(inter)
    rules = _RowRules(name, n, clean, sink)
    id_checks = {}
    for col in (cols.USER, cols.ITEM):
        id_checks[col] = _check_ids(inter[col], name, col)
    if users_ids is not None:
        _check_kinds_match(users_ids, "users", id_checks[cols.USER], name, cols.USER)
    if items_ids is not None:
        _check_kinds_match(items_ids, "items", id_checks[cols.ITEM], name, cols.ITEM)
    for col in (cols.USER, cols.ITEM):
        _apply_id_rules(rules, id_checks[col], inter[col], col)

    what = f"{name}['{cols.TIMESTAMP}']"
    times = parse_times(inter[cols.TIMESTAMP], what, dayfirst=dayfirst,
                        time_format=time_format, epoch_unit=epoch_unit)
    raw_ts = inter[cols.TIMESTAMP]
    rules.apply("bad_timestamp", times.missing,
                "timestamp must be a parseable date/time", raw_ts)
    rules.apply(
        "timestamp_out_of_range",
        times.out_of_range,
        "timestamp must lie between 1677-09-22 and 2262-04-11 (the datetime64[ns] range)",
        raw_ts,
    )

    given_offset = None
    if cols.UTC_OFFSET in inter.columns:
        off_col = _numeric_column(inter, cols.UTC_OFFSET, name, "hold minutes (numbers)")
        if times.offset_min is not None:
            raise InvalidValueError(
                f"{name} has both timestamps with UTC offsets and a '{cols.UTC_OFFSET}' column; "
                f"give the local offset one way only."
            )
        ov = off_col.to_numpy(dtype=np.float64, na_value=np.nan)
        rules.apply(
            "bad_utc_offset",
            ~np.isfinite(ov) | (ov != np.round(ov)) | (np.abs(ov) > 18 * 60),
            f"{cols.UTC_OFFSET} must be whole minutes between -1080 and 1080",
            ov,
        )
        given_offset = np.nan_to_num(ov).astype(np.int64)

    ev_cat: pd.Categorical | None = None
    if cols.EVENT in inter.columns:
        ev_cat = pd.Categorical(inter[cols.EVENT])
        if emap:
            ev_cat = _map_events(ev_cat, emap, cols.EVENT)
    if ev_cat is not None:
        names = [str(c).lower() for c in ev_cat.categories]
        is_purchase = np.array([c in PURCHASE_EVENTS for c in names] + [False])[ev_cat.codes]
    else:
        is_purchase = np.ones(n, dtype=bool)

    numeric: dict[str, np.ndarray] = {}
    for col in _NUMERIC_OPTIONAL:
        if col not in inter.columns:
            continue
        s = _numeric_column(inter, col, name)
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        numeric[col] = v
        if col == cols.WEIGHT:
            limit = _F32_MAX / max(n, 1)
            rules.apply(
                "bad_weight",
                ~np.isfinite(v) | (v < 0) | (v > limit),
                f"weight must be a finite number >= 0 and <= {limit:.3g} (so that sums stay "
                f"finite in the float32 matrix)",
                v,
            )
        else:
            nan_ok = np.isnan(v) & ~is_purchase
            rules.apply(
                f"bad_{col}",
                ~nan_ok & (~np.isfinite(v) | (v < 0)),
                f"{col} must be a finite number >= 0 (missing is allowed on non-purchase events)",
                v,
            )
    if cols.QUANTITY in numeric and cols.PRICE in numeric:
        with np.errstate(over="ignore", invalid="ignore"):
            amount = numeric[cols.QUANTITY] * numeric[cols.PRICE]
        limit = _F64_MAX / max(n, 1)
        q, p = numeric[cols.QUANTITY], numeric[cols.PRICE]
        both = np.isfinite(q) & np.isfinite(p)
        rules.apply(
            "bad_amount",
            both & (~np.isfinite(amount) | (amount > limit)),
            f"quantity * price must be <= {limit:.3g} (so that monetary sums stay finite)",
            amount,
        )
    if ev_cat is not None and cols.WEIGHT not in inter.columns:
        known_cat = np.array([c in event_weights for c in ev_cat.categories] + [False])
        rules.apply(
            "unknown_event",
            ~known_cat[ev_cat.codes],  # code -1 (missing) maps to the trailing False
            f"event must be one of the event_weights keys {sorted(event_weights)}"
            + (" (after event_map)" if emap else ""),
            np.asarray(ev_cat, dtype=object),
        )
    if items_df is not None:
        item_vals_all = inter[cols.ITEM].to_numpy()
        try:
            known_items = items_df.index.get_indexer(item_vals_all) >= 0
        except TypeError:
            known_items = np.ones(n, dtype=bool)
        rules.apply("unknown_item", ~known_items, "item_id must be listed in items",
                    item_vals_all, error=UnknownIdError)
    # 17850.0 and True hash like 17850 and 1: share codes only when no such id is present
    clean_ids = not any(id_checks[c].bad_type.any() for c in (cols.USER, cols.ITEM))
    codes = _id_codes(inter) if clean_ids else None
    _duplicate_rule(rules, inter, times.utc, ev_cat, codes)

    sink.raise_if_any()
    keep = rules.keep
    if clean:
        reports.insert(0, rules.report)
    if not keep.any():
        raise EmptyInputError(
            f"{name} has no valid rows left after cleaning ({n} removed); "
            f"see the cleaning report: {rules.report.removed}."
        )
    all_kept = bool(keep.all())

    def take(values: Any) -> Any:
        return values if all_kept else values[keep]

    item_vals = take(inter[cols.ITEM].to_numpy())
    if codes is not None:  # reuse the factorisation of all rows: integer work only
        u_codes, u_uniques = _refactorize(take(codes[0]), codes[1])
        i_codes, i_uniques = _refactorize(take(codes[2]), codes[3])
    else:
        u_codes, u_uniques = pd.factorize(take(inter[cols.USER]))
        i_codes, i_uniques = pd.factorize(take(inter[cols.ITEM]))
    user_map = IdMap(_plain(u_uniques))
    item_map = IdMap(_plain(i_uniques))
    if users_df is not None:
        _warn_if_unmatched(users_df.index, user_map.external_ids, "users", cols.USER)
        user_map = user_map.add_ids(users_df.index.to_numpy())
    if items_df is None and cols.CATEGORY in inter.columns:
        items_df = _items_from_events(item_vals, take(inter[cols.CATEGORY].to_numpy()))
    if items_df is not None:
        item_map = item_map.add_ids(items_df.index.to_numpy())

    utc = take(times.utc)
    data: dict[str, Any] = {
        Columns.USER_IDX: u_codes.astype(np.int32),
        Columns.ITEM_IDX: i_codes.astype(np.int32),
        cols.TIMESTAMP: utc,
    }
    offset = None if times.offset_min is None else take(times.offset_min).astype(np.int64)
    if given_offset is not None:  # a Dataset's own interactions fed back in
        offset = take(given_offset)
    if users_df is not None and cols.TIMEZONE in users_df.columns \
            and users_df[cols.TIMEZONE].notna().any():
        user_tz = users_df[cols.TIMEZONE].reindex(pd.Index(u_uniques)).to_numpy(dtype=object)
        tz_off, has_tz = _local_offsets(utc, user_tz[u_codes])
        offset = np.where(has_tz, tz_off, 0 if offset is None else offset)
    if cols.WEIGHT in numeric:
        weight = take(numeric[cols.WEIGHT])
    elif ev_cat is not None:
        lut = np.array([event_weights.get(c, np.nan) for c in ev_cat.categories] + [np.nan])
        weight = lut[take(ev_cat.codes)]
    else:
        weight = np.ones(len(u_codes))
    data[cols.WEIGHT] = weight.astype(np.float32)
    if ev_cat is not None:
        data[cols.EVENT] = ev_cat if all_kept else ev_cat[keep].remove_unused_categories()
    for col in (cols.QUANTITY, cols.PRICE):
        if col in numeric:  # integer quantities stay integers
            src = inter[col]
            data[col] = take(src.to_numpy() if src.dtype.kind in "iu" else numeric[col])
    if offset is not None:
        data[cols.UTC_OFFSET] = offset.astype(np.int16)
    reserved = set(cols.INTERACTIONS_REQUIRED) | {cols.WEIGHT, cols.EVENT, cols.QUANTITY,
                                                 cols.PRICE, cols.UTC_OFFSET}
    for col in inter.columns:
        if col not in reserved and col not in data:
            data[col] = take(inter[col].to_numpy())
    inter_df = pd.DataFrame(data, copy=False)

    if users_df is None:
        users_df = pd.DataFrame(index=pd.Index([], name=cols.USER))
    if items_df is None:
        items_df = pd.DataFrame(index=pd.Index([], name=cols.ITEM))
    if sensitive is None:
        sens = frozenset(
            c for c in list(users_df.columns) + list(items_df.columns)
            if str(c).lower() in sensitive_defaults
        )
    else:
        if isinstance(sensitive, str):
            raise InvalidDtypeError(
                f"sensitive must be an iterable of column names, got the string {sensitive!r}."
            )
        sens = frozenset(sensitive)
        unknown = sens - set(users_df.columns) - set(items_df.columns)
        if unknown:
            raise InvalidParameterError(
                f"sensitive names column(s) {sorted(unknown)} that are in neither users "
                f"nor items."
            )
    return {
        "user_map": user_map,
        "item_map": item_map,
        "inter": inter_df,
        "users": users_df,
        "items": items_df,
        "event_weights": event_weights,
        "sensitive_columns": sens,
        "cleaning_reports": reports,
    }


def _warn_if_unmatched(given: pd.Index, used: Any, frame: str, col: str) -> None:
    """UnmatchedIdWarning when not one id of a non-empty users/items frame is in the events."""
    used = pd.Index(used)
    if not len(given) or not len(used) or bool(given.isin(used).any()):
        return
    warnings.warn(
        f"{frame}: none of its {len(given)} {col} value(s) occurs in interactions "
        f"({len(used)} distinct {col} value(s)), e.g. {frame} {given[0]!r} vs interactions "
        f"{used[0]!r}. The {frame} rows get no events and the event {col}s no attributes; this "
        f"is almost always a join mistake: check that both write the ids the same way (type, "
        f"'17850.0' vs '17850', zero padding '007' vs '7', spaces).",
        UnmatchedIdWarning,
        stacklevel=4,
    )


def _id_codes(inter: pd.DataFrame) -> tuple[np.ndarray, Any, np.ndarray, Any] | None:
    """Factorise the user and item columns once (None when a cell is unhashable)."""
    try:
        u = pd.factorize(inter[Columns.USER])  # a Series: nullable Int64 keeps int uniques
        i = pd.factorize(inter[Columns.ITEM])
    except TypeError:
        return None
    return u[0], u[1], i[0], i[1]


def _plain(uniques: Any) -> np.ndarray:
    """Factorize uniques as a plain numpy array (int64 for nullable ints, else object/int)."""
    arr = np.asarray(uniques)
    if arr.dtype.kind not in "iuO":
        arr = np.asarray(uniques, dtype=object)
    return arr


def _refactorize(codes: np.ndarray, uniques: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the kept rows, renumbered in order of first appearance, and their ids."""
    new, order = pd.factorize(codes)
    return new, _plain(uniques)[order]


def _duplicate_rule(rules: _RowRules, inter: pd.DataFrame, utc: np.ndarray,
                    ev_cat: pd.Categorical | None,
                    codes: tuple[np.ndarray, Any, np.ndarray, Any] | None) -> None:
    """Exact duplicate rows (same values in every column, times compared in UTC)."""
    keep = rules.keep
    if keep.sum() < 2:
        return
    # exact duplicates share (user, item, instant): check every column only for those rows
    pos = np.flatnonzero(keep)
    if codes is None:  # unhashable ids (reported by the id rules)
        cand = pos
    else:
        key = pd.DataFrame({"u": codes[0][pos], "i": codes[2][pos],
                            "t": utc.view(np.int64)[pos]}, copy=False)
        cand = pos[key.duplicated(keep=False).to_numpy()]
    if len(cand) < 2:
        return
    keep = np.zeros(len(keep), dtype=bool)
    keep[cand] = True
    parts: dict[str, Any] = {}
    for col in inter.columns:
        if col == Columns.TIMESTAMP:
            parts[col] = utc.view(np.int64)
        elif col == Columns.EVENT and ev_cat is not None:
            parts[col] = ev_cat.codes
        else:
            parts[col] = inter[col].to_numpy()
    frame = pd.DataFrame(parts, copy=False).loc[keep]
    try:
        dup_kept = frame.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): compare their text
        dup_kept = frame.astype(str).duplicated(keep="first").to_numpy()
    dup = np.zeros(len(keep), dtype=bool)
    dup[np.flatnonzero(keep)] = dup_kept
    if not rules.clean:
        # Strict mode keeps them (a log of second resolution can repeat a real event) but says
        # so: they inflate frequency and monetary. clean=True drops and counts them.
        if dup.any():
            warnings.warn(
                f"{rules.frame_name}: {int(dup.sum())} row(s) repeat an earlier row exactly "
                f"(same value in every column; first at row {int(np.flatnonzero(dup)[0])}, e.g. "
                f"{example_values(_dup_examples(inter, dup)[dup])}); they are kept as separate "
                f"events and count twice in frequency and monetary. Pass clean=True to drop them "
                f"(reported as 'duplicate_row').",
                DuplicateRowWarning,
                stacklevel=4,
            )
        return
    rules.apply(
        "duplicate_row",
        dup,
        "a row must not repeat an earlier row exactly (same value in every column); the first "
        "is kept",
        _dup_examples(inter, dup),
    )


def _dup_examples(inter: pd.DataFrame, dup: np.ndarray) -> np.ndarray:
    out = np.empty(len(dup), dtype=object)
    rows = np.flatnonzero(dup)[:3]
    cols = [c for c in (Columns.USER, Columns.ITEM, Columns.TIMESTAMP) if c in inter.columns]
    for r in rows:
        out[r] = {c: (v.item() if isinstance(v, np.generic) else v)
                  for c, v in zip(cols, inter[cols].iloc[r].tolist())}
    return out


def parse_date_attributes(
    frame: pd.DataFrame | None,
    name: str,
    *,
    dayfirst: bool | None = None,
    time_format: str | None = None,
    epoch_unit: str | None = None,
) -> pd.DataFrame | None:
    """Read the date attributes of a users/items frame like the interactions' timestamps.

    The columns of :data:`~persona_rec.columns.DATE_ATTRIBUTES` (``registration_date``,
    ``signup_date``, ``registered_at``; ``first_seen``) become naive UTC ``datetime64[ns]``:
    epoch numbers, UTC offsets, zone-aware values and day/month strings follow the rules and
    options of :meth:`persona_rec.Dataset.from_frames`. Missing values stay missing (NaT).

    Raises
    ------
    InvalidValueError
        A value is present but not a date/time, or lies outside the ``datetime64[ns]``
        range; or the column is ambiguous (day/month order, mixed offsets or epoch units).
    """
    if frame is None:
        return None
    out = frame
    for col in DATE_ATTRIBUTES.get(name, ()):
        if col not in frame.columns:
            continue
        what = f"{name}['{col}']"
        raw = frame[col]
        parsed = parse_times(raw.reset_index(drop=True), what, dayfirst=dayfirst,
                             time_format=time_format, epoch_unit=epoch_unit)
        given = raw.notna().to_numpy().copy()
        if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):  # blanks are missing too
            given &= raw.astype(str).str.strip().ne("").to_numpy()
        bad = (parsed.missing & given) | parsed.out_of_range
        if bad.any():
            raise InvalidValueError(
                f"{what} must hold dates/times (missing is allowed): {int(bad.sum())} value(s) "
                f"are not, e.g. {example_values(raw.to_numpy()[bad])}; fix or blank them before "
                f"Dataset.from_frames.")
        if out is frame:
            out = frame.copy()
        out[col] = parsed.utc
    return out
"""The one time parser of persona_rec.

:func:`parse_times` turns a column of points in time (strings, epoch numbers,
``datetime64`` or time-zone-aware values) into UTC instants plus, when the
input says so, each value's UTC offset, so that hour/weekday features can use
the customer's local clock. :meth:`persona_rec.Dataset.from_frames` and
:func:`persona_rec._validation.as_timestamp` both use it.

Rules (documented for users in ``docs/data-model.md``):

* Strings with a UTC offset (``"2024-03-01T10:00+01:00"``, ``"...Z"``) are
  converted to UTC; the offset is kept as the value's local offset, so a log
  that crosses a DST change (``+01:00`` then ``+02:00``) is fine.
* Strings without an offset are wall-clock times stored as given. A column
  that mixes strings with and without an offset is refused: which zone the
  bare ones are in cannot be guessed.
* Numeric day/month dates (``"05/03/2024"``) are refused unless the caller
  says how to read them (``dayfirst=`` or ``time_format=``): ``05/03`` is 5 March
  in Europe and May 3 in the US, and guessing per row mixes both in one column.
* Epoch numbers: the unit is read from the magnitude (below ``1e11`` seconds,
  below ``1e14`` milliseconds, below ``1e17`` microseconds, else nanoseconds);
  a column mixing magnitudes is refused unless ``epoch_unit=`` is given.
  Digit-only text follows the same rules as numbers. A column whose numbers
  are all valid ``yyyymmdd`` dates (``20110304``) is refused without
  ``time_format=``/``epoch_unit=`` (two readings); ``time_format=`` reads
  numbers as digit text. Epoch seconds that all fall in 1970 (Excel serial
  days, counters) are read but warned about (``ImplausibleTimeWarning``).
* pyarrow-backed (``pd.ArrowDtype``) columns are read as their numpy
  equivalents.
* Values outside ``datetime64[ns]`` (1677-09-21 .. 2262-04-11, e.g. year 2300)
  are reported as out of range, never as a raw pandas ``OutOfBoundsDatetime``.
"""

from __future__ import annotations

import re
import warnings

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._text import example_values as _examples
from .exceptions import (
    ImplausibleTimeWarning,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
)

__all__ = ["ParsedTimes", "parse_times", "check_time_options", "local_time_ns", "numpy_backed",
           "attribute_time_ns", "EPOCH_UNITS"]

#: Epoch units accepted by ``epoch_unit=`` and nanoseconds per unit.
EPOCH_UNITS: dict[str, int] = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}

_NS_MIN = int(pd.Timestamp.min.value)
_NS_MAX = int(pd.Timestamp.max.value)
# Epoch magnitude thresholds: |v| < 1e11 -> s, < 1e14 -> ms, < 1e17 -> us, else ns.
_UNIT_EDGES = (1e11, 1e14, 1e17)
_UNIT_NAMES = ("s", "ms", "us", "ns")
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}

# A trailing UTC offset after a clock time: "...10:00+01:00", "...10:00:00Z", "... 10:00 -0500".
_OFFSET_RE = (
    r"^(?P<body>.*?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*"
    r"(?P<off>[zZ]|UTC|GMT|utc|gmt|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?)$"
)
# A numeric day/month date with the year last: "05/03/2024", "5-3-24 10:00".
_DM_RE = (
    r"^(?P<a>\d{1,2})(?P<sep>[/.\- ])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?P<rest>(?:[ T].*)?)$"
)
_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
# a plain ISO date/time without zone (numpy reads those beyond the datetime64[ns] range)
_ISO_PLAIN_RE = r"^\s*\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"
# epoch seconds below this are in 1970
_YEAR_1970_S = 365 * 86400


def numpy_backed(s: pd.Series) -> pd.Series:
    """A pyarrow-backed (``pd.ArrowDtype``) column as its numpy/pandas equivalent; others as is.

    Strings become pandas' default string column, time-zone-aware timestamps
    ``datetime64[unit, tz]``, integers with missing values nullable ``Int64``
    (not float, so that ids stay ids), the rest what pyarrow's ``to_pandas``
    gives (the same as ``dtype_backend="numpy_nullable"`` or numpy readers).

    Examples
    --------
    >>> import pyarrow as pa
    >>> s = numpy_backed(pd.Series(["u1", None], dtype=pd.ArrowDtype(pa.string())))
    >>> isinstance(s.dtype, pd.ArrowDtype), s.iloc[0], bool(pd.isna(s.iloc[1]))
    (False, 'u1', True)
    """
    if not isinstance(s.dtype, pd.ArrowDtype):
        return s
    import pyarrow as pa  # present whenever an ArrowDtype column exists

    pat = s.dtype.pyarrow_dtype
    if pa.types.is_integer(pat) and bool(s.isna().any()):
        return s.astype("UInt64" if pa.types.is_unsigned_integer(pat) else "Int64")
    out = pa.array(s).to_pandas()
    out.index = s.index
    out.name = s.name
    return out


@dataclass
class ParsedTimes:
    """Result of :func:`parse_times`.

    Attributes
    ----------
    utc : numpy.ndarray of datetime64[ns]
        The instants in UTC, naive; ``NaT`` where ``missing`` or
        ``out_of_range``.
    offset_min : numpy.ndarray of int16 or None
        Local time minus UTC, in minutes, per value (0 where unknown); None
        when the input carried no zone information at all.
    missing : numpy.ndarray of bool
        Missing, empty or unparseable values.
    out_of_range : numpy.ndarray of bool
        Parseable values outside the ``datetime64[ns]`` range.
    """

    utc: np.ndarray
    offset_min: np.ndarray | None
    missing: np.ndarray
    out_of_range: np.ndarray


def _to_ns(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Naive datetime64 of any unit -> (int64 ns with NaT, out-of-range mask)."""
    arr = np.asarray(values)
    if arr.dtype.kind != "M":
        arr = np.asarray(pd.DatetimeIndex(arr).to_numpy())
    unit, _ = np.datetime_data(arr.dtype)
    raw = arr.view(np.int64)
    nat = np.isnat(arr)
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}.get(unit)
    if factor is None:  # days, minutes ...: go through seconds
        arr = arr.astype("datetime64[s]")
        raw, factor = arr.view(np.int64), 10**9
    lo, hi = -(-_NS_MIN // factor), _NS_MAX // factor
    oor = ~nat & ((raw < lo) | (raw > hi))
    out = np.where(nat | oor, np.iinfo(np.int64).min, raw * np.where(nat | oor, 0, factor))
    return out.astype(np.int64), oor


def _finish(ns: np.ndarray, offset: np.ndarray | None, missing: np.ndarray,
            oor: np.ndarray) -> ParsedTimes:
    bad = missing | oor
    ns = np.where(bad, np.iinfo(np.int64).min, ns)
    utc = ns.view("datetime64[ns]")
    if offset is not None:
        offset = np.where(bad, 0, offset).astype(np.int16)
    return ParsedTimes(utc=utc, offset_min=offset, missing=missing & ~oor, out_of_range=oor)


def _parse_epoch(v: np.ndarray, what: str, epoch_unit: str | None) -> ParsedTimes:
    """Epoch numbers (int or float, NaN = missing) -> UTC instants."""
    is_int = v.dtype.kind in "iu"
    vf = v.astype(np.float64)
    missing = np.isnan(vf)
    finite = np.isfinite(vf)
    absv = np.abs(vf)
    huge = finite & (absv >= 1e20)  # beyond any unit's range
    if epoch_unit is None:
        _refuse_compact_dates(v, vf, finite, what)
        cls = np.searchsorted(np.asarray(_UNIT_EDGES), absv, side="right")
        usable = finite & ~huge
        present = np.unique(cls[usable])
        if len(present) > 1:
            parts = []
            for c in present[:3]:
                sample = v[usable & (cls == c)][:2]
                parts.append(f"{_examples(sample, 2)} read as {_UNIT_WORDS[_UNIT_NAMES[c]]}")
            raise InvalidValueError(
                f"{what} mixes epoch magnitudes: " + "; ".join(parts) + ". One column must use "
                "one unit: pass epoch_unit='s', 'ms', 'us' or 'ns' to say which (values out of "
                "range in that unit are then reported as such)."
            )
        unit = _UNIT_NAMES[int(present[0])] if len(present) else "s"
        if unit == "s" and finite.any() and bool(((vf[finite] >= 0)
                                                  & (vf[finite] < _YEAR_1970_S)).all()):
            warnings.warn(
                f"{what}: every value ({int(finite.sum())}, e.g. {_examples(v[finite], 2)}) "
                f"read as epoch seconds falls in 1970. Excel serial days (40513.35 = "
                f"2010-12-01 08:24) or counters are not epoch times: convert them first (e.g. "
                f"pd.to_datetime(x, unit='D', origin='1899-12-30') for Excel), or pass "
                f"epoch_unit='s' if 1970 is right.",
                ImplausibleTimeWarning, stacklevel=4,
            )
    else:
        unit = epoch_unit
    factor = EPOCH_UNITS[unit]
    lo, hi = _NS_MIN / factor, _NS_MAX / factor
    oor = (~finite & ~missing) | huge | (finite & ((vf < lo) | (vf > hi)))
    ok = finite & ~oor
    ns = np.zeros(len(v), dtype=np.int64)
    if is_int:
        vi = v.astype(np.int64)
        ns[ok] = vi[ok] * factor
    else:
        ns[ok] = np.round(vf[ok] * factor).astype(np.int64)
    return _finish(ns, None, missing, oor)


def _compact_date_mask(vf: np.ndarray, finite: np.ndarray) -> np.ndarray | None:
    """yyyymmdd dates (1900-01-01 .. 2099-12-31) among the finite values; None if any other."""
    x = vf[finite]
    if not len(x) or not bool(((x == np.floor(x)) & (x >= 19000101) & (x <= 20991231)).all()):
        return None
    xi = x.astype(np.int64)
    stamp = pd.to_datetime(pd.Series(xi.astype(str)), format="%Y%m%d", errors="coerce")
    return None if bool(stamp.isna().any()) else stamp.to_numpy()


def _refuse_compact_dates(v: np.ndarray, vf: np.ndarray, finite: np.ndarray, what: str) -> None:
    """Refuse a column whose numbers are all valid yyyymmdd dates: two readings, no guess."""
    dates = _compact_date_mask(vf, finite)
    if dates is None:
        return
    first = int(vf[finite][0])
    as_date = str(dates[0])[:10]
    as_epoch = str(np.datetime64(first, "s")).replace("T", " ")
    raise InvalidValueError(
        f"{what} holds only 8-digit numbers that are valid yyyymmdd dates ({int(finite.sum())} "
        f"value(s), e.g. {_examples(vf[finite].astype(np.int64), 2)}), which can be read two "
        f"ways: {first} reads as "
        f"{as_date} (time_format='%Y%m%d') or as epoch seconds {as_epoch} (epoch_unit='s'). "
        f"Pass one of them to say which."
    )


def _numbers_as_text(s: pd.Series, what: str) -> pd.Series:
    """Whole numbers (e.g. 20110304) as digit text, for ``time_format=`` on a numeric column."""
    vf = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(vf)
    whole = finite & (vf == np.floor(vf)) & (np.abs(vf) < 2**53)
    bad = ~np.isnan(vf) & ~whole
    if bad.any():
        raise InvalidValueError(
            f"{what}: time_format= reads numbers as digit text, so they must be whole numbers "
            f"(such as 20110304 with '%Y%m%d'); got {_examples(s[bad], 2)} at row position(s) "
            f"{np.flatnonzero(bad)[:3].tolist()}. Pass epoch_unit= for epoch numbers instead."
        )
    out = pd.Series([None] * len(vf), dtype=object)
    out[whole] = vf[whole].astype(np.int64).astype(str)
    return out


def _all_numeric_text(st: pd.Series) -> bool:
    """Every present value is text holding only a number (cheap check of the first value first)."""
    present = st.notna() & (st != "")
    if not present.any():
        return False
    text = st[present]
    if not re.match(_NUMBER_RE, str(text.iloc[0]).strip()):
        return False
    return bool(text.str.strip().str.fullmatch(_NUMBER_RE).all())


def _parse_strings(
    s: pd.Series,
    what: str,
    dayfirst: bool | None,
    time_format: str | None,
    epoch_unit: str | None,
) -> ParsedTimes:
    st = pd.Series(s.to_numpy(dtype=object), dtype=object)
    st = st.where(st.notna(), None)
    if pd.api.types.infer_dtype(st, skipna=True) != "string":  # datetimes, numbers ...: as text
        is_str = st.map(lambda x: isinstance(x, str), na_action="ignore").fillna(False)
        other = st.notna() & ~is_str.astype(bool)
        if other.any():
            st = st.where(~other, st[other].astype(str))
    if time_format is None and not _all_numeric_text(st):  # numbers as text: epoch rules
        fast = _parse_iso_fast(st, what, dayfirst, epoch_unit)
        if fast is not None:
            return fast
    return _parse_strings_slow(st, what, dayfirst, time_format, epoch_unit, allow_epoch=True)


def _parse_iso_fast(
    st: pd.Series, what: str, dayfirst: bool | None, epoch_unit: str | None
) -> ParsedTimes | None:
    """The common case in C: ISO strings without offsets; the rest goes the slow way.

    Returns None when the column has offsets or nothing parses as ISO (then the
    full rules run on every value).
    """
    try:
        fast = pd.to_datetime(st, format="ISO8601", errors="coerce")
    except (ValueError, TypeError, OverflowError):  # offsets, possibly mixed
        return None
    if fast.dtype.kind != "M" or isinstance(fast.dtype, pd.DatetimeTZDtype):
        return None
    nat = fast.isna().to_numpy()
    present = (st.notna() & (st != "")).to_numpy()
    rest = nat & present
    if rest.all() and rest.any():
        return None
    ns, oor = _to_ns(fast.to_numpy())
    missing = ~present
    if rest.any():
        sub_text = st[rest]
        sub = _parse_strings_slow(sub_text, what, dayfirst, None, epoch_unit, allow_epoch=False)
        if sub.offset_min is not None:
            aware = sub_text[~sub.missing]
            raise InvalidValueError(
                f"{what} mixes times with a UTC offset (e.g. {_examples(aware, 2)}) and "
                f"without one (e.g. {_examples(st[~nat], 2)}): the zone of the bare ones cannot "
                f"be guessed. Give every value an offset, or none (then every value is read as "
                f"local wall-clock time; a users['timezone'] column can say each user's zone)."
            )
        ns[rest] = sub.utc.view(np.int64)
        missing[rest] = sub.missing
        oor[rest] = sub.out_of_range
    return _finish(ns, None, missing, oor)


def _parse_strings_slow(
    st: pd.Series,
    what: str,
    dayfirst: bool | None,
    time_format: str | None,
    epoch_unit: str | None,
    *,
    allow_epoch: bool,
) -> ParsedTimes:
    st = st.reset_index(drop=True)
    text = st.str.strip()
    present = (text.notna() & (text != "")).to_numpy()
    n = len(text)
    if not present.any():
        return _finish(np.zeros(n, np.int64), None, np.ones(n, bool), np.zeros(n, bool))
    # a column of numbers written as text: epoch values
    if time_format is None and allow_epoch:
        numeric = text[present].str.fullmatch(_NUMBER_RE).to_numpy(dtype=bool)
        if numeric.all():
            vals = np.full(n, np.nan)
            vals[present] = text[present].astype(float).to_numpy()
            return _parse_epoch(vals, what, epoch_unit)
    ext = text.str.extract(_OFFSET_RE)
    aware = ext["off"].notna().to_numpy() & present
    naive = present & ~aware
    if aware.any() and naive.any():
        raise InvalidValueError(
            f"{what} mixes times with a UTC offset (e.g. {_examples(text[aware], 2)}) and "
            f"without one (e.g. {_examples(text[naive], 2)}): the zone of the bare ones cannot "
            f"be guessed. Give every value an offset, or none (then every value is read as "
            f"local wall-clock time; a users['timezone'] column can say each user's zone)."
        )
    offset: np.ndarray | None = None
    bad_offset = np.zeros(n, dtype=bool)
    body = text
    if aware.any():
        sign = np.where(ext["sign"].to_numpy(dtype=object) == "-", -1, 1)
        hh = pd.to_numeric(ext["hh"], errors="coerce").fillna(0).to_numpy()
        mm = pd.to_numeric(ext["mm"], errors="coerce").fillna(0).to_numpy()
        off = sign * (hh * 60 + mm)
        bad_offset = aware & ((np.abs(off) > 18 * 60) | (mm >= 60))
        offset = np.where(aware & ~bad_offset, off, 0).astype(np.int64)
        body = ext["body"].where(pd.Series(aware), text)
    fmt = time_format
    if fmt is not None and aware.any():
        fmt = fmt.replace("%z", "").replace("%Z", "").rstrip()
    dm = body.str.extract(_DM_RE)
    is_dm = dm["a"].notna().to_numpy() & present
    if is_dm.any() and fmt is None:
        a = dm["a"].astype(float).to_numpy()
        b = dm["b"].astype(float).to_numpy()
        if dayfirst is None:
            day_only = is_dm & (a > 12) & (b <= 12)
            month_only = is_dm & (b > 12) & (a <= 12)
            both = is_dm & (a <= 12) & (b <= 12)
            hint = ""
            if day_only.any() and not month_only.any():
                hint = (f" {int(day_only.sum())} value(s) such as {_examples(text[day_only], 2)} "
                        f"can only be day-first, so dayfirst=True looks right.")
            elif month_only.any() and not day_only.any():
                hint = (f" {int(month_only.sum())} value(s) such as "
                        f"{_examples(text[month_only], 2)} can only be month-first, so "
                        f"dayfirst=False looks right.")
            elif month_only.any() and day_only.any():
                hint = (f" The column holds both day-first-only values (e.g. "
                        f"{_examples(text[day_only], 1)}) and month-first-only values (e.g. "
                        f"{_examples(text[month_only], 1)}): fix the data first.")
            shown = text[both] if both.any() else text[is_dm]
            raise InvalidValueError(
                f"{what} holds day/month dates that can be read two ways, e.g. "
                f"{_examples(shown, 3)} ({int(is_dm.sum())} value(s) in this form): pass "
                f"dayfirst=True (day/month/year), dayfirst=False (month/day/year) or "
                f"time_format= (e.g. '%d/%m/%Y %H:%M').{hint}"
            )
        day = np.where(dayfirst, a, b)
        month = np.where(dayfirst, b, a)
        y = dm["y"].fillna("0").to_numpy(dtype=object)
        year = pd.to_numeric(pd.Series(y), errors="coerce").fillna(0).to_numpy()
        two = pd.Series(y).str.len().to_numpy() == 2
        year = np.where(two, np.where(year < 69, 2000 + year, 1900 + year), year)
        iso = (
            pd.Series(year.astype(np.int64)).astype(str).str.zfill(4) + "-"
            + pd.Series(np.nan_to_num(month).astype(np.int64)).astype(str).str.zfill(2) + "-"
            + pd.Series(np.nan_to_num(day).astype(np.int64)).astype(str).str.zfill(2)
            + dm["rest"].fillna("").str.replace(r"^T", " ", regex=True)
        )
        body = body.where(pd.Series(~is_dm), iso)
    todo = present & ~bad_offset
    local = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    if fmt is not None:
        parsed = pd.to_datetime(body.where(pd.Series(todo)), format=fmt, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a zone name the regex did not strip
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        local = parsed
    else:
        parsed = pd.to_datetime(body.where(pd.Series(todo)), format="ISO8601", errors="coerce")
        failed = todo & parsed.isna().to_numpy()
        # other spelled-out formats ("March 5, 2024 10:00"): only with a four-digit year
        retry = failed & body.str.contains(r"\d{4}", regex=True).fillna(False).to_numpy(bool)
        local = parsed
        # day/month dates already rewritten to year-month-day by dayfirst: retried (a 12-hour
        # clock, "3/4/2011 10:00 PM") only when that date is valid, and kept only when the
        # retry read that very date, so a day and month are never swapped
        dm_date = None
        if is_dm.any():
            dm_date = pd.to_datetime(body.str.slice(0, 10).where(pd.Series(is_dm)),
                                     format="%Y-%m-%d", errors="coerce").to_numpy()
        for rows, first in ((retry & ~is_dm, bool(dayfirst)),
                            (retry & is_dm & ~np.isnat(dm_date) if dm_date is not None
                             else np.zeros(n, bool), False)):
            if not rows.any():
                continue
            try:
                extra = pd.to_datetime(body[rows], format="mixed", errors="coerce",
                                       dayfirst=first)
            except (ValueError, TypeError, OverflowError):
                continue
            if isinstance(extra.dtype, pd.DatetimeTZDtype):
                continue
            got = extra.astype("datetime64[us]").to_numpy()
            if dm_date is not None and bool((rows & is_dm).any()):
                same_day = got.astype("datetime64[D]") == dm_date[rows].astype("datetime64[D]")
                got = np.where(same_day, got, np.datetime64("NaT", "us"))
            local = local.astype("datetime64[us]")
            local[rows] = got
    if local.dtype.kind != "M":
        local = pd.to_datetime(local, errors="coerce")
    loc = local.to_numpy()
    still = todo & np.isnat(loc)
    if still.any() and fmt is None:
        # pandas < 3 parses into nanoseconds and turns ISO dates outside 1677-2262 into
        # NaT; numpy reads them, so they are reported as out of range, not unparseable
        loc = loc.astype("datetime64[us]")
        for value in pd.unique(body[still]):
            if not re.match(_ISO_PLAIN_RE, str(value)):
                continue  # only plain ISO dates/times with a four-digit year
            try:
                stamp = np.datetime64(str(value).strip().replace(" ", "T"), "us")
            except (ValueError, TypeError, OverflowError):
                continue
            loc[still & (body == value).to_numpy(bool)] = stamp
    ns_local, oor = _to_ns(loc)
    missing = ~present | bad_offset | (np.isnat(loc) & ~oor)
    if offset is None:
        return _finish(ns_local, None, missing, oor)
    ok = ~missing & ~oor
    ns_utc = np.where(ok, ns_local - offset * 60 * 10**9, 0)
    oor |= ok & ((ns_utc < _NS_MIN) | (ns_utc > _NS_MAX) | (ns_local == _NS_MIN))
    return _finish(ns_utc, offset, missing, oor)


def check_time_options(dayfirst: Any, time_format: Any, epoch_unit: Any) -> None:
    """Check the three options that steer :func:`parse_times` (one set of messages for every caller)."""
    if dayfirst is not None and not isinstance(dayfirst, (bool, np.bool_)):
        raise InvalidParameterError(f"dayfirst must be True, False or None, got {dayfirst!r}.")
    if time_format is not None and (not isinstance(time_format, str) or "%" not in time_format):
        raise InvalidParameterError(
            f"time_format must be a strftime format such as '%d/%m/%Y %H:%M', got {time_format!r}."
        )
    if epoch_unit is not None and epoch_unit not in EPOCH_UNITS:
        raise InvalidParameterError(
            f"epoch_unit must be one of {list(EPOCH_UNITS)} or None, got {epoch_unit!r}."
        )


def parse_times(
    values: Any,
    what: str,
    *,
    dayfirst: bool | None = None,
    time_format: str | None = None,
    epoch_unit: str | None = None,
) -> ParsedTimes:
    """Parse a column of points in time into UTC instants and local offsets.

    Parameters
    ----------
    values : pandas.Series or array-like
        Strings, epoch numbers, ``datetime64`` (naive or time-zone-aware) or
        ``datetime`` objects.
    what : str
        How to name the column in error messages (e.g.
        ``"interactions['timestamp']"``).
    dayfirst : bool, optional
        How to read numeric day/month dates such as ``"05/03/2024"``: True
        for day/month/year, False for month/day/year. Without it (and
        without ``time_format``) such dates are refused.
    time_format : str, optional
        A ``strftime`` format for string values (a trailing ``%z`` is read by
        the offset rule, so both ``"%d/%m/%Y %H:%M"`` and
        ``"%d/%m/%Y %H:%M%z"`` work).
    epoch_unit : {"s", "ms", "us", "ns"}, optional
        Unit of epoch numbers. Without it the unit is read from the
        magnitude; a column that mixes magnitudes is refused.

    Returns
    -------
    ParsedTimes

    Raises
    ------
    InvalidDtypeError
        Boolean values.
    InvalidParameterError
        ``dayfirst``, ``time_format`` or ``epoch_unit`` is invalid.
    InvalidValueError
        The column mixes values with and without a UTC offset, holds
        ambiguous day/month dates without ``dayfirst``/``time_format``,
        mixes epoch magnitudes without ``epoch_unit``, or holds only
        ``yyyymmdd`` numbers without ``time_format``/``epoch_unit``.

    Warns
    -----
    ImplausibleTimeWarning
        Every value, read as epoch seconds (unit from the magnitude), falls
        in 1970.

    Examples
    --------
    >>> p = parse_times(["2024-03-30T10:00+01:00", "2024-04-02T10:00+02:00"], "ts")
    >>> p.utc.astype(str).tolist(), p.offset_min.tolist()
    (['2024-03-30T09:00:00.000000000', '2024-04-02T08:00:00.000000000'], [60, 120])
    >>> parse_times([1.7e12], "ts").utc.astype("datetime64[s]").tolist()
    [datetime.datetime(2023, 11, 14, 22, 13, 20)]
    >>> parse_times(["25/03/2024", "05/03/2024"], "ts", dayfirst=True).utc.astype(str).tolist()
    ['2024-03-25T00:00:00.000000000', '2024-03-05T00:00:00.000000000']
    """
    check_time_options(dayfirst, time_format, epoch_unit)
    s = values if isinstance(values, pd.Series) else pd.Series(
        values if isinstance(values, (np.ndarray, pd.Index)) else list(values)
    )
    s = numpy_backed(s.reset_index(drop=True))
    dtype = s.dtype
    n = len(s)
    if isinstance(dtype, pd.DatetimeTZDtype):
        wall = s.dt.tz_localize(None)
        utc = s.dt.tz_convert("UTC").dt.tz_localize(None)
        ns_wall, oor_wall = _to_ns(wall.to_numpy())
        ns_utc, oor = _to_ns(utc.to_numpy())
        nat = utc.isna().to_numpy()
        oor = oor | oor_wall
        ok = ~nat & ~oor
        off = np.where(ok, (ns_wall - ns_utc) // (60 * 10**9), 0)
        return _finish(ns_utc, off, nat & ~oor, oor)
    if dtype.kind == "M":
        ns, oor = _to_ns(s.to_numpy())
        return _finish(ns, None, np.isnat(s.to_numpy()) & ~oor, oor)
    if dtype.kind == "b" or isinstance(dtype, pd.BooleanDtype):
        raise InvalidDtypeError(
            f"{what} must be datetime64, epoch numbers or date strings, got dtype bool."
        )
    if time_format is not None and epoch_unit is None and (
        dtype.kind in "iuf"
        or pd.api.types.infer_dtype(s, skipna=True) in ("integer", "floating",
                                                        "mixed-integer-float", "decimal")
    ):  # numbers with a format: read as digit text (20110304 with '%Y%m%d')
        return _parse_strings(_numbers_as_text(s, what), what, dayfirst, time_format, None)
    if dtype.kind in "iuf" or (hasattr(dtype, "numpy_dtype") and dtype.kind in "iuf"):
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan) if s.hasnans else s.to_numpy()
        return _parse_epoch(np.asarray(arr), what, epoch_unit)
    if n == 0:
        return _finish(np.zeros(0, np.int64), None, np.zeros(0, bool), np.zeros(0, bool))
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred == "boolean":
        raise InvalidDtypeError(
            f"{what} must be datetime64, epoch numbers or date strings, got bool values "
            f"(e.g. {_examples(s.dropna(), 2)})."
        )
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
        return _parse_epoch(arr, what, epoch_unit)
    if inferred in ("datetime", "datetime64"):
        try:
            conv = pd.to_datetime(s)
        except (ValueError, TypeError):  # mixed zones: go through their ISO text
            conv = None
        if conv is not None and conv.dtype.kind == "M":
            return parse_times(conv, what, dayfirst=dayfirst, epoch_unit=epoch_unit)
    return _parse_strings(s, what, dayfirst, time_format, epoch_unit)


def attribute_time_ns(values: Any) -> np.ndarray:
    """Naive-UTC nanoseconds (int64) of a date attribute; missing or unreadable -> ``int64 min``.

    For the users' registration date and the items' ``first_seen``, which
    :meth:`~persona_rec.Dataset.from_frames` already stores as naive UTC
    ``datetime64[ns]`` (:func:`persona_rec._ingest.parse_date_attributes`);
    other values (a Dataset saved before it did) are read leniently: strings
    with ``pandas.to_datetime``, zone-aware values converted to UTC.

    Examples
    --------
    >>> attribute_time_ns(pd.Series(["2024-01-01T02:00+02:00", None])).tolist()
    [1704067200000000000, -9223372036854775808]
    """
    ts = pd.to_datetime(pd.Series(values), errors="coerce", utc=True).dt.tz_localize(None)
    return ts.astype("datetime64[ns]").to_numpy().view(np.int64).copy()


def local_time_ns(frame: pd.DataFrame) -> np.ndarray:
    """Local wall-clock time (int64 ns) of each row of an interactions frame.

    ``timestamp`` plus ``utc_offset_min`` minutes when the frame has that
    column (the Dataset adds it when the input carried zone information),
    else ``timestamp`` itself.

    Parameters
    ----------
    frame : pandas.DataFrame
        A Dataset's (internal) interactions.

    Returns
    -------
    numpy.ndarray of int64
    """
    from .columns import Columns

    t = frame[Columns.TIMESTAMP].to_numpy().view(np.int64)
    if Columns.UTC_OFFSET in frame.columns:
        off = frame[Columns.UTC_OFFSET].to_numpy().astype(np.int64)
        return t + off * (60 * 10**9)
    return t

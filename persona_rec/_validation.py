"""Small shared checks that build clear, typed error messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ._text import example_values
from .exceptions import (
    AudienceTooSmallError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
)

T = TypeVar("T")

__all__ = [
    "check_instance",
    "check_frame",
    "check_int",
    "check_bool",
    "check_number",
    "check_choice",
    "example_values",
    "as_timestamp",
    "as_timestamps",
    "as_of_or_after",
    "check_audience_size",
]


def check_frame(
    frame: Any,
    name: str,
    required: Sequence[str] = (),
    *,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame with the ``required`` columns.

    Parameters
    ----------
    frame : Any
        The object to check.
    name : str
        The argument name used in error messages.
    required : sequence of str
        Columns that must be present.
    allow_empty : bool, default False
        Whether a frame with zero rows is accepted.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself.

    Raises
    ------
    InvalidDtypeError
        ``frame`` is not a DataFrame.
    MissingColumnError
        A required column is missing.
    InvalidValueError
        A column name appears more than once.
    EmptyInputError
        ``frame`` has no rows and ``allow_empty`` is False.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidDtypeError(
            f"{name} must be a pandas.DataFrame, got {type(frame).__name__}."
        )
    dup = frame.columns[frame.columns.duplicated()].unique().tolist()
    if dup:
        raise InvalidValueError(
            f"{name} has duplicate column name(s) {dup}; each column name must appear once "
            f"(e.g. drop the copies with {name}.loc[:, ~{name}.columns.duplicated()])."
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{name} is missing column(s) {missing}; it has {list(frame.columns)}."
        )
    if not allow_empty and len(frame) == 0:
        raise EmptyInputError(f"{name} is empty: at least one row is required.")
    return frame


def check_instance(value: T, kind: type | tuple[type, ...], what: str) -> T:
    """Return ``value`` if it is a ``kind``, else raise :class:`InvalidDtypeError`.

    ``what`` is the message up to the received type, e.g. ``"split must be a
    persona_rec.evaluation.Split"``; ``", got <type name>."`` is appended.

    Examples
    --------
    >>> check_instance(3, str, "name must be a str")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidDtypeError: name must be a str, got int.
    """
    if not isinstance(value, kind):
        raise InvalidDtypeError(f"{what}, got {type(value).__name__}.")
    return value


def check_int(value: Any, name: str, *, minimum: int | None = None, owner: str = "") -> int:
    """Check that ``value`` is an int (not bool) and at least ``minimum``."""
    where = f" of {owner}" if owner else ""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(
            f"The '{name}' parameter{where} must be an int"
            + (f" >= {minimum}" if minimum is not None else "")
            + f", got {value!r} ({type(value).__name__})."
        )
    if minimum is not None and value < minimum:
        raise InvalidParameterError(
            f"The '{name}' parameter{where} must be an int >= {minimum}, got {value!r}."
        )
    return int(value)


def check_bool(
    value: Any,
    name: str,
    *,
    owner: str = "",
    error: type[Exception] = InvalidParameterError,
) -> bool:
    """Check that ``value`` is a bool (``numpy.bool_`` too) and return it as a Python bool.

    Parameters
    ----------
    value : Any
        The argument to check; ints such as ``1`` are refused, not read as True.
    name : str
        The argument name used in the message.
    owner : str, default ""
        The function or class that takes the argument, named in the message.
    error : type of PersonaRecError, default InvalidParameterError
        The error raised; ``InvalidDtypeError`` where a wrong type is a
        ``TypeError`` by the caller's contract.

    Examples
    --------
    >>> check_bool(True, "binary", owner="EASERecommender")
    True
    >>> check_bool(1, "binary", owner="EASERecommender")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidParameterError: The 'binary' parameter of EASERecommender must be a bool, got 1.
    """
    if not isinstance(value, (bool, np.bool_)):
        where = f" of {owner}" if owner else ""
        raise error(f"The '{name}' parameter{where} must be a bool, got {value!r}.")
    return bool(value)


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    owner: str = "",
) -> float:
    """Check that ``value`` is a finite real number inside the given bounds."""
    where = f" of {owner}" if owner else ""
    lo = "" if low is None else (f"{'>=' if low_inclusive else '>'} {low}")
    hi = "" if high is None else (f"{'<=' if high_inclusive else '<'} {high}")
    rule = " and ".join(p for p in (lo, hi) if p) or "finite"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(
            f"The '{name}' parameter{where} must be a number {rule}, got {value!r}."
        )
    v = float(value)
    bad = not np.isfinite(v)
    if low is not None:
        bad |= v < low if low_inclusive else v <= low
    if high is not None:
        bad |= v > high if high_inclusive else v >= high
    if bad:
        raise InvalidParameterError(
            f"The '{name}' parameter{where} must be a number {rule}, got {value!r}."
        )
    return v


def check_choice(value: Any, name: str, choices: Sequence[Any], *, owner: str = "") -> Any:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        where = f" of {owner}" if owner else ""
        raise InvalidParameterError(
            f"The '{name}' parameter{where} must be one of {list(choices)}, got {value!r}."
        )
    return value


def as_timestamp(value: Any, what: str) -> pd.Timestamp:
    """Parse a point in time as a naive UTC ``pandas.Timestamp`` (ns).

    Uses the same parser as :meth:`persona_rec.Dataset.from_frames`
    (``persona_rec._time.parse_times``): numbers are epoch values whose unit
    (s, ms, us, ns) is read from the magnitude; strings and datetimes with a
    UTC offset or zone are converted to UTC; ambiguous day/month strings such
    as ``"05/03/2024"`` are refused (write ``"2024-03-05"``).

    Parameters
    ----------
    value : Any
        The point in time.
    what : str
        How to name it in the error message (e.g. ``"as_of"``).

    Returns
    -------
    pandas.Timestamp

    Raises
    ------
    InvalidValueError
        ``value`` is a bool, missing, cannot be parsed, is ambiguous, or is
        outside the ``datetime64[ns]`` range (1677-09-22 .. 2262-04-11).

    Examples
    --------
    >>> as_timestamp(1_700_000_000, "as_of")  # epoch seconds
    Timestamp('2023-11-14 22:13:20')
    >>> as_timestamp(1.7e12, "as_of")  # milliseconds, read from the magnitude
    Timestamp('2023-11-14 22:13:20')
    >>> as_timestamp("2011-11-09T01:00+01:00", "at")
    Timestamp('2011-11-09 00:00:00')
    """
    from ._time import parse_times

    hint = "(e.g. '2011-12-01', a pandas.Timestamp or epoch seconds)"
    if isinstance(value, (bool, np.bool_)):
        raise InvalidValueError(f"{what} must be a date/time, got {value!r}.")
    if value is None:
        raise InvalidValueError(f"{what} must be a date/time, got a missing value None.")
    if not isinstance(value, str) and np.ndim(value) != 0:
        raise InvalidValueError(f"{what} must be a date/time (one value) {hint}, got {value!r}.")
    if not isinstance(value, str) and pd.isna(value):
        raise InvalidValueError(f"{what} must be a date/time, got a missing value {value!r}.")
    if isinstance(value, (pd.Timestamp, np.datetime64)) or (
        hasattr(value, "year") and hasattr(value, "month")
    ):
        series = pd.Series([value])
    else:
        series = pd.Series(np.asarray([value], dtype=object))
    try:
        parsed = parse_times(series, what)
    except (InvalidValueError, InvalidDtypeError) as exc:
        raise InvalidValueError(str(exc)) from exc
    if parsed.out_of_range[0]:
        raise InvalidValueError(
            f"{what} must lie between 1677-09-22 and 2262-04-11 (the datetime64[ns] range), "
            f"got {value!r}."
        )
    if parsed.missing[0]:
        raise InvalidValueError(f"{what} must be a date/time {hint}, got {value!r}.")
    return pd.Timestamp(parsed.utc[0]).as_unit("ns")


def as_timestamps(values: Any, what: str, *, allow_missing: bool = False) -> np.ndarray:
    """Parse a column of points in time as naive UTC ``datetime64[ns]`` values.

    The column counterpart of :func:`as_timestamp`, with the same parser as
    :meth:`persona_rec.Dataset.from_frames` (``persona_rec._time.parse_times``):
    epoch numbers get their unit from the magnitude, values with a UTC offset
    or zone are converted to UTC, naive values are taken as UTC.

    Parameters
    ----------
    values : pandas.Series or array-like
        The points in time.
    what : str
        How to name the column in error messages (e.g.
        ``"contact_history['timestamp']"``).
    allow_missing : bool, default False
        Keep missing values (None, NaN, NaT) as ``NaT`` instead of refusing
        them; unparseable values are refused either way.

    Returns
    -------
    numpy.ndarray of datetime64[ns]

    Raises
    ------
    InvalidValueError
        A missing (unless ``allow_missing``) or unparseable value, a value
        outside the ``datetime64[ns]`` range, or a column that mixes epoch
        magnitudes or values with and without a UTC offset.
    InvalidDtypeError
        Boolean values.

    Examples
    --------
    >>> as_timestamps([1704067200, 1704153600], "ts").astype(str).tolist()
    ['2024-01-01T00:00:00.000000000', '2024-01-02T00:00:00.000000000']
    >>> as_timestamps(["2024-01-01T01:00+01:00"], "ts").astype(str).tolist()
    ['2024-01-01T00:00:00.000000000']
    """
    from ._time import parse_times

    series = values if isinstance(values, pd.Series) else pd.Series(
        values if isinstance(values, (np.ndarray, pd.Index)) else list(values)
    )
    series = series.reset_index(drop=True)
    parsed = parse_times(series, what)
    if parsed.out_of_range.any():
        raise InvalidValueError(
            f"{what} must lie between 1677-09-22 and 2262-04-11 (the datetime64[ns] range); "
            f"{int(parsed.out_of_range.sum())} value(s) do not, e.g. "
            f"{example_values(series.to_numpy()[parsed.out_of_range])}."
        )
    bad = parsed.missing & ~series.isna().to_numpy() if allow_missing else parsed.missing
    if bad.any():
        raise InvalidValueError(
            f"{what} must hold valid times (e.g. '2011-12-01', a pandas.Timestamp or epoch "
            f"seconds); {int(bad.sum())} value(s) are "
            f"{'unparseable' if allow_missing else 'missing or unparseable'}, e.g. "
            f"{example_values(series.to_numpy()[bad])}."
        )
    return parsed.utc


def as_of_or_after(as_of: Any, last_event: Any) -> pd.Timestamp:
    """The ``as_of`` cut-off of a build: ``as_of`` parsed, or one second after ``last_event``.

    One second after the last event is the default cut-off of every builder
    and model that takes ``as_of=None``: every event is then in the past. A
    value that cannot be parsed raises :func:`as_timestamp`'s
    ``InvalidValueError``, naming ``as_of``.

    Parameters
    ----------
    as_of : Any
        The point in time asked for, or None.
    last_event : Any
        Time of the last event (read only when ``as_of`` is None).

    Examples
    --------
    >>> as_of_or_after(None, "2024-01-31 12:00")
    Timestamp('2024-01-31 12:00:01')
    >>> as_of_or_after("2024-01-15", "2024-01-31 12:00")
    Timestamp('2024-01-15 00:00:00')
    """
    if as_of is None:
        return as_timestamp(last_event, "as_of") + pd.Timedelta(seconds=1)
    return as_timestamp(as_of, "as_of")


def check_audience_size(size: int, min_size: int, detail: str) -> None:
    """The privacy floor of every audience builder: refuse fewer than ``min_size`` users.

    Shared by :func:`persona_rec.marketing.select_audience` and
    :meth:`persona_rec.content.ContentMatcher.audience`.

    Parameters
    ----------
    size : int
        Users in the audience.
    min_size : int
        The builder's ``min_audience_size`` (already validated, >= 1).
    detail : str
        What to add to the message (how the audience was built, what to do).

    Raises
    ------
    AudienceTooSmallError
        ``size < min_size``.

    Examples
    --------
    >>> check_audience_size(60, 50, "")
    >>> check_audience_size(3, 50, "widen the expression.")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.AudienceTooSmallError: The audience has 3 user(s), below min_audience_size=50; widen the expression.
    """
    if size < min_size:
        raise AudienceTooSmallError(
            f"The audience has {size} user(s), below min_audience_size={min_size}; {detail}"
        )

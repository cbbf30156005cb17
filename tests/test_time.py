"""The one time parser (persona_rec._time.parse_times) and as_timestamp: issue #10 regressions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec._time import parse_times
from persona_rec._validation import as_timestamp
from persona_rec.exceptions import (
    ImplausibleTimeWarning,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
)

# instants inside the datetime64[ns] range, whole seconds
instants = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2260, 12, 31),
                        ).map(lambda d: d.replace(microsecond=0))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: m - m % 15)  # real zones: 15-min steps


def _iso_with_offset(utc: dt.datetime, minutes: int, sep: str = ":") -> str:
    local = utc + dt.timedelta(minutes=minutes)
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hh:02d}{sep}{mm:02d}"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(instants, offsets, st.sampled_from([":", ""])), min_size=1,
                max_size=20))
def test_mixed_offsets_give_utc_and_keep_the_offset(rows):
    """Any mix of offsets (a log crossing DST changes) converts to the right UTC instant."""
    text = [_iso_with_offset(u, m, sep) for u, m, sep in rows]
    p = parse_times(text, "ts")
    expected = np.array([np.datetime64(u, "ns") for u, _, _ in rows])
    assert not p.missing.any() and not p.out_of_range.any()
    assert (p.utc == expected).all()
    assert p.offset_min.tolist() == [m for _, m, _ in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(instants, min_size=1, max_size=20), st.sampled_from(["s", "ms", "us", "ns"]))
def test_epoch_units_are_read_from_the_magnitude(times, unit):
    factor = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    epoch = [int(pd.Timestamp(t).value // 10**9) for t in times]
    # recent instants only: near 1970 the magnitudes of the units overlap (documented)
    if min(abs(e) for e in epoch) < 10**8 or (unit == "s" and max(abs(e) for e in epoch) >= 1e11):
        return
    values = np.array([e * factor for e in epoch], dtype=np.int64)
    p = parse_times(values, "ts")
    assert (p.utc == np.array(epoch, dtype="datetime64[s]").astype("datetime64[ns]")).all()
    q = parse_times(values, "ts", epoch_unit=unit)
    assert (q.utc == p.utc).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(instants.filter(lambda d: d.year >= 1900), min_size=1, max_size=20),
       st.booleans(), st.sampled_from(["/", ".", "-"]))
def test_day_month_dates_follow_dayfirst(times, dayfirst, sep):
    fmt = f"%d{sep}%m{sep}%Y %H:%M" if dayfirst else f"%m{sep}%d{sep}%Y %H:%M"
    text = [t.strftime(fmt) for t in times]
    p = parse_times(text, "ts", dayfirst=dayfirst)
    expected = np.array([np.datetime64(t.replace(second=0), "ns") for t in times])
    assert (p.utc == expected).all()
    q = parse_times(text, "ts", time_format=fmt)
    assert (q.utc == expected).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(instants.filter(lambda d: d.year >= 1900), min_size=1, max_size=10))
def test_numeric_day_month_dates_are_refused_without_dayfirst(times):
    text = [t.strftime("%d/%m/%Y") for t in times]
    with pytest.raises(InvalidValueError, match="dayfirst=True"):
        parse_times(text, "interactions['timestamp']")


def test_day_first_is_never_guessed_per_row():
    """Issue #10: '05/03/2024' was read as May 3 and '25/03/2024' as March 25 in one column."""
    with pytest.raises(InvalidValueError, match=r"can only be day-first, so dayfirst=True"):
        parse_times(["05/03/2024", "25/03/2024"], "interactions['timestamp']")
    p = parse_times(["05/03/2024", "25/03/2024"], "ts", dayfirst=True)
    assert p.utc.astype("datetime64[D]").astype(str).tolist() == ["2024-03-05", "2024-03-25"]
    # read month-first, the 25th month is not a date: an unparseable row, not a silent swap
    q = parse_times(["05/03/2024", "25/03/2024"], "ts", dayfirst=False)
    assert q.missing.tolist() == [False, True]


def test_offsets_mixed_with_bare_times_are_refused():
    with pytest.raises(InvalidValueError,
                       match=r"mixes times with a UTC offset .*'2024-03-01T10:00\+01:00'.*without"
                             r" one .*'2024-04-01 10:00'"):
        parse_times(["2024-03-01T10:00+01:00", "2024-04-01 10:00"], "interactions['timestamp']")


def test_dst_log_converts_to_utc():
    """Issue #10: offsets changing at DST raised pandas' 'Mixed timezones detected'."""
    p = parse_times(["2024-03-01T10:00+01:00", "2024-04-01T10:00+02:00", "2024-04-01T10:00Z"], "ts")
    assert p.utc.astype(str).tolist() == ["2024-03-01T09:00:00.000000000",
                                          "2024-04-01T08:00:00.000000000",
                                          "2024-04-01T10:00:00.000000000"]
    assert p.offset_min.tolist() == [60, 120, 0]


def test_aware_dtype_and_mixed_zone_objects():
    aware = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-07-01 10:00"])).dt.tz_localize(
        "Europe/Paris")
    p = parse_times(aware, "ts")
    assert p.offset_min.tolist() == [60, 120]
    objs = [pd.Timestamp("2024-01-01 10:00", tz="Asia/Shanghai"),
            pd.Timestamp("2024-01-01 10:00", tz="UTC")]
    q = parse_times(objs, "ts")
    assert q.utc.astype(str).tolist() == ["2024-01-01T02:00:00.000000000",
                                          "2024-01-01T10:00:00.000000000"]
    assert q.offset_min.tolist() == [480, 0]


def test_epoch_milliseconds_and_mixed_units():
    """Issue #10: 1.7e12 (ms) raised a raw OutOfBoundsDatetime."""
    p = parse_times([1.7e12, 1.7e12 + 1000], "ts")
    assert p.utc.astype("datetime64[s]").astype(str).tolist() == ["2023-11-14T22:13:20",
                                                                   "2023-11-14T22:13:21"]
    with pytest.raises(InvalidValueError, match=r"mixes epoch magnitudes.*seconds.*milliseconds"
                                                r".*epoch_unit="):
        parse_times([1.7e9, 1.7e12], "ts")
    # with the unit given, the value that does not fit is out of range (a cleaning reason)
    q = parse_times([1.7e9, 1.7e12], "ts", epoch_unit="s")
    assert q.out_of_range.tolist() == [False, True]
    numeric_text = parse_times(["1700000000", "1700000060"], "ts")
    assert numeric_text.utc.astype(str).tolist()[1] == "2023-11-14T22:14:20.000000000"


@pytest.mark.parametrize("value", ["2300-01-01", 1e300, float("inf"), 10**19])
def test_out_of_range_is_reported_not_raised(value):
    p = parse_times(pd.Series([value, value]), "ts")
    assert p.out_of_range.all() and not p.missing.any()
    with pytest.raises(InvalidValueError, match=r"as_of must lie between 1677-09-22 and 2262-04-11"):
        as_timestamp(value, "as_of")


def test_datetime64_seconds_beyond_ns_range():
    p = parse_times(pd.Series(np.array(["2300-01-01", "2020-01-01"], dtype="datetime64[s]")), "ts")
    assert p.out_of_range.tolist() == [True, False]


def test_unparseable_and_missing():
    p = parse_times(["garbage", None, "", "10", "March 5, 2024 10:00"], "ts")
    assert p.missing.tolist() == [True, True, True, True, False]
    assert str(p.utc[4]) == "2024-03-05T10:00:00.000000000"


def test_bad_arguments():
    with pytest.raises(InvalidDtypeError, match="got dtype bool"):
        parse_times(np.array([True]), "ts")
    with pytest.raises(InvalidParameterError, match="epoch_unit must be one of"):
        parse_times([1], "ts", epoch_unit="days")
    with pytest.raises(InvalidParameterError, match="dayfirst must be"):
        parse_times(["x"], "ts", dayfirst="yes")
    with pytest.raises(InvalidParameterError, match="time_format must be a strftime format"):
        parse_times(["x"], "ts", time_format="dd/mm")


def test_as_timestamp_uses_the_same_rules():
    assert as_timestamp(1.7e12, "as_of") == pd.Timestamp("2023-11-14 22:13:20")
    assert as_timestamp("2024-04-01T10:00+02:00", "as_of") == pd.Timestamp("2024-04-01 08:00")
    assert as_timestamp(dt.date(2024, 1, 2), "as_of") == pd.Timestamp("2024-01-02")
    with pytest.raises(InvalidValueError, match="dayfirst"):
        as_timestamp("05/03/2024", "as_of")
    with pytest.raises(InvalidValueError, match="as_of must be a date/time"):
        as_timestamp(None, "as_of")


@pytest.mark.parametrize("values", [[20110304, 20110415, 20111201],
                                    ["20110304", "20110415", "20111201"],
                                    np.array([20110304.0, np.nan, 20111201.0])])
def test_compact_yyyymmdd_dates_are_refused_not_guessed(values):
    """20110304 was read as epoch seconds (1970-08-21) as an int and as 2011-03-04 as text."""
    with pytest.raises(InvalidValueError, match=r"ts holds only 8-digit numbers that are valid "
                       r"yyyymmdd dates.*20110304 reads as 2011-03-04 \(time_format='%Y%m%d'\) "
                       r"or as epoch seconds 1970-08-21 18:11:44 \(epoch_unit='s'\)"):
        parse_times(values, "ts")
    as_date = parse_times(values, "ts", time_format="%Y%m%d")
    assert as_date.utc.astype("datetime64[D]").astype(str).tolist()[::2] == ["2011-03-04",
                                                                             "2011-12-01"]
    as_epoch = parse_times(values, "ts", epoch_unit="s")
    assert str(as_epoch.utc[0]) == "1970-08-21T18:11:44.000000000"


def test_compact_dates_refused_through_from_frames_and_time_format_on_int_column():
    from persona_rec import Dataset
    ev = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                       "dt": [20110304, 20110415, 20111201]})
    with pytest.raises(InvalidValueError, match=r"interactions\['timestamp'\].*yyyymmdd"):
        Dataset.from_frames(ev, columns={"dt": "timestamp"})
    ds = Dataset.from_frames(ev, columns={"dt": "timestamp"}, time_format="%Y%m%d")
    text = Dataset.from_frames(ev.astype({"dt": str}), columns={"dt": "timestamp"},
                               time_format="%Y%m%d")
    assert ds.interactions["timestamp"].astype(str).tolist() == [
        "2011-03-04", "2011-04-15", "2011-12-01"]
    pd.testing.assert_frame_equal(ds.interactions, text.interactions)
    # not whole numbers cannot be digit text for a format
    with pytest.raises(InvalidValueError, match=r"whole numbers.*20110304\.5"):
        parse_times([20110304.5, 20110305.0], "ts", time_format="%Y%m%d")


def test_not_all_compact_dates_keep_the_epoch_rules():
    # an invalid date (April 31) or other magnitudes: epoch seconds as before
    p = parse_times([1700000000, 1700000060], "ts")
    assert str(p.utc[0]) == "2023-11-14T22:13:20.000000000"
    with pytest.warns(ImplausibleTimeWarning):
        q = parse_times([20110304, 20110431], "ts")
    assert str(q.utc[0]) == "1970-08-21T18:11:44.000000000"


def test_epoch_seconds_all_in_1970_warn():
    """Excel serial days (40513.35) read as epoch seconds land on 1970-01-01: warned."""
    with pytest.warns(ImplausibleTimeWarning, match=r"ts: every value \(2, e.g. \[40513\.35, "
                      r"40514\.0\]\) read as epoch seconds falls in 1970.*epoch_unit='s'"):
        p = parse_times([40513.35, 40514.0], "ts")
    assert str(p.utc[0]) == "1970-01-01T11:15:13.350000000"  # still read, as documented
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_times([40513.35, 40514.0], "ts", epoch_unit="s")  # explicit: no warning
        parse_times([1.7e9, 1000.0], "ts")  # not all in 1970


def test_arrow_dtype_timestamps():
    """A tz-aware ArrowDtype column raised a raw numpy TypeError."""
    pa = pytest.importorskip("pyarrow")
    aware = pd.Series(pd.to_datetime(["2024-03-30 10:00", "2024-04-02 10:00", None])
                      .tz_localize("Europe/Paris"))
    want = parse_times(aware, "ts")
    got = parse_times(aware.astype(pd.ArrowDtype(pa.timestamp("us", tz="Europe/Paris"))), "ts")
    assert (got.utc.astype(str) == want.utc.astype(str)).all()
    assert got.offset_min.tolist() == [60, 120, 0] and got.missing.tolist() == [False, False, True]
    text = pd.Series(["2024-03-30 10:00", None], dtype=pd.ArrowDtype(pa.string()))
    assert str(parse_times(text, "ts").utc[0]) == "2024-03-30T10:00:00.000000000"


def test_us_twelve_hour_day_month_dates_follow_dayfirst():
    """'3/4/2011 10:00 PM' was unparseable even with dayfirst=False (clean=True dropped every row),
    and a numpy time-zone warning leaked."""
    import warnings
    values = ["3/4/2011 10:00 PM", "3/5/2011 9:15 AM", "3/6/2011 12:30 PM", "3/6/2011 12:05 AM"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        us = parse_times(values, "ts", dayfirst=False)
        eu = parse_times(values, "ts", dayfirst=True)
    assert us.utc.astype("datetime64[m]").astype(str).tolist() == [
        "2011-03-04T22:00", "2011-03-05T09:15", "2011-03-06T12:30", "2011-03-06T00:05"]
    assert eu.utc.astype("datetime64[m]").astype(str).tolist()[:2] == [
        "2011-04-03T22:00", "2011-05-03T09:15"]
    fmt = parse_times(values, "ts", time_format="%m/%d/%Y %I:%M %p")
    assert (fmt.utc == us.utc).all()
    # never swapped: a day > 12 read month-first is unparseable, as for 24-hour times
    bad = parse_times(["25/03/2024 1:00 PM", "3/4/2011 13:00 PM"], "ts", dayfirst=False)
    assert bad.missing.tolist() == [True, True]
    with pytest.raises(InvalidValueError, match=r"day/month dates that can be read two ways"):
        parse_times(values, "ts")


def test_us_twelve_hour_dates_through_from_frames_clean():
    from persona_rec import Dataset
    ev = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"],
                       "timestamp": ["3/4/2011 10:00 PM", "3/5/2011 9:15 AM", "3/6/2011 12:30 PM"]})
    ds = Dataset.from_frames(ev, dayfirst=False, clean=True)
    assert ds.n_interactions == 3  # clean=True dropped every row as bad_timestamp before
    assert ds.interactions["timestamp"].astype(str).tolist() == [
        "2011-03-04 22:00:00", "2011-03-05 09:15:00", "2011-03-06 12:30:00"]

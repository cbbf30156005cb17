"""IncrementalRFM: folding new events in equals a full rebuild at the new as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.exceptions import InvalidValueError, MissingColumnError
from persona_rec.profiles import ActivityBuilder, ProfileBuilder, RFMBuilder
from persona_rec.profiles.incremental import INCREMENTAL_COLUMNS, IncrementalRFM

START = pd.Timestamp("2024-03-01")


def _events(draw_rows: list[tuple], with_event: bool, with_order: bool) -> pd.DataFrame:
    user, item, minute, kind, qty, price4, order = map(np.array, zip(*draw_rows))
    frame = pd.DataFrame({
        "user_id": user, "item_id": item,
        "timestamp": START + pd.to_timedelta(minute * 37, unit="min"),
        "quantity": qty.astype(float), "price": price4 / 4.0,
    })
    if with_event:
        frame["event"] = np.array(["view", "cart", "purchase"])[kind]
    if with_order:
        frame["order_id"] = np.where(kind == 2, user * 1000 + order, -1).astype(np.int64)
        if with_order == "gappy":  # missing ids: one order per (user, purchase day)
            frame["order_id"] = frame["order_id"].where(order % 2 == 0).astype(float)
    return frame


ROW = st.tuples(st.integers(0, 7), st.integers(0, 5), st.integers(0, 3000), st.integers(0, 2),
                st.integers(1, 3), st.integers(1, 40), st.integers(0, 4))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=2, max_size=60), cut=st.floats(0.1, 0.9),
       with_event=st.booleans(), with_order=st.sampled_from([False, True, "gappy"]),
       extra_hours=st.integers(1, 100))
def test_update_equals_rebuild(rows, cut, with_event, with_order, extra_hours) -> None:
    inter = _events(rows, with_event, with_order)
    ds = Dataset.from_frames(inter)
    lo, hi = inter["timestamp"].min(), inter["timestamp"].max()
    t0 = (lo + (hi - lo) * cut).floor("s")
    t1 = hi + pd.Timedelta(hours=extra_hours)
    state = IncrementalRFM.from_dataset(ds, t0)
    full = ds.interactions
    new = full[(full["timestamp"] >= t0) & (full["timestamp"] < t1)]
    got = state.update(new, t1).frame()
    want = ProfileBuilder([RFMBuilder(), ActivityBuilder()]).build(ds, t1).frame
    pd.testing.assert_frame_equal(got, want[list(INCREMENTAL_COLUMNS)], check_dtype=False,
                                  rtol=1e-12)
    # and the starting state equals the rebuild at t0
    want0 = ProfileBuilder([RFMBuilder(), ActivityBuilder()]).build(ds, t0).frame
    pd.testing.assert_frame_equal(state.frame(), want0[list(INCREMENTAL_COLUMNS)],
                                  check_dtype=False, rtol=1e-12)


def test_update_in_two_batches_and_new_users() -> None:
    rng = np.random.default_rng(3)
    n = 400
    inter = pd.DataFrame({
        "user_id": rng.integers(0, 50, n), "item_id": rng.integers(0, 20, n),
        "timestamp": START + pd.to_timedelta(np.sort(rng.integers(0, 90 * 24 * 60, n)), unit="min"),
        "event": rng.choice(["view", "purchase"], n), "price": rng.integers(1, 20, n) * 0.5,
    })
    ds = Dataset.from_frames(inter)
    full = ds.interactions
    t0, t1, t2 = (START + pd.Timedelta(days=d) for d in (30, 60, 91))
    state = IncrementalRFM.from_dataset(ds, t0)
    mid = state.update(full[(full["timestamp"] >= t0) & (full["timestamp"] < t1)], t1)
    end = mid.update(full[(full["timestamp"] >= t1) & (full["timestamp"] < t2)], t2)
    want = ProfileBuilder([RFMBuilder(), ActivityBuilder()]).build(ds, t2).frame
    pd.testing.assert_frame_equal(end.frame(), want[list(INCREMENTAL_COLUMNS)],
                                  check_dtype=False, rtol=1e-12)
    assert state.as_of == t0  # update returns a new state
    newcomer = pd.DataFrame({"user_id": [999], "item_id": [1], "event": ["purchase"],
                             "price": [3.0], "timestamp": [t2 + pd.Timedelta(hours=1)]})
    grown = end.update(newcomer).frame()
    assert grown.index[-1] == 999 and grown.loc[999, "frequency"] == 1.0
    assert grown.loc[999, "monetary"] == 3.0 and len(grown) == len(want) + 1


def test_update_errors() -> None:
    inter = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "price": [1.0, 2.0],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05"])})
    state = IncrementalRFM.from_dataset(Dataset.from_frames(inter), "2024-01-10")
    late = pd.DataFrame({"user_id": [1], "item_id": [1], "price": [1.0],
                         "timestamp": pd.to_datetime(["2024-01-03"])})
    with pytest.raises(InvalidValueError, match="need a full rebuild"):
        state.update(late, as_of="2024-01-12")
    with pytest.raises(InvalidValueError, match="before the state's as_of"):
        state.update(late)  # default as_of = last new event + 1 s, before the state
    with pytest.raises(MissingColumnError, match="price"):
        state.update(pd.DataFrame({"user_id": [1], "timestamp": ["2024-01-11"]}))
    with pytest.raises(InvalidValueError, match="before the state's as_of"):
        state.update(late.iloc[:0], as_of="2024-01-01")


def test_update_reads_times_like_the_dataset() -> None:
    """New events' times go through the Dataset's parser (epoch seconds, offsets, zones).

    ``update`` used bare ``pd.to_datetime``: epoch seconds became 1970 nanoseconds (refused as
    before the state) and ISO strings with an offset could not be compared with ``as_of``.
    """
    inter = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "price": [1.0, 2.0],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05"])})
    state = IncrementalRFM.from_dataset(Dataset.from_frames(inter), "2024-01-10")
    when = pd.to_datetime(["2024-01-11 09:30", "2024-01-12 18:00"])
    base = pd.DataFrame({"user_id": [1, 3], "item_id": [1, 1], "price": [4.0, 5.0]})
    want = state.update(base.assign(timestamp=when), as_of="2024-01-13").frame()
    spellings = {
        "epoch seconds": (when - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1),
        "epoch ms": (when - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1),
        "ISO with offset": ["2024-01-11T11:30:00+02:00", "2024-01-12T13:00:00-05:00"],
        "zone-aware": when.tz_localize("UTC").tz_convert("Asia/Shanghai"),
    }
    for name, values in spellings.items():
        got = state.update(base.assign(timestamp=values), as_of="2024-01-13").frame()
        pd.testing.assert_frame_equal(got, want, obj=name)

"""Spark profiles against the pandas builders: same columns, same values."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError
from persona_rec.profiles import ProfileBuilder
from persona_rec.profiles.builders import RFMBuilder
from persona_rec.spark import SparkEvents, build_profiles

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")

_HERE = Path(__file__).parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


compare_frames = _load("_spark_conftest", _HERE / "conftest.py").compare_frames
tiny_frames = _load("_profiles_conftest", _HERE.parent / "profiles" / "conftest.py").tiny_frames


def _spark_events(spark, inter, users=None, items=None):
    return SparkEvents.from_frames(
        spark.createDataFrame(inter),
        users=None if users is None else spark.createDataFrame(users),
        items=None if items is None else spark.createDataFrame(items),
    )


def test_tiny_shop_parity_with_sensitive_columns(spark):
    inter, users, items = tiny_frames()
    ds = Dataset.from_frames(inter, users=users, items=items)
    want = ProfileBuilder.default().build(ds, as_of="2024-03-01")
    got = build_profiles(_spark_events(spark, inter, users, items), as_of="2024-03-01")
    frame = got.frame.toPandas()
    assert list(frame.columns) == ["user_id", *want.frame.columns]
    assert compare_frames(want.frame, frame) == []
    assert got.sensitive_columns == want.sensitive_columns
    assert "age" not in got.export().columns and "age" in got.export(True).columns
    cycles = got.category_cycles.toPandas().sort_values(["user_id", "category"])
    want_c = want.category_cycles.sort_values(["user_id", "category"])
    assert cycles["n_orders"].tolist() == want_c["n_orders"].tolist()
    assert cycles["next_purchase_date"].astype("datetime64[ns]").tolist() == \
        want_c["next_purchase_date"].tolist()
    # affinities: the long frame holds the non-zero cells of the pandas matrices
    aff = got.affinities.toPandas()
    mat, names = want.affinities["category_l1"]
    row = ds.user_map.to_internal(["a"])[0]
    cells = dict(zip([names[j] for j in mat[row].indices], mat[row].data))
    mine = aff[(aff.user_id == "a") & (aff.kind == "category_l1")]
    assert dict(zip(mine["value"], mine["affinity"])) == cells
    got.unpersist()
    # the default as_of (now): listed users count as known, overdue dates are NaT
    want = ProfileBuilder.default().build(ds)
    got = build_profiles(_spark_events(spark, inter, users, items))
    assert compare_frames(want.frame, got.frame.toPandas()) == []
    cycles = got.category_cycles.toPandas().sort_values(["user_id", "category"])
    want_c = want.category_cycles.sort_values(["user_id", "category"])
    assert np.allclose(cycles["days_overdue"], want_c["days_overdue"], rtol=1e-9, atol=0,
                       equal_nan=True)
    got.unpersist()


def test_bad_arguments(spark):
    inter, _, _ = tiny_frames()
    with pytest.raises(InvalidDtypeError, match="events must be a persona_rec.spark.SparkEvents"):
        build_profiles(inter)
    ev = _spark_events(spark, inter)

    class Custom(RFMBuilder):
        pass

    with pytest.raises(InvalidParameterError, match="Custom, which has no Spark definition"):
        build_profiles(ev, builder=ProfileBuilder([Custom()]))


@st.composite
def _event_frames(draw):
    n = draw(st.integers(5, 40))
    users = draw(st.lists(st.sampled_from(["u1", "u2", "u3", "u4", "u5"]), min_size=n,
                          max_size=n))
    items = draw(st.lists(st.sampled_from(["i1", "i2", "i3", "i4"]), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 200), min_size=n, max_size=n))
    events = draw(st.lists(st.sampled_from(["view", "cart", "purchase"]), min_size=n,
                           max_size=n))
    prices = draw(st.lists(st.sampled_from([1.0, 2.5, 3.0, 4.25]), min_size=n, max_size=n))
    # views may lack a price; quantities cross the default tier edges (6, 12, 24, 100)
    no_price = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    prices = [np.nan if e == "view" and m else p for e, m, p in zip(events, no_price, prices)]
    quantities = draw(st.lists(st.sampled_from([1, 2, 6, 12, 30, 150]), min_size=n, max_size=n))
    offsets = draw(st.lists(st.sampled_from([-300, 0, 60, 330, 540]), min_size=n, max_size=n))
    orders = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    inter = pd.DataFrame({
        "user_id": users, "item_id": items,
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min"),
        "event": events, "price": prices, "quantity": quantities,
        "utc_offset_min": offsets,
        # order 6 stands for a line without an order_id (one order per user and day)
        "order_id": [None if o == 6 else f"{u}-{o}" for u, o in zip(users, orders)],
    })
    item_frame = pd.DataFrame({
        "item_id": ["i1", "i2", "i3", "i4", "i5"],
        "category": ["A > x", "A > y", "B/x", None, "C"],
        "brand": ["Acme", "Acme", "Zed", None, "Q"],
        "price": [2.0, 3.0, np.nan, 4.0, 1.0],
    })
    # time zones (they win over the events' offsets) and registration dates (known_at_as_of)
    user_frame = pd.DataFrame({
        "user_id": ["u1", "u3", "u6", "u7"],
        "timezone": ["Asia/Shanghai", "America/New_York", None, "Europe/Paris"],
        "registration_date": ["2023-06-01", None, "2024-02-01", "2024-09-01"],
    })
    return inter, item_frame, user_frame


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frames=_event_frames())
def test_random_event_frames_parity(spark, frames):
    inter, items, users = frames
    ds = Dataset.from_frames(inter, users=users, items=items)
    builder = ProfileBuilder.default(price_band_min_items=2, min_item_sales=2)
    want = builder.build(ds, as_of="2024-05-01")
    got = build_profiles(_spark_events(spark, inter, users, items), as_of="2024-05-01",
                         builder=builder)
    assert compare_frames(want.frame, got.frame.toPandas()) == []
    got.unpersist()

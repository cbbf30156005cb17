"""Parity on the full UCI Online Retail file: Spark profiles and RFM segments equal pandas."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from persona_rec.sample_data import load_online_retail
from persona_rec.profiles import ProfileBuilder
from persona_rec.segments.rfm import RFMSegmentMap
from persona_rec.spark import SparkEvents, build_profiles, rfm_segments

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")

_spec = importlib.util.spec_from_file_location("_spark_conftest_or",
                                               Path(__file__).with_name("conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
compare_frames = _mod.compare_frames


@pytest.fixture(scope="module")
def retail(spark, online_retail_csv):
    ds = load_online_retail(online_retail_csv)
    as_of = "2011-10-01"  # point in time: two months of events are left out
    want = ProfileBuilder.default().build(ds, as_of=as_of)
    ev = SparkEvents.from_frames(spark.createDataFrame(ds.interactions),
                                 users=spark.createDataFrame(ds.users),
                                 items=spark.createDataFrame(ds.items))
    got = build_profiles(ev, as_of=as_of)
    frame = got.frame.persist()
    yield ds, want, got, frame
    frame.unpersist()
    got.unpersist()


def test_profiles_equal_pandas(retail):
    ds, want, got, frame = retail
    local = frame.toPandas()
    assert len(local) == ds.n_users
    assert list(local.columns) == ["user_id", *want.frame.columns]
    assert compare_frames(want.frame, local) == []
    cycles = got.category_cycles.toPandas().sort_values(["user_id", "category"])
    want_c = want.category_cycles.sort_values(["user_id", "category"])
    assert len(cycles) == len(want_c)
    assert cycles["n_orders"].tolist() == want_c["n_orders"].tolist()


def test_rfm_segments_equal_pandas(retail):
    _, want, _, frame = retail
    labels = RFMSegmentMap().assign(want.frame).labels
    got = rfm_segments(frame).toPandas().set_index("user_id")["segment"]
    got = got.reindex(labels.index)
    assert (got.astype(object).fillna("<none>") ==
            labels.astype(object).fillna("<none>")).all()
    want_counts = {k: v for k, v in labels.value_counts().to_dict().items() if v}
    assert pd.Series(got).value_counts().to_dict() == want_counts

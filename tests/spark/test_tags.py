"""Spark tags against the pandas Tagger: same taxonomy, same profiles, same tags."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.exceptions import InvalidDtypeError, TaxonomyError
from persona_rec.profiles import ProfileBuilder
from persona_rec.spark import SparkEvents, assign_tags, build_profiles
from persona_rec.tags import Tagger, Taxonomy

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")

_HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("_profiles_conftest_t",
                                               _HERE.parent / "profiles" / "conftest.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
tiny_frames = _mod.tiny_frames


def _extra_tags() -> list[dict]:
    """Rules exercising every function and operator of the rule language."""
    return [
        {"id": "custom", "layer": "behaviour"},
        {"id": "custom/top_kitchen", "parent": "custom",
         "rule": 'affinity_rank("category_l2", "home/kitchen") <= 1 and '
                 'affinity("category_l2", "home/kitchen") > 0',
         "confidence": 'affinity("category_l2", "home/kitchen")'},
        {"id": "custom/q_spend", "parent": "custom",
         "rule": "quantile(monetary / frequency) >= 0.5 or frequency is null",
         "confidence": "coalesce(quantile(monetary), 0.3)"},
        {"id": "custom/arith", "parent": "custom",
         "rule": "abs(-recency_days) * 2 > 10 and not (lifecycle_stage in [\"new\", \"active\"])",
         "confidence": "clip(n_events / 0, 0, 1)"},
        {"id": "custom/uk", "parent": "custom", "rule": 'country == "UK"', "sensitive": True},
    ]


def _taxonomy(want_profiles) -> Taxonomy:
    base = Taxonomy.default(want_profiles)
    data = base.to_dict()
    data["tags"] = list(data["tags"]) + _extra_tags()
    return Taxonomy.from_dict(data)


def _pairs(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(str(u), str(t)): float(c) for u, t, c in
            zip(frame["user_id"], frame["tag_id"], frame["confidence"])}


@pytest.mark.parametrize("as_of", ["2024-03-01", None])
def test_tags_equal_pandas_on_tiny_shop(spark, as_of):
    inter, users, items = tiny_frames()
    ds = Dataset.from_frames(inter, users=users, items=items)
    want_p = ProfileBuilder.default().build(ds, as_of=as_of)
    tax = _taxonomy(want_p)
    want = Tagger(tax).assign(want_p).to_frame()
    ev = SparkEvents.from_frames(spark.createDataFrame(inter), spark.createDataFrame(users),
                                 spark.createDataFrame(items))
    got_p = build_profiles(ev, as_of=as_of)
    got = assign_tags(got_p, tax).toPandas()
    assert len(want) > 10
    assert set(want["tag_id"]) >= {"custom/top_kitchen", "custom/q_spend", "custom/arith"}
    w, g = _pairs(want), _pairs(got)
    assert sorted(g) == sorted(w)
    assert np.allclose([g[k] for k in sorted(w)], [w[k] for k in sorted(w)], rtol=1e-6, atol=0)
    got_p.unpersist()


def test_bad_arguments(spark):
    inter, users, items = tiny_frames()
    ds = Dataset.from_frames(inter, users=users, items=items)
    tax = Taxonomy.from_dict({"tags": [{"id": "x", "layer": "value", "rule": "no_such_col > 1"}]})
    with pytest.raises(InvalidDtypeError, match="SparkProfiles"):
        assign_tags(ProfileBuilder.default().build(ds), tax)
    ev = SparkEvents.from_frames(spark.createDataFrame(inter))
    got_p = build_profiles(ev, as_of="2024-03-01")
    with pytest.raises(TaxonomyError, match=r"reads column\(s\) \['no_such_col'\]"):
        assign_tags(got_p, tax)
    got_p.unpersist()

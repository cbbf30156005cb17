"""Spark audiences against the pandas select_audience: same users, scores, ranks and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec.exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from persona_rec.marketing import select_audience as pd_select
from persona_rec.marketing.audience import AudienceTooSmallError
from persona_rec.spark import SparkProfiles, select_audience
from persona_rec.spark.audience import _draws, _pairwise_sum
from persona_rec.tags import Taxonomy, UserTags

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")

_TAX = Taxonomy.from_dict({"tags": [
    {"id": "interest", "layer": "interest"},
    {"id": "interest/home", "parent": "interest"},
    {"id": "interest/garden", "parent": "interest"},
    {"id": "lifecycle", "layer": "lifecycle"},
    {"id": "churned", "parent": "lifecycle"},
    {"id": "basic", "layer": "basic"},
    {"id": "basic/gender_f", "parent": "basic", "sensitive": True},
]})
_EXPRESSIONS = ["interest/home & !churned", "interest/home | interest/garden | churned",
                "!(interest | churned)", "interest & lifecycle & (interest/garden | churned | basic)"]


def _case(seed: int, n: int = 120):
    """Random tags with many ties (few confidence levels), users in a shuffled id order."""
    rng = np.random.default_rng(seed)
    ids = _TAX.tag_ids
    levels = np.array([0.25, 0.5, 1.0, 0.3, 0.7], dtype=np.float32)
    conf = np.where(rng.random((n, len(ids))) < 0.5, levels[rng.integers(0, 5, (n, len(ids)))],
                    rng.uniform(0.01, 1.0, (n, len(ids))).astype(np.float32))
    m = (rng.random((n, len(ids))) < 0.45) * conf
    users = np.array([f"u{i}" for i in rng.permutation(n)], dtype=object)
    ut = UserTags(sp.csr_matrix(m.astype(np.float32)), users, ids, taxonomy=_TAX)
    return ut, users


def _spark_inputs(spark, ut: UserTags, users: np.ndarray):
    frame = ut.to_frame()
    frame["confidence"] = frame["confidence"].astype(np.float32)
    tags = spark.createDataFrame(frame)
    # the row order of Profiles.frame, as build_profiles records it; spread over two key groups
    half = len(users) // 2
    order = pd.DataFrame({"user_id": users, "okey_a": np.r_[np.zeros(half), np.ones(len(users) - half)]
                          .astype(np.int32), "okey_b": np.r_[np.arange(half) * 7 + 3,
                                                             np.arange(len(users) - half)].astype(np.int64)})
    order = spark.createDataFrame(order)
    prof = SparkProfiles(frame=order.select("user_id"), affinities=None, category_cycles=None,
                         as_of=pd.Timestamp("2024-01-01"), user_order=order)
    return tags, prof


def _equal(want: pd.DataFrame, got, extra_cols=()) -> None:
    local = got.frame.toPandas().sort_values("rank").reset_index(drop=True)
    assert list(local.columns) == list(want.columns)
    assert local["user_id"].tolist() == want["user_id"].tolist()
    assert local["rank"].tolist() == want["rank"].tolist()
    assert np.array_equal(local["score"].to_numpy(), want["score"].to_numpy())
    assert local["reason"].tolist() == want["reason"].tolist()
    if "segment" in want.columns:
        assert local["segment"].tolist() == want["segment"].tolist()
    assert got.funnel == want.attrs["funnel"]


def test_pairwise_sum_is_numpy_float32_order():
    rng = np.random.default_rng(0)
    for k in (1, 2, 3, 7, 8, 9, 17, 130, 300):
        m = rng.random((200, k)).astype(np.float32)
        m[rng.random(m.shape) < 0.3] = 0
        want = m.sum(axis=1)
        got = np.array([_pairwise_sum(list(r), lambda a, b: np.float32(a + b)) for r in m])
        assert np.array_equal(got, want), k


def test_draws_equal_default_rng():
    state = np.random.default_rng(11).bit_generator.state
    full = np.random.default_rng(11).random(20_000)
    pos = np.array([19_999, 0, 5, 6, 7, 12_000, 3, 3])
    assert np.array_equal(_draws(state, pos), full[pos])


@pytest.mark.parametrize("expression", _EXPRESSIONS)
def test_tag_audience_equals_pandas(spark, expression):
    ut, users = _case(1)
    tags, prof = _spark_inputs(spark, ut, users)
    want = pd_select(ut, expression=expression, budget=40, min_audience_size=1, random_state=5)
    got = select_audience(tags, prof, _TAX, expression=expression, budget=40, min_audience_size=1,
                          random_state=5)
    assert len(want) > 3
    _equal(want, got)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    expression=st.sampled_from(_EXPRESSIONS + [None]),
    budget=st.one_of(st.none(), st.integers(1, 90)),
    quota=st.one_of(st.none(), st.integers(0, 30), st.sampled_from([0.2, 0.5, 1.0])),
    n_excluded=st.integers(0, 40),
    use_propensity=st.booleans(),
    min_confidence=st.sampled_from([0.0, 0.3, 0.7]),
    partitions=st.sampled_from([1, 3]),
)
def test_random_audiences_equal_pandas(spark, seed, expression, budget, quota, n_excluded,
                                       use_propensity, min_confidence, partitions):
    ut, users = _case(seed)
    rng = np.random.default_rng(seed + 1)
    tags, prof = _spark_inputs(spark, ut, users)
    excluded = list(rng.choice(users, n_excluded, replace=False))
    seg = pd.Series(rng.choice(["A", "B", "C"], len(users)), index=users)
    seg = seg.drop(seg.index[:5])  # users without a segment
    kwargs = dict(expression=expression, budget=budget, exclude=excluded, min_audience_size=1,
                  min_confidence=min_confidence, random_state=seed)
    spark_kwargs = dict(kwargs)
    if quota is not None and not (isinstance(quota, float) and budget is None):
        kwargs.update(segments=seg.to_dict(), quotas={"A": quota, "C": 3})
        spark_kwargs.update(segments=spark.createDataFrame(
            pd.DataFrame({"user_id": seg.index, "segment": seg.to_numpy()})),
            quotas={"A": quota, "C": 3})
    if use_propensity:
        keep = rng.random(len(users)) < 0.8
        prop = pd.Series(rng.integers(0, 6, keep.sum()) / 5.0, index=pd.Index(users[keep], name="user_id"))
        kwargs.update(propensity=prop, label="home")
        spark_kwargs.update(propensity=spark.createDataFrame(
            pd.DataFrame({"user_id": prop.index, "score": prop.to_numpy()})), label="home")
    if expression is None and not use_propensity:
        kwargs["candidates"] = spark_kwargs["candidates"] = list(users[::2])
    old = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        try:
            want = pd_select(ut, **kwargs)
        except AudienceTooSmallError as exc:
            with pytest.raises(AudienceTooSmallError) as got_exc:
                select_audience(tags, prof, _TAX, **spark_kwargs)
            assert str(got_exc.value) == str(exc)
            return
        got = select_audience(tags, prof, _TAX, **spark_kwargs)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", old)
    _equal(want, got)


def test_errors_equal_pandas(spark):
    ut, users = _case(2)
    tags, prof = _spark_inputs(spark, ut, users)
    seg_pd = {u: "A" for u in users}
    seg_sp = spark.createDataFrame(pd.DataFrame({"user_id": users, "segment": "A"}))
    cases = [
        (RuleSyntaxError, dict(expression="interest/home & (churned"), {}),
        (RuleSyntaxError, dict(expression="interest/home; import os"), {}),
        (UnknownIdError, dict(expression="interest/hom & !churned"), {}),
        (TaxonomyError, dict(expression="basic/gender_f & interest/home"), {}),
        (InvalidDtypeError, dict(expression=3), {}),
        (InvalidParameterError, dict(expression="interest/home", budget=0), {}),
        (InvalidParameterError, dict(expression="interest/home", min_audience_size=0), {}),
        (InvalidParameterError, dict(expression="interest/home", allow_sensitive="yes"), {}),
        (InvalidParameterError, dict(expression="interest/home", min_confidence=2.0), {}),
        (InvalidParameterError, dict(expression="interest/home", quotas={"A": 3}), {}),
        (InvalidParameterError, dict(expression="interest/home", quotas={"A": 0.5}),
         dict(segments=(seg_pd, seg_sp))),
        (InvalidParameterError, dict(expression="interest/home", budget=10, quotas={"A": -1}),
         dict(segments=(seg_pd, seg_sp))),
        (InvalidParameterError, dict(expression="interest/home", budget=10, quotas={"A": "x"}),
         dict(segments=(seg_pd, seg_sp))),
        (AudienceTooSmallError, dict(expression="interest/home", budget=5), {}),
    ]
    for error, common, pairs in cases:
        pd_kw = dict(common, **{k: v[0] for k, v in pairs.items()})
        sp_kw = dict(common, **{k: v[1] for k, v in pairs.items()})
        with pytest.raises(error) as want:
            pd_select(ut, **pd_kw)
        with pytest.raises(error) as got:
            select_audience(tags, prof, _TAX, **sp_kw)
        assert str(got.value) == str(want.value), (common, str(got.value))
    # the sensitive tag is accepted when allowed, on both paths
    ok = select_audience(tags, prof, _TAX, expression="basic/gender_f & interest/home",
                         allow_sensitive=True, min_audience_size=1)
    want = pd_select(ut, expression="basic/gender_f & interest/home", allow_sensitive=True,
                     min_audience_size=1)
    _equal(want, ok)


def test_spark_argument_errors(spark):
    ut, users = _case(3)
    tags, prof = _spark_inputs(spark, ut, users)
    with pytest.raises(InvalidDtypeError, match="tags must be a pyspark.sql.DataFrame"):
        select_audience(ut.to_frame(), prof, _TAX, expression="interest")
    with pytest.raises(MissingColumnError, match=r"tags is missing column\(s\) \['confidence'\]"):
        select_audience(tags.drop("confidence"), prof, _TAX, expression="interest")
    with pytest.raises(InvalidDtypeError, match="profiles must be a persona_rec.spark.SparkProfiles"):
        select_audience(tags, tags, _TAX, expression="interest")
    with pytest.raises(InvalidDtypeError, match="taxonomy must be a Taxonomy"):
        select_audience(tags, prof, ["interest"], expression="interest")
    with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
        select_audience(tags, prof, _TAX, expression="interest", random_state=1.5)
    dup = tags.unionByName(tags.limit(1))
    with pytest.raises(InvalidValueError, match=r"one row per \(user_id, tag_id\)"):
        select_audience(dup, prof, _TAX, expression="interest", min_audience_size=1)
    prop = spark.createDataFrame(pd.DataFrame({"user_id": ["u1", "u2"], "score": [True, False]}))
    with pytest.raises(InvalidDtypeError, match="got bool values"):
        select_audience(tags, prof, _TAX, propensity=prop)
    prop = spark.createDataFrame(pd.DataFrame({"user_id": ["u1", "u2"], "score": [0.5, np.nan]}))
    with pytest.raises(InvalidValueError, match=r"finite scores; got 1 non-finite value\(s\)"):
        select_audience(tags, prof, _TAX, propensity=prop)
    prop = spark.createDataFrame(pd.DataFrame({"user_id": ["u1", "u1"], "score": [0.5, 0.2]}))
    with pytest.raises(InvalidValueError, match="unique user ids, got duplicates"):
        select_audience(tags, prof, _TAX, propensity=prop)
    seg = spark.createDataFrame(pd.DataFrame({"user_id": ["u1", "u1"], "segment": ["A", "B"]}))
    with pytest.raises(DuplicateIdError, match="one segment per user_id"):
        select_audience(tags, prof, _TAX, expression="interest", segments=seg)
    with pytest.raises(InvalidDtypeError, match="exclude must be a list/array of user ids"):
        select_audience(tags, prof, _TAX, expression="interest", exclude="u1")

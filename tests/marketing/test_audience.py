"""Tests for persona_rec.marketing.audience and .propensity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.dataset import Dataset
from persona_rec.exceptions import (
    InvalidParameterError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from persona_rec.marketing.audience import AudienceTooSmallError, select_audience
from persona_rec.marketing.propensity import (
    affinity_propensity,
    category_item_mask,
    recommender_propensity,
    scores_propensity,
)
from persona_rec.tags import Taxonomy, UserTags


def _tags(n: int = 300, seed: int = 3) -> UserTags:
    rng = np.random.default_rng(seed)
    tax = Taxonomy.from_dict({"tags": [
        {"id": "interest", "layer": "interest"},
        {"id": "interest/home", "parent": "interest"},
        {"id": "interest/garden", "parent": "interest"},
        {"id": "lifecycle", "layer": "lifecycle"},
        {"id": "churned", "parent": "lifecycle"},
        {"id": "basic", "layer": "basic"},
        {"id": "basic/gender_f", "parent": "basic", "sensitive": True},
    ]})
    ids = tax.tag_ids
    m = (rng.random((n, len(ids))) < 0.4) * rng.uniform(0.2, 1.0, (n, len(ids)))
    return UserTags(sp.csr_matrix(m), np.arange(n), ids, taxonomy=tax)


def test_expression_rules_and_reason():
    ut = _tags()
    aud = select_audience(ut, expression="interest/home & !churned", min_audience_size=10)
    dense = ut.matrix.toarray()
    want = set(np.flatnonzero((dense[:, ut.tag_index["interest/home"]] > 0)
                              & (dense[:, ut.tag_index["churned"]] == 0)))
    assert set(aud["user_id"]) == want
    assert aud["reason"].str.startswith("tags match 'interest/home & !churned'; tag confidence").all()
    assert aud["rank"].tolist() == list(range(1, len(aud) + 1))
    assert aud["score"].is_monotonic_decreasing
    with pytest.raises(UnknownIdError, match=r"uses unknown tag\(s\): 'interest/hom' at position 0"):
        select_audience(ut, expression="interest/hom & !churned")
    with pytest.raises(TaxonomyError, match=r"uses sensitive tag\(s\) \['basic/gender_f'\]; pass allow_sensitive=True"):
        select_audience(ut, expression="basic/gender_f & interest/home")
    ok = select_audience(ut, expression="basic/gender_f & interest/home", allow_sensitive=True, min_audience_size=5)
    assert len(ok) > 0
    with pytest.raises(RuleSyntaxError):
        select_audience(ut, expression="interest/home & (churned")
    with pytest.raises(RuleSyntaxError):
        select_audience(ut, expression="interest/home; import os")


def test_privacy_minimum_size():
    ut = _tags()
    with pytest.raises(AudienceTooSmallError, match=r"has 5 user\(s\), below min_audience_size=50.*privacy rule"):
        select_audience(ut, expression="interest/home", budget=5)
    assert isinstance(AudienceTooSmallError("x"), ValueError)


def test_propensity_budget_quota_exclusion_cap():
    ut = _tags()
    users = np.arange(300)
    prop = pd.Series(np.linspace(1, 0, 300), index=pd.Index(users, name="user_id"))
    seg = pd.Series(np.where(users < 150, "A", "B"), index=users)
    hist = pd.DataFrame({"user_id": [0, 0, 1, 2, 2, 2], "timestamp": pd.to_datetime(
        ["2024-05-09", "2024-05-08", "2024-05-09", "2024-04-01", "2024-04-02", "2024-04-03"])})
    aud = select_audience(
        ut, propensity=prop, budget=60, segments=seg, quotas={"A": 0.5}, exclude=[3, 4],
        contact_history=hist, max_contacts=2, as_of="2024-05-10", min_audience_size=1, label="home",
    )
    assert len(aud) == 60
    assert (aud["segment"] == "A").sum() == 30
    assert not set(aud["user_id"]) & {0, 3, 4}  # 0: capped (2 contacts this week); 3, 4 excluded
    assert {1, 2} <= set(aud["user_id"])  # 1 contact / old contacts do not cap
    assert aud.attrs["funnel"] == {"candidates": 300, "expression": 300, "scored": 300, "exclusions": 298,
                                   "contact_cap": 297, "quotas": 180, "budget": 60}
    assert aud["reason"].iloc[0] == "propensity for home 0.9967 (top 1%); within quota of segment A"
    both = select_audience(ut, expression="interest/garden", propensity=prop, budget=20, min_audience_size=1)
    assert both["reason"].str.contains("tags match 'interest/garden'; propensity").all()


def test_parameter_errors():
    ut = _tags()
    with pytest.raises(InvalidParameterError, match=r"'budget' parameter must be an int >= 1, got 0"):
        select_audience(ut, expression="interest/home", budget=0)
    with pytest.raises(InvalidParameterError, match=r"needs user_tags"):
        select_audience(expression="interest/home")
    with pytest.raises(InvalidParameterError, match=r"'quotas' parameter needs segments"):
        select_audience(ut, expression="interest/home", quotas={"A": 3})
    with pytest.raises(InvalidParameterError, match=r"'max_contacts' parameter needs contact_history"):
        select_audience(ut, expression="interest/home", max_contacts=2)
    with pytest.raises(InvalidParameterError, match=r"quota for segment 'A' is a share \(0.5\); it needs a budget"):
        select_audience(ut, expression="interest/home", segments={0: "A"}, quotas={"A": 0.5})


def test_quota_reason_for_users_without_segment():
    ut = _tags()
    seg = {u: "A" for u in range(0, 300, 2)}  # odd users have no segment
    aud = select_audience(ut, expression="interest/home", segments=seg, quotas={"A": 5},
                          min_audience_size=1)
    assert (aud["segment"] == "A").sum() == 5
    none = aud[aud["segment"].isna()]
    assert len(none) > 0
    assert none["reason"].str.endswith("; within quota of segment None").all()


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(1, 120),
    excluded=st.sets(st.integers(0, 299), max_size=150),
    quota=st.integers(0, 80),
    seed=st.integers(0, 1000),
    use_expr=st.booleans(),
)
def test_audience_never_exceeds_budget_or_includes_excluded(budget, excluded, quota, seed, use_expr):
    ut = _TAGS
    rng = np.random.default_rng(seed)
    prop = pd.Series(rng.random(300).round(2), index=pd.Index(np.arange(300), name="user_id"))
    seg = {u: ("A" if u % 3 else "B") for u in range(300)}
    try:
        aud = select_audience(
            ut, expression="interest/home | interest/garden" if use_expr else None, propensity=prop,
            budget=budget, exclude=excluded, segments=seg, quotas={"B": quota}, min_audience_size=1,
            random_state=seed,
        )
    except AudienceTooSmallError:
        return
    assert len(aud) <= budget
    assert not set(aud["user_id"]) & excluded
    assert (aud["segment"] == "B").sum() <= quota
    assert aud["user_id"].is_unique


_TAGS = _tags()


def _tiny_shop() -> Dataset:
    inter = pd.DataFrame({
        "user_id": ["a", "a", "a", "b", "b", "c"],
        "item_id": ["m1", "m2", "g1", "g1", "g2", "m1"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-02", "2024-03-01", "2024-03-03",
                                     "2023-01-01"]),
        "event": "purchase",
    })
    items = pd.DataFrame({"item_id": ["m1", "m2", "g1", "g2"],
                          "category": ["Kitchen > Mugs", "Kitchen > Mugs", "Garden", "Garden > Tools"]})
    return Dataset.from_frames(inter, items=items)


def test_affinity_propensity_orders_by_recent_category_purchases():
    ds = _tiny_shop()
    s = affinity_propensity(ds, "Kitchen", as_of="2024-03-10", half_life_days=30)
    assert s.idxmax() == "a" and s["a"] > 1
    # c bought kitchen 14 months ago: with a 30-day half-life b's recent (garden) activity wins the tie-break
    assert 0 < s["c"] < s["b"] < 0.05
    slow = affinity_propensity(ds, "Kitchen", as_of="2024-03-10", half_life_days=365)
    assert slow["a"] > slow["c"] > slow["b"]
    g = affinity_propensity(ds, "garden", as_of="2024-03-10")
    assert g["b"] > g["a"] > g["c"]
    early = affinity_propensity(ds, "Garden", as_of="2024-02-01")  # before any garden purchase
    assert early["b"] == 0 and early["a"] > 0  # a's activity tie-breaker only


def test_category_mask_and_scores_propensity():
    cats = pd.Series(["Home > Kitchen", "Home", "Homeware", None])
    assert category_item_mask(cats, "Home").tolist() == [True, True, False, False]
    s = scores_propensity(sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.5, 0.5, 0.0]])), ["u", "v"],
                          ["i", "j", "k"], item_categories=["A > x", "B", "A"], category="a", agg="max")
    assert s.to_dict() == {"u": 2.0, "v": 0.5}


class _StubModel:
    """Duck-typed recommender: item score = user number * item rank weight."""

    def recommend(self, user_ids, k=10, *, filter_seen=True, items=None, item_filter=None):
        rows = []
        for u in user_ids:
            if u == "nobody":
                continue
            for r in range(k):
                rows.append({"user_id": u, "item_id": f"i{r}", "score": float(len(u)) / (r + 1), "rank": r + 1})
        assert item_filter == {"categories": "Home"}
        return pd.DataFrame(rows)


def test_recommender_propensity_duck_typed():
    s = recommender_propensity(_StubModel(), ["aa", "b", "nobody"], category="Home", k=2)
    assert s["aa"] == pytest.approx(3.0) and s["b"] == pytest.approx(1.5) and np.isnan(s["nobody"])


def test_recommender_propensity_with_real_model():
    from persona_rec.models import PopularRecommender

    ds = _tiny_shop()
    model = PopularRecommender().fit(ds)
    s = recommender_propensity(model, ["a", "b", "c"], category="Garden", k=5)
    assert s.notna().all() and (s > 0).all()

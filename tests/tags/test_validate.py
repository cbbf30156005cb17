"""Tag validation: lift with bootstrap CIs on planted truth, stability, agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.sample_data import synthetic
from persona_rec.exceptions import InvalidParameterError, UnknownIdError
from persona_rec.profiles import ProfileBuilder
from persona_rec.tags import (
    Tagger,
    Taxonomy,
    UserTags,
    tag_agreement,
    tag_stability,
    validate_tags,
)
from persona_rec.tags.validate import default_checks, next_window_outcomes


@pytest.fixture(scope="module")
def run():
    data = synthetic(n_users=1500, n_items=200, n_events=60_000, random_state=0)
    as_of = data.end - pd.Timedelta(days=60)
    prof = ProfileBuilder.default().build(data.dataset, as_of)
    tags = Tagger(Taxonomy.default(prof)).assign(prof)
    buyers = prof.frame.index[prof.frame["frequency"].notna()]
    return data, as_of, prof, tags, buyers


def test_claims_hold_on_planted_truth(run) -> None:
    data, as_of, prof, tags, buyers = run
    res = validate_tags(tags, data.dataset, as_of, window_days=60, users=buyers, n_boot=300)
    t = res.table.set_index("tag_id")
    assert res.n_users == len(buyers)
    # planted price-sensitive users keep buying at a discount
    assert t.loc["price_sensitive", "outcome"] == "discount_share"
    assert t.loc["price_sensitive", "claim_holds"] and t.loc["price_sensitive", "lift"] > 1.2
    # churn-risk style tags: tagged buyers buy less often in the next window
    for tag in ("lifecycle/churned", "churned"):
        assert t.loc[tag, "lift"] > 1.0 and t.loc[tag, "claim_holds"], tag
    # interests predict category purchases
    level1 = t[t.index.str.fullmatch(r"interest/[a-z_]+")]
    assert len(level1) == 8 and (level1["lift"] > 1.5).all() and level1["claim_holds"].all()
    # small level-2 tags are reported with their uncertainty, not dropped: none holds
    small = t[t.index.str.startswith("interest/") & (t["n_tagged"] < 20)]
    assert len(small) and not small["claim_holds"].any()
    some = small[small["lift"] > 0]
    assert (some["lift_high"] - some["lift_low"] > 1.0).all()
    # intervals bracket the point estimate; coverage is a share
    ok = t["lift"].notna()
    assert (t.loc[ok, "lift_low"] <= t.loc[ok, "lift"]).all()
    assert (t.loc[ok, "lift"] <= t.loc[ok, "lift_high"]).all()
    assert t["coverage"].between(0, 1).all()


def test_deterministic_and_hand_computed() -> None:
    inter = pd.DataFrame({
        "user_id": [1, 2, 3, 4, 1, 3],
        "item_id": [1, 1, 1, 1, 1, 1],
        "timestamp": pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-05", "2024-02-06"]),
        "price": [10.0] * 6,
    })
    ds = Dataset.from_frames(inter)
    ut = UserTags(np.array([[1, 0], [1, 0], [0, 1], [0, 1]]), [1, 2, 3, 4], ["a", "b"])
    res = validate_tags(ut, ds, "2024-02-01", window_days=30,
                        checks={"a": "purchase", "b": "no_purchase"}, n_boot=200)
    t = res.table.set_index("tag_id")
    # 2 of 4 users buy; tag a: 1 of 2 buys -> lift 1; tag b: 1 of 2 does not buy -> lift 1
    assert t.loc["a", "mean_tagged"] == 0.5 and t.loc["a", "mean_all"] == 0.5
    assert t.loc["a", "lift"] == 1.0 and t.loc["b", "lift"] == 1.0
    again = validate_tags(ut, ds, "2024-02-01", window_days=30,
                          checks={"a": "purchase", "b": "no_purchase"}, n_boot=200)
    pd.testing.assert_frame_equal(res.table, again.table)
    out = next_window_outcomes(ds, "2024-02-01", window_days=30)
    assert out["spend"].tolist() == [10.0, 0.0, 10.0, 0.0]


def test_errors(run) -> None:
    data, as_of, _, tags, _ = run
    with pytest.raises(UnknownIdError, match="not in user_tags"):
        validate_tags(tags, data.dataset, as_of, checks={"nope": "purchase"})
    with pytest.raises(InvalidParameterError, match="outcome"):
        validate_tags(tags, data.dataset, as_of, checks={"churn_risk": "happiness"})
    with pytest.raises(InvalidParameterError, match="no check to run"):
        validate_tags(tags, data.dataset, as_of, checks={})
    with pytest.raises(UnknownIdError, match="user id"):
        validate_tags(tags, data.dataset, as_of, users=["not-a-user"])
    with pytest.raises(InvalidParameterError, match="'n_boot' parameter of validate_tags"):
        validate_tags(tags, data.dataset, as_of, n_boot=1)


def test_stability_and_agreement(run) -> None:
    data, as_of, prof, tags, _ = run
    later = ProfileBuilder.default().build(data.dataset, as_of + pd.Timedelta(days=30))
    tags2 = Tagger(Taxonomy.default(later)).assign(later)
    st = tag_stability(tags, tags2).set_index("tag_id")
    assert st["jaccard"].dropna().between(0, 1).all()
    # interests move slowly (time-decayed affinities); lifecycle "new" turns over
    assert st.loc["interest", "jaccard"] > 0.8
    ag = tag_agreement(tags, [("churned", "lifecycle/churned"), ("high_value", "value/rfm_low")])
    assert ag.loc[0, "kappa"] == pytest.approx(1.0)  # parent holds exactly its only child
    assert ag.loc[1, "n_both"] == 0 and ag.loc[1, "kappa"] < 0
    assert set(default_checks(tags.tag_ids)) <= set(tags.tag_ids)


def test_plot(run) -> None:
    import matplotlib

    matplotlib.use("Agg")
    data, as_of, _, tags, buyers = run
    res = validate_tags(tags, data.dataset, as_of, window_days=60, users=buyers, n_boot=50)
    ax = res.plot()
    assert len(ax.patches) == len(res.table)
    ax = res.plot(tags=["price_sensitive", "churned"])
    assert [x.get_text() for x in ax.get_yticklabels()] == [
        "churned -> no_purchase", "price_sensitive -> discount_share"]
    with pytest.raises(UnknownIdError, match="were not validated"):
        res.plot(tags=["basic"])

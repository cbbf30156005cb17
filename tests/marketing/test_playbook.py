"""Tests for persona_rec.marketing.playbook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidParameterError, RuleSyntaxError, UnknownIdError
from persona_rec.marketing.playbook import Playbook, PlaybookRule
from persona_rec.marketing.send_time import SendTimeModel
from persona_rec.tags import UserTags

TAGS = ["churned", "churn_risk", "new_user", "high_value", "price_sensitive", "brand_loyal", "novelty_seeker"]


def _ut():
    #          churned risk new  hv   ps   bl   ns
    m = np.array([
        [1, 0, 0, 1, 0, 0, 0],  # u0: churned beats high value
        [0, 1, 0, 0, 1, 0, 0],  # u1: at risk
        [0, 0, 1, 0, 0, 0, 0],  # u2: new
        [0, 0, 0, 1, 1, 0, 0],  # u3: high value beats price sensitive
        [0, 0, 0, 0, 1, 0, 1],  # u4: price sensitive beats novelty
        [0, 0, 0, 0, 0, 1, 0],  # u5: brand loyal
        [0, 0, 0, 0, 0, 0, 1],  # u6: novelty
        [0, 0, 0, 0, 0, 0, 0],  # u7: nothing
    ], dtype=float)
    return UserTags(sp.csr_matrix(m), [f"u{i}" for i in range(8)], TAGS)


def _shop():
    rng = np.random.default_rng(0)
    n = 400
    inter = pd.DataFrame({
        "user_id": rng.choice([f"u{i}" for i in range(8)], n),
        "item_id": rng.choice([f"i{j}" for j in range(30)], n),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90 * 24, n), "h"),
        "event": "purchase",
    })
    items = pd.DataFrame({"item_id": [f"i{j}" for j in range(30)], "price": np.arange(30) + 1.0,
                          "brand": np.where(np.arange(30) % 2, "acme", "zeta")})
    return Dataset.from_frames(inter, items=items)


def test_default_priorities():
    out = Playbook.default().assign(_ut())
    assert out["tactic"].tolist() == [
        "win_back_offer", "win_back_offer", "first_order_coupon", "membership_perks", "discount",
        "brand_exclusives", "new_arrivals", "recommendations",
    ]
    assert out.loc[7, "rule"] == "(no rule: default)"
    assert "Win-back" in out.loc[0, "description"]
    only = Playbook(Playbook.default().rules, default_tactic=None).assign(_ut())
    assert "u7" not in set(only["user_id"])


def test_config_round_trip_and_segment_rules():
    pb = Playbook.from_dict({"rules": [{"tactic": "vip_gift", "segment": "champions"},
                                       {"tactic": "discount", "expression": "price_sensitive", "items": "cheap"}],
                             "default_tactic": "newsletter"})
    assert Playbook.from_dict(pb.to_dict()).to_dict() == pb.to_dict()
    seg = {"u3": "champions", "u4": "champions"}
    out = pb.assign(_ut(), segments=seg).set_index("user_id")["tactic"]
    assert out["u3"] == "vip_gift" and out["u4"] == "vip_gift" and out["u1"] == "discount"
    assert out["u0"] == "newsletter"
    with pytest.raises(InvalidParameterError, match=r"uses segment 'champions'; pass segments="):
        pb.assign(_ut())


def test_rule_errors():
    with pytest.raises(RuleSyntaxError):
        PlaybookRule("x", "churned &")
    with pytest.raises(InvalidParameterError, match=r"needs an expression or a segment"):
        PlaybookRule("x")
    with pytest.raises(InvalidParameterError, match=r"PlaybookRule.items must be one of .*got 'cheapest'"):
        PlaybookRule("x", "churned", items="cheapest")
    with pytest.raises(UnknownIdError, match=r"unknown tag\(s\): 'vip'"):
        Playbook([PlaybookRule("x", "vip")]).assign(_ut())


def test_plan_has_items_and_send_times():
    from persona_rec.models import PopularRecommender

    ds = _shop()
    model = PopularRecommender().fit(ds)
    stm = SendTimeModel().fit(ds)
    plan = Playbook.default().plan(_ut(), recommender=model, k=3, send_time_model=stm,
                                   campaign_start="2024-06-03 08:30", dataset=ds)
    assert list(plan.columns) == ["user_id", "tactic", "rule", "description", "items", "send_at",
                                  "best_hour", "best_weekday"]
    assert plan["items"].map(len).eq(3).all()
    assert (plan["send_at"] >= pd.Timestamp("2024-06-03 08:30")).all()
    assert (plan["send_at"] < pd.Timestamp("2024-06-10 08:30")).all()
    prices = ds.item_attributes()["price"]
    cheap = plan.set_index("user_id").loc["u4", "items"]
    assert (prices[cheap] <= prices.median()).all()
    # win-back users may get items they bought before; others not
    seen = ds.interactions.groupby("user_id")["item_id"].agg(set)
    assert not set(plan.set_index("user_id").loc["u3", "items"]) & seen["u3"]
    sub = Playbook.default().plan(_ut(), user_ids=["u6", "u2"])
    assert sub["user_id"].tolist() == ["u6", "u2"] and sub["items"].map(len).eq(0).all()
    with pytest.raises(InvalidParameterError, match=r"'campaign_start' parameter is needed"):
        Playbook.default().plan(_ut(), send_time_model=stm)

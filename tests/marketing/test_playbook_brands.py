"""Brand-exclusive plans match the profile's brand slug against the item brands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_rec.dataset import Dataset
from persona_rec.marketing.playbook import Playbook
from persona_rec.models import PopularRecommender
from persona_rec.profiles import ProfileBuilder
from persona_rec.tags import UserTags


def test_brand_loyal_user_gets_items_of_their_brand() -> None:
    items = pd.DataFrame({
        "item_id": [f"i{j}" for j in range(12)],
        "brand": ["Acme Co."] * 6 + ["Zeta Home"] * 6,  # display names; profiles hold slugs
    })
    rows = [("fan", f"i{j}", d) for d, j in enumerate([0, 1, 2, 3, 0, 1])]  # the fan buys Acme only
    rows += [(f"o{u}", f"i{j}", u + j) for u in range(6) for j in range(6, 12)]  # Zeta is popular
    rows += [("o0", "i4", 1), ("o1", "i5", 2)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "day"])
    inter["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(inter.pop("day"), "D")
    inter["event"] = "purchase"
    ds = Dataset.from_frames(inter, items=items)
    profiles = ProfileBuilder.default().build(ds)
    assert profiles.frame.loc["fan", "top_brand"] == "acme_co"
    tag_ids = ["churned", "churn_risk", "new_user", "high_value", "price_sensitive", "brand_loyal",
               "novelty_seeker"]
    tags = UserTags(sp.csr_matrix(np.array([[0, 0, 0, 0, 0, 1.0, 0]])), ["fan"], tag_ids)
    model = PopularRecommender().fit(ds)
    assert set(model.recommend(["fan"], k=3)["item_id"]) <= {f"i{j}" for j in range(6, 12)}
    plan = Playbook.default().plan(tags, recommender=model, k=3, dataset=ds, profiles=profiles)
    assert plan.loc[0, "tactic"] == "brand_exclusives"
    # the unseen Acme items, not the popular Zeta ones
    assert sorted(plan.loc[0, "items"]) == ["i4", "i5"]

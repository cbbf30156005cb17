"""ALSFeaturesRecommender: ALS for hot users, ridge-mapped factors for warm users and new items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.sample_data import synthetic
from persona_rec.exceptions import InvalidParameterError
from persona_rec.models import ALSRecommender
from persona_rec.models.als_features import ALSFeaturesRecommender

from .conftest import block_of  # type: ignore[import-not-found]


def test_hot_users_keep_plain_als_factors(block_dataset: Dataset) -> None:
    params = dict(factors=8, iterations=5, random_state=3)
    plain = ALSRecommender(**params).fit(block_dataset)
    hybrid = ALSFeaturesRecommender(**params).fit(block_dataset)
    hot = block_dataset.hot_user_mask()
    np.testing.assert_array_equal(plain.user_factors_[hot], hybrid.user_factors_[hot])
    ids = ["u0_0", "u1_3", "u2_7"]
    pd.testing.assert_frame_equal(
        plain.recommend(ids, k=5).drop(columns=Columns.SOURCE),
        hybrid.recommend(ids, k=5).drop(columns=Columns.SOURCE),
    )


def test_warm_users_get_mapped_factors(block_dataset: Dataset) -> None:
    model = ALSFeaturesRecommender(factors=16, iterations=10, random_state=0).fit(block_dataset)
    warm = [f"w{b}_{j}" for b in range(4) for j in range(3)]
    rec = model.recommend(warm, k=5)
    assert set(rec[Columns.USER]) == set(warm)
    share = (block_of(rec[Columns.USER]) == block_of(rec[Columns.ITEM])).mean()
    assert share > 0.8
    # the stored mapping reproduces the warm factors
    idx = block_dataset.user_map.to_internal(warm)
    names = model.user_feature_names_.tolist()
    region = np.array([[1.0 if n == f"region=r{b}" else 0.0 for n in names] for b in
                       block_of(warm)])
    np.testing.assert_allclose(model.user_factors_[idx],
                               region @ model.user_coef_ + model.user_intercept_, rtol=1e-4,
                               atol=1e-5)


def test_new_items_get_mapped_factors(block_frames: Any) -> None:
    inter, users, items = block_frames
    new = pd.DataFrame({"item_id": ["new_b1"], "category": ["Block1 > Sub2"],
                        "brand": ["brand1"], "price": [12.0], "in_stock": [True]})
    ds = Dataset.from_frames(inter, users=users, items=pd.concat([items, new]))
    model = ALSFeaturesRecommender(factors=16, iterations=10, random_state=0).fit(ds)
    assert model.served_items_[ds.item_map.to_internal(["new_b1"])[0]]
    block1 = [f"u1_{j}" for j in range(20)]
    rec = model.recommend(block1, k=4, items=["new_b1", "i0_1", "i2_1", "i3_1"])
    assert (rec[rec[Columns.RANK] == 1][Columns.ITEM] == "new_b1").mean() > 0.8
    plain = ALSFeaturesRecommender(factors=8, iterations=3, item_features=False).fit(ds)
    assert "new_b1" not in set(plain.recommend(block1, k=100)[Columns.ITEM])


def test_attribute_only_users_on_synthetic() -> None:
    """Users whose history is hidden are served from their demographics (planted segments)."""
    sd = synthetic(n_users=600, n_items=200, n_events=25_000, random_state=2)
    ds = sd.dataset
    hot = ds.user_map.external_ids[ds.hot_user_mask()]
    hidden = np.random.default_rng(0).choice(hot, 80, replace=False)
    train = ds.filter_users(hidden, keep=False)
    model = ALSFeaturesRecommender(factors=16, random_state=0, include_sensitive=True).fit(train)
    rec = model.recommend(hidden, k=10)
    seg_u = sd.user_truth.loc[rec[Columns.USER], "segment"].to_numpy()
    seg_i = sd.item_truth.loc[rec[Columns.ITEM], "segment_affinity"].to_numpy()
    chance = (sd.user_truth.loc[hidden, "segment"].to_numpy()[:, None]
              == sd.item_truth["segment_affinity"].to_numpy()[None, :]).mean()
    assert (seg_u == seg_i).mean() > chance + 0.2


def test_profile_features(block_dataset: Dataset, block_profiles: Any) -> None:
    model = ALSFeaturesRecommender(factors=8, iterations=3).fit(block_dataset, block_profiles)
    assert any(n.startswith("profile:") for n in model.user_feature_names_.tolist())
    with pytest.raises(InvalidParameterError, match="needs profiles"):
        ALSFeaturesRecommender(user_features="affinities").fit(block_dataset)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ridge_alpha": 0}, "'ridge_alpha'.*> 0"),
        ({"user_features": "everything"}, "'user_features'"),
        ({"item_features": "yes"}, "'item_features'.*bool"),
        ({"factors": 0}, "'factors'.*>= 1"),
    ],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ALSFeaturesRecommender(**kwargs)


def test_defaults_follow_als() -> None:
    als = ALSRecommender().get_params()
    mine = ALSFeaturesRecommender().get_params()
    assert {k: mine[k] for k in als} == als


def test_explain_warm_rows(block_dataset: Dataset) -> None:
    model = ALSFeaturesRecommender(factors=16, iterations=10, random_state=0).fit(block_dataset)
    rec = model.recommend(["w1_0", "w3_2", "u0_0"], k=2)
    exp = model.explain(rec)
    warm = exp[exp[Columns.USER].str.startswith("w")]
    assert [t.split("; ")[0] for t in warm["top_features"]] == ["region=r1"] * 2 + ["region=r3"] * 2
    assert (exp[exp[Columns.USER] == "u0_0"]["top_features"] == "").all()

"""PersonaRecommender: modes, blend tuning, fallback chain, explanations, planted structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from persona_rec import Dataset, PersonaRecommender
from persona_rec.datasets import synthetic
from persona_rec.exceptions import InvalidParameterError, NotFittedError
from persona_rec.models._trees import TreeEnsemble


@pytest.fixture(scope="module")
def shop():
    return synthetic(n_users=400, n_items=150, n_events=30_000, random_state=1)


@pytest.fixture(scope="module")
def fitted(shop):
    return PersonaRecommender(random_state=0, ranker_iterations=40).fit(shop.dataset)


def test_tree_ensemble_matches_sklearn_with_missing_values(rng):
    x = rng.normal(size=(2000, 5))
    x[rng.random(x.shape) < 0.15] = np.nan
    y = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) ** 2 + rng.normal(size=2000) > 0.8
    clf = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    ens = TreeEnsemble.from_sklearn(clf)
    np.testing.assert_allclose(ens.predict_proba(x), clf.predict_proba(x)[:, 1], atol=1e-12)
    again = TreeEnsemble.from_arrays(ens.to_arrays())
    np.testing.assert_array_equal(again.decision_function(x), ens.decision_function(x))


def test_purchase_log_mode_and_blend(fitted):
    assert fitted.mode_ == "purchase_log"
    assert fitted.validation_["windows"] == 3
    assert fitted.validation_["positives"] > 0
    assert fitted.alpha_all_ in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert set(fitted.validation_["ndcg_by_alpha_all"]) == {"0.0", "0.25", "0.5", "0.75", "1.0"}


def test_sources_follow_user_state(fitted, shop):
    ds = shop.dataset
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:3]
    warm = ds.user_map.external_ids[~ds.hot_user_mask()][:2]
    assert len(warm) == 2
    reco = fitted.recommend([*hot, *warm, "never-seen"], k=5, on_unknown="fallback")
    src = reco.groupby("user_id")["source"].first()
    assert set(src.loc[list(hot)]) == {"persona:ranker"}
    assert set(src.loc[list(warm)]) == {"persona:attributes"}
    assert src.loc["never-seen"] == "persona:popular"
    assert (reco.groupby("user_id").size() == 5).all()


def test_repeats_only_when_asked(fitted, shop):
    ds = shop.dataset
    users = ds.user_map.external_ids[ds.hot_user_mask()][:50]
    seen = ds.interactions.groupby("user_id")["item_id"].apply(set)
    new = fitted.recommend(users, k=10, filter_seen=True)
    assert not any(i in seen[u] for u, i in zip(new["user_id"], new["item_id"]))
    again = fitted.recommend(users, k=10, filter_seen=False)
    repeats = np.mean([i in seen[u] for u, i in zip(again["user_id"], again["item_id"])])
    assert repeats > 0.3  # the ranker learned that people buy the same things again


def test_planted_segments_drive_recommendations(fitted, shop):
    """Each user's new top items come mostly from its planted segment's categories."""
    ds = shop.dataset
    truth = shop.user_truth
    items = ds.items.set_index("item_id")
    item_seg = shop.item_truth["segment_affinity"]
    users = ds.user_map.external_ids[ds.hot_user_mask()]
    users = [u for u in users if u in truth.index][:150]
    reco = fitted.recommend(users, k=5, filter_seen=True)
    match = (reco["item_id"].map(item_seg).to_numpy()
             == truth.loc[reco["user_id"], "segment"].to_numpy())
    base = (item_seg.value_counts(normalize=True) ** 2).sum()  # chance agreement
    assert len(items) and match.mean() > max(0.6, 2 * base)


def test_explanations(fitted, shop):
    ds = shop.dataset
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.tags import Tagger, Taxonomy

    profiles = ProfileBuilder.default().build(ds)
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:5]
    reco = fitted.recommend([*hot, "never-seen"], k=4, filter_seen=False,
                            on_unknown="fallback")
    out = fitted.explain(reco, user_tags=tags, item_names=ds.items.set_index("item_id")["title"])
    assert {"reason", "tags"} <= set(out.columns)
    hot_rows = out[out["source"] == "persona:ranker"]
    assert hot_rows["reason"].str.match(r"^(bought/used again|goes with|popular)").all()
    assert hot_rows["reason"].str.startswith("bought/used again").any()
    assert (out.loc[out["user_id"] == "never-seen", "reason"] == "popular right now").all()
    assert hot_rows["tags"].str.len().gt(0).any()
    with pytest.raises(NotFittedError, match="not fitted"):
        PersonaRecommender().explain(reco)


def test_ratings_mode_recovers_blocks(rng):
    """Ratings-like data (no repeats): per-user temporal labels; top items stay in the block."""
    n_users = 120
    user = np.repeat(np.arange(n_users), 15)
    block = user % 4
    item = block * 30 + rng.integers(0, 30, len(user))
    frame = pd.DataFrame({"user_id": user, "item_id": item,
                          "timestamp": rng.integers(0, 10**6, len(user))})
    frame = frame.drop_duplicates(["user_id", "item_id"])
    model = PersonaRecommender(random_state=0, ranker_iterations=20).fit(
        Dataset.from_frames(frame))
    assert model.mode_ == "ratings"
    top = model.recommend(np.arange(n_users), k=3)
    assert ((top["item_id"] // 30) == (top["user_id"] % 4)).mean() > 0.9


def test_bad_parameters_and_dataset_argument(fitted, shop):
    with pytest.raises(InvalidParameterError, match="'n_candidates' parameter of PersonaRecommender"):
        PersonaRecommender(n_candidates=0)
    with pytest.raises(InvalidParameterError, match="'holdout_fraction'.*got 1.5"):
        PersonaRecommender(holdout_fraction=1.5)
    with pytest.raises(InvalidParameterError, match="'use_sensitive'.*must be a bool"):
        PersonaRecommender(use_sensitive="yes")
    hot = shop.dataset.user_map.external_ids[:1]
    with pytest.raises(InvalidParameterError, match="refit it on the newer Dataset"):
        fitted.recommend(hot, k=3, dataset=shop.dataset)


def test_too_little_history_is_a_clear_error():
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(InvalidParameterError, match="could not build an internal validation split"):
        PersonaRecommender().fit(Dataset.from_frames(frame))

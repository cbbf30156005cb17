"""PersonaRecommender: the zero-configuration two-stage preset with its fallback chain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset, PersonaRecommender
from persona_rec.sample_data import synthetic
from persona_rec.exceptions import EmptyInputError, InvalidParameterError, NotFittedError
from persona_rec.models import Recommender


@pytest.fixture(scope="module")
def shop():
    return synthetic(n_users=400, n_items=150, n_events=30_000, random_state=1)


@pytest.fixture(scope="module")
def fitted(shop):
    return PersonaRecommender(random_state=0, tune_generators=False).fit(shop.dataset)


def test_plan_follows_the_data(fitted):
    assert fitted.data_kind_["purchase_log"]
    assert set(fitted.ranker_.generator_names_) == {"als", "ease", "item_knn", "repurchase",
                                                    "buy_again", "recent_popular"}
    assert set(fitted.ranker_.choice_) == {"all", "new"}
    assert fitted.feature_sets_ == ["history", "user", "item", "profile_fit"]
    for task, scores in fitted.ranker_.guard_.items():
        served = fitted.ranker_.choice_[task]
        assert scores[served] == max(scores.values())  # the guard serves the best
    assert fitted.ranker_.validation_["kind"] == "time_window"


def test_ease_is_skipped_on_large_catalogues(shop):
    gens, plan = PersonaRecommender(max_ease_items=100).generator_plan(shop.dataset)
    assert "ease" not in [g.name for g in gens]
    assert plan["ease"].startswith("skipped: 150 active items > max_ease_items=100")


def test_sources_follow_user_state(fitted, shop):
    ds = shop.dataset
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:3]
    warm = ds.user_map.external_ids[~ds.hot_user_mask()][:2]
    assert len(warm) == 2
    reco = fitted.recommend([*hot, *warm, "never-seen"], k=5, on_unknown="fallback")
    src = reco.groupby("user_id")["source"].first()
    assert set(src.loc[list(hot)]) == {"persona:ranker"}
    assert set(src.loc[list(warm)]) <= {"persona:attributes", "persona:segment"}
    assert src.loc["never-seen"] == "persona:popular"
    assert (reco.groupby("user_id").size() == 5).all()
    assert fitted.warm_guard_ and max(fitted.warm_guard_.values()) > 0


def test_repeats_only_when_asked(fitted, shop):
    ds = shop.dataset
    users = ds.user_map.external_ids[ds.hot_user_mask()][:50]
    seen = ds.interactions.groupby("user_id")["item_id"].apply(set)
    new = fitted.recommend(users, k=10, filter_seen=True)
    assert not any(i in seen[u] for u, i in zip(new["user_id"], new["item_id"]))
    again = fitted.recommend(users, k=10, filter_seen=False)
    repeats = np.mean([i in seen[u] for u, i in zip(again["user_id"], again["item_id"])])
    assert repeats > 0.3  # people buy the same things again


def test_planted_segments_drive_recommendations(fitted, shop):
    """Each user's new top items come mostly from its planted segment's categories."""
    ds = shop.dataset
    truth = shop.user_truth
    item_seg = shop.item_truth["segment_affinity"]
    users = ds.user_map.external_ids[ds.hot_user_mask()]
    users = [u for u in users if u in truth.index][:150]
    reco = fitted.recommend(users, k=5, filter_seen=True)
    match = (reco["item_id"].map(item_seg).to_numpy()
             == truth.loc[reco["user_id"], "segment"].to_numpy())
    base = (item_seg.value_counts(normalize=True) ** 2).sum()  # chance agreement
    assert match.mean() > max(0.6, 2 * base)


def test_explanations(fitted, shop):
    ds = shop.dataset
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.tags import Tagger, Taxonomy

    profiles = ProfileBuilder.default().build(ds)
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:5]
    reco = fitted.recommend([*hot, "never-seen"], k=4, filter_seen=False,
                            on_unknown="fallback")
    out = fitted.explain(reco, user_tags=tags, filter_seen=False)
    assert {"reason", "tags", "proposed_by", "top_features"} <= set(out.columns)
    hot_rows = out[out["source"] == "persona:ranker"]
    assert hot_rows["reason"].str.match(r"^(in your history|suggested by|popular)").all()
    assert hot_rows["proposed_by"].str.len().gt(0).all()
    assert (out.loc[out["user_id"] == "never-seen", "reason"] == "popular right now").all()
    assert hot_rows["tags"].str.len().gt(0).any()
    with pytest.raises(NotFittedError, match="not fitted"):
        PersonaRecommender().explain(reco)


def test_ties_in_time_use_a_random_holdout(rng):
    """Every timestamp equal (an export with one date): no time split, still blocks."""
    n_users = 160
    user = np.repeat(np.arange(n_users), 15)
    block = user % 4
    item = block * 30 + rng.integers(0, 30, len(user))
    frame = pd.DataFrame({"user_id": user, "item_id": item,
                          "timestamp": pd.Timestamp("2024-05-01")})
    frame = frame.drop_duplicates(["user_id", "item_id"])
    model = PersonaRecommender(random_state=0, tune_generators=False).fit(
        Dataset.from_frames(frame))
    assert not model.data_kind_["time_informative"]
    assert model.ranker_.validation_["kind"] == "random_holdout"
    assert "popular" in model.ranker_.generator_names_  # all-time, not "recent"
    top = model.recommend(np.arange(n_users), k=3)
    assert ((top["item_id"] // 30) == (top["user_id"] % 4)).mean() > 0.9


def test_bad_parameters_and_dataset_argument(fitted, shop):
    with pytest.raises(InvalidParameterError, match="'n_candidates' parameter of PersonaRecommender"):
        PersonaRecommender(n_candidates=0)
    with pytest.raises(InvalidParameterError, match="'validation' parameter.*got 'weekly'"):
        PersonaRecommender(validation="weekly")
    with pytest.raises(InvalidParameterError, match="'use_sensitive'.*must be a bool"):
        PersonaRecommender(use_sensitive="yes")
    with pytest.raises(InvalidParameterError, match="unknown name.*'genres'"):
        PersonaRecommender(feature_sets=["history", "genres"])
    hot = shop.dataset.user_map.external_ids[:1]
    with pytest.raises(InvalidParameterError, match="refit it on the newer Dataset"):
        fitted.recommend(hot, k=3, dataset=shop.dataset)


def test_refit_reranker_reaches_the_two_stage_model(shop):
    """refit_reranker=True serves one refitted reranker per served task instead of the fold average."""
    with pytest.raises(InvalidParameterError, match="'refit_reranker'.*must be a bool"):
        PersonaRecommender(refit_reranker="yes")
    model = PersonaRecommender(random_state=0, tune_generators=False, refit_reranker=True)
    model.fit(shop.dataset)
    ranker = model.ranker_
    assert ranker.refit_reranker is True
    served = [t for t, c in ranker.choice_.items() if c == "rerank"]
    assert served and all(len(ranker._rankers[t]) == 1 for t in served)
    users = shop.dataset.user_map.external_ids[:20]
    reco = model.recommend(users, k=5)
    assert reco.groupby("user_id").size().max() == 5
    assert PersonaRecommender(**model.get_params()).refit_reranker is True


def test_too_little_history_is_a_clear_error():
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(EmptyInputError, match="no user has enough interactions"):
        PersonaRecommender().fit(Dataset.from_frames(frame))


def test_explicit_recommend_signature():
    import inspect

    params = inspect.signature(PersonaRecommender.recommend).parameters
    assert "kwargs" not in params
    assert list(params)[:3] == ["self", "user_ids", "k"]
    assert set(inspect.signature(Recommender.recommend).parameters) == set(params)


def test_social_graph_adds_a_bought_by_people_you_follow_generator(tmp_path):
    from persona_rec.sample_data.social import synthetic_social
    from persona_rec.exceptions import InvalidDtypeError
    from persona_rec.models import SocialRecommender
    from persona_rec.social import SocialGraph

    data = synthetic_social(500, 120, 8_000, adoption_rate=0.3, random_state=3)
    graph = SocialGraph.from_edges(data.edges)
    model = PersonaRecommender(random_state=0, tune_generators=False, n_candidates=20)
    model.fit(data.dataset, social_graph=graph)
    ranker = model.ranker_
    assert "social" in model.generators_plan_
    assert "social" in ranker.generator_names_
    social = ranker.generators_[ranker.generator_names_.index("social")]
    assert isinstance(social, SocialRecommender) and social.followees_.nnz > 0
    assert "social" in ranker.guard_["new"]
    assert "social:score" in ranker.feature_names_
    # the social generator proposes candidates: some served rows name it
    users = data.dataset.user_map.external_ids[data.dataset.hot_user_mask()][:80]
    reco = model.recommend(users, k=10)
    why = model.explain(reco)
    assert why["proposed_by"].str.contains("social").any()
    # saved and loaded without the graph: the same lists
    path = tmp_path / "persona_social.npz"
    model.save(path)
    again = PersonaRecommender.load(path)
    pd.testing.assert_frame_equal(again.recommend(users, k=10), reco)
    # a clone keeps the graph for its generator (refit works)
    clone = ranker.clone()
    assert clone.generators[-1].fit_params["graph"] is graph
    with pytest.raises(InvalidDtypeError, match="social_graph"):
        PersonaRecommender().fit(data.dataset, social_graph=data.edges)


def test_recent_events_reach_every_stage(fitted, shop):
    """recommend(..., recent_events=): the chain, the generators and the reranker's features."""
    ds = shop.dataset
    rng = np.random.default_rng(0)
    hot = list(ds.user_map.external_ids[ds.hot_user_mask()][:20])
    warm = list(ds.user_map.external_ids[~ds.hot_user_mask()][:1])
    users = hot + warm + ["visitor"]
    bought = ds.item_map.external_ids[rng.choice(ds.n_items, len(users))]
    ev = pd.DataFrame({"user_id": users, "item_id": bought, "event": "purchase",
                       "timestamp": ds.time_range[1] + pd.Timedelta(hours=1)})
    plain = fitted.recommend(users, k=10, on_unknown="fallback")
    got = fitted.recommend(users, k=10, on_unknown="fallback", recent_events=ev)
    # a warm user and a visitor with a purchase are served by the ranker now
    assert set(got["source"]) == {"persona:ranker"}
    assert not set(zip(ev["user_id"], ev["item_id"])) & set(zip(got["user_id"], got["item_id"]))
    changed = sum(plain[plain.user_id == u].item_id.tolist()
                  != got[got.user_id == u].item_id.tolist() for u in hot)
    assert changed >= 10
    pd.testing.assert_frame_equal(fitted.recommend(users, k=10, on_unknown="fallback"), plain)


def test_explain_leaves_sensitive_tags_out_unless_asked(fitted, shop):
    """A shop may flag an interest as sensitive (here: books); explanations must not name it."""
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.tags import Tagger, Taxonomy

    ds = shop.dataset
    profiles = ProfileBuilder.default().build(ds)
    tax = Taxonomy([
        {"id": "interest", "layer": "interest"},
        {"id": "interest/grocery", "parent": "interest",
         "rule": "affinity('category_l1', 'grocery') > 0"},
        {"id": "interest/books", "parent": "interest", "sensitive": True,
         "rule": "affinity('category_l1', 'books') > 0"},
    ])
    tags = Tagger(tax).assign(profiles)
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:40]
    reco = fitted.recommend(list(hot), k=10, filter_seen=False)
    shown = fitted.explain(reco, user_tags=tags, filter_seen=False, include_sensitive=True)
    assert shown["tags"].str.contains("interest/books").any()  # the case exists
    out = fitted.explain(reco, user_tags=tags, filter_seen=False)
    assert not out["tags"].str.contains("interest/books").any()
    assert out["tags"].str.contains("interest/grocery").any()


def test_explain_validates_its_recommendations_argument(fitted):
    from persona_rec.exceptions import InvalidDtypeError, MissingColumnError

    with pytest.raises(InvalidDtypeError, match="recommendations must be a pandas.DataFrame, got list"):
        fitted.explain([1, 2, 3])
    with pytest.raises(MissingColumnError, match=r"recommendations is missing column\(s\) \['item_id'\]"):
        fitted.explain(pd.DataFrame({"user_id": [1]}))

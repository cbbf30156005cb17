"""Two-stage pipeline units: data description, internal split, generators, feature sets,
rerankers, the guard, persistence and concurrent serving."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from persona_rec import Dataset
from persona_rec.sample_data import synthetic
from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    NotFittedError,
)
from persona_rec.models import (
    BuyAgainRecommender,
    ItemKNNRecommender,
    PopularRecommender,
    Recommender,
    RepurchaseRecommender,
)
from persona_rec.models.ranking import (
    RERANK,
    CandidateGenerator,
    CandidateRankingModel,
    FeatureContext,
    HistoryFeatures,
    ItemFeatures,
    LGBMReranker,
    ProfileFitFeatures,
    SklearnReranker,
    TagFeatures,
    UserFeatures,
    data_kind,
    internal_split,
    make_feature_sets,
)
from persona_rec.models._topk import topk, topk_sparse
from persona_rec.models.ranking.generators import ndcg_per_row, top_n


@pytest.fixture(scope="module")
def shop():
    return synthetic(n_users=300, n_items=120, n_events=15_000, random_state=2)


def _gens(n=30):
    return [CandidateGenerator(ItemKNNRecommender(), n),
            CandidateGenerator(PopularRecommender(), n)]


@pytest.fixture(scope="module")
def two_stage(shop):
    return CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=40)).fit(
        shop.dataset)


@pytest.fixture(scope="module")
def reranked(shop):
    """A two-stage model that always serves its reranker (guard off)."""
    return CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=40),
                                 guard=False).fit(shop.dataset)


# ------------------------------------------------------------- data description
def test_data_kind_ties_and_repeats():
    ts = pd.Timestamp("2024-01-01")
    ev = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": list("abab" "a"), "timestamp": ts})
    kind = data_kind(Dataset.from_frames(ev))
    assert not kind["time_informative"]
    assert kind["repeat_share"] == 0.0 and not kind["purchase_log"]
    ev = pd.DataFrame({"user_id": [1] * 20, "item_id": ["a", "b"] * 10,
                       "timestamp": pd.date_range("2024-01-01", periods=20, freq="D")})
    kind = data_kind(Dataset.from_frames(ev))
    assert kind["time_informative"] and kind["purchase_log"] and kind["repeat_share"] == 1.0


def test_random_holdout_invariants(rng):
    n = 60
    user = np.repeat(np.arange(n), 10)
    item = (user * 7 + np.tile(np.arange(10), n)) % 50
    ev = pd.DataFrame({"user_id": user, "item_id": item, "timestamp": pd.Timestamp("2024-01-01")})
    ds = Dataset.from_frames(ev)
    sp_ = internal_split(ds, random_state=3)
    assert sp_.kind == "random_holdout" and sp_.info["reason"].startswith("timestamps are not")
    hist = sp_.history.get_user_item_matrix(binary=True)
    lu, li = np.divmod(sp_.label_keys, ds.n_items)
    assert np.asarray(hist[lu, li]).ravel().sum() == 0  # labels never in history
    assert np.all(np.bincount(lu, minlength=n) == 2)  # 20% of 10 items per user
    assert sp_.history.n_interactions + len(sp_.label_keys) == ds.n_interactions
    again = internal_split(ds, random_state=3)
    np.testing.assert_array_equal(again.label_keys, sp_.label_keys)
    small = internal_split(ds, random_state=3, max_users=10)
    assert len(small.users) == 10 and set(small.label_keys // ds.n_items) == set(small.users)


def test_time_window_split(shop):
    ds = shop.dataset
    sp_ = internal_split(ds, window_days=30)
    assert sp_.kind == "time_window"
    hist_ts = sp_.history.internal_interactions["timestamp"].to_numpy()
    assert hist_ts.max() < sp_.as_of
    hist_users = sp_.history.hot_user_mask()
    assert hist_users[sp_.users].all()  # label users have history


# ----------------------------------------------------------------- generators
def test_top_n_orders_and_breaks_ties_by_index():
    s = np.array([[0.1, 0.9, 0.9, -np.inf], [np.inf * -1, 0.2, 0.3, 0.1]])
    r, c = top_n(s, 3)
    assert r.tolist() == [0, 0, 0, 1, 1, 1]
    assert c.tolist() == [1, 2, 0, 2, 1, 3]


def test_ndcg_per_row_matches_definition():
    rows = np.array([0, 0, 1, 1])
    hits = np.array([False, True, True, False])
    nd = ndcg_per_row(rows, hits, 3, np.array([1, 2, 0]), k=10)
    assert nd[0] == pytest.approx((1 / np.log2(3)) / 1.0)
    assert nd[1] == pytest.approx(1.0 / (1.0 + 1 / np.log2(3)))
    assert np.isnan(nd[2])


def test_generator_validation():
    with pytest.raises(InvalidDtypeError, match="must be a persona_rec Recommender"):
        CandidateGenerator("als")
    with pytest.raises(InvalidParameterError, match=r"unknown\s+parameter\(s\) \['factors'\]"):
        CandidateGenerator(PopularRecommender(), param_grid=[{"factors": 3}])
    from persona_rec.models import AttributeRecommender

    with pytest.raises(InvalidParameterError, match="serves_hot=False"):
        CandidateGenerator(AttributeRecommender())
    with pytest.raises(InvalidParameterError, match="names must be unique"):
        CandidateRankingModel([CandidateGenerator(PopularRecommender()),
                               CandidateGenerator(PopularRecommender(window_days=3))])


# --------------------------------------------------------------- feature sets
@pytest.fixture(scope="module")
def tiny():
    ev = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2, 3],
        "item_id": ["a", "a", "b", "a", "c", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05", "2024-01-02",
                                     "2024-01-03", "2024-01-20"]),
        "event": "purchase", "quantity": 1, "price": [2.0, 2.0, 10.0, 2.0, 5.0, 5.0],
    })
    items = pd.DataFrame({"item_id": ["a", "b", "c"],
                          "category": ["Home > Kitchen", "Home > Decor", "Toys"]})
    ds = Dataset.from_frames(ev, items=items)
    ctx = FeatureContext(ds, np.datetime64("2024-01-21"), time_informative=True)
    return ds, ctx


def _pairs(ds, pairs):
    u = ds.user_map.to_internal([p[0] for p in pairs])
    i = ds.item_map.to_internal([p[1] for p in pairs])
    return u, i


def test_history_features_exact(tiny):
    ds, ctx = tiny
    fs = HistoryFeatures()
    names, x = fs.transform(fs.state(ctx), *_pairs(ds, [(1, "a"), (1, "c"), (2, "c")]))
    f = dict(zip(names, x.T))
    assert f["occasions"].tolist() == [2, 0, 1]
    assert f["seen"].tolist() == [1, 0, 1]
    assert f["days_since_last"][0] == pytest.approx(10.0)  # Jan 11 -> Jan 21
    assert f["days_since_first"][0] == pytest.approx(20.0)
    assert f["interval"][0] == pytest.approx(10.0)
    assert f["due"][0] == pytest.approx(1.0)
    assert np.isnan(f["days_since_last"][1])
    # ties in time: time features are NaN, counts stay
    flat = FeatureContext(ds, np.datetime64("2024-01-21"), time_informative=False)
    names, x = fs.transform(fs.state(flat), *_pairs(ds, [(1, "a")]))
    f = dict(zip(names, x.T))
    assert f["occasions"][0] == 2 and np.isnan(f["days_since_last"][0])


def test_user_and_item_features(tiny):
    ds, ctx = tiny
    names, x = UserFeatures().transform(UserFeatures().state(ctx), *_pairs(ds, [(1, "a")]))
    f = dict(zip(names, x[0]))
    assert f["u_occasions"] == 3 and f["u_items"] == 2 and f["u_days_since_last"] == 10.0
    names, x = ItemFeatures().transform(ItemFeatures().state(ctx),
                                        *_pairs(ds, [(1, "a"), (1, "c")]))
    f = dict(zip(names, x.T))
    assert np.expm1(f["i_users"]).round().tolist() == [2, 2]
    assert f["i_repeat_rate"].tolist() == [0.5, 0.0]  # user 1 bought "a" on two days
    assert np.expm1(f["i_price"]).round(6).tolist() == [2.0, 5.0]


def test_profile_fit_uses_the_profile_affinities(tiny):
    ds, ctx = tiny
    fs = ProfileFitFeatures()
    st = fs.state(ctx)
    u, i = _pairs(ds, [(1, "b"), (1, "c"), (3, "c")])
    names, x = fs.transform(st, u, i)
    f = dict(zip(names, x.T))
    aff, cats = ctx.profiles.affinities["category_l1"]
    home = cats.index("home")
    assert f["fit_category_l1"][0] == pytest.approx(aff[u[0], home])
    assert f["fit_category_l1"][1] == 0.0 and f["fit_category_l1"][2] == pytest.approx(1.0)
    assert f["fit_price_ratio"][2] == pytest.approx(0.0)  # user 3 pays what "c" costs


def test_tag_features_interest_match(tiny):
    ds, ctx = tiny
    fs = TagFeatures()
    names, x = fs.transform(fs.state(ctx), *_pairs(ds, [(3, "c"), (3, "a")]))
    f = dict(zip(names, x.T))
    assert f["tag_interest_match"].tolist() == [1.0, 0.0]  # user 3 only buys toys


def test_make_feature_sets_errors():
    with pytest.raises(InvalidParameterError, match="unknown name"):
        make_feature_sets(["history", "nope"])
    with pytest.raises(InvalidParameterError, match="sequence of names"):
        make_feature_sets("history")


# ------------------------------------------------------------------ rerankers
def test_lgbm_reranker_text_round_trip_and_objectives(rng):
    X = rng.normal(size=(600, 4))
    y = (X[:, 1] + 0.3 * rng.normal(size=600) > 0.8).astype(int)
    group = np.repeat(np.arange(60), 10)
    for objective in ("binary", "lambdarank"):
        r = LGBMReranker(objective=objective, n_estimators=30, min_child_samples=5).fit(
            X, y, group)
        assert np.corrcoef(r.predict(X), X[:, 1])[0, 1] > 0.5
        again = LGBMReranker.from_text(r.to_text())
        np.testing.assert_allclose(again.predict(X), r.predict(X))
        assert r.contributions(X).shape == (600, 5)
    with pytest.raises(NotFittedError):
        LGBMReranker().predict(X)
    with pytest.raises(InvalidParameterError, match="'objective'"):
        LGBMReranker(objective="poisson")


def test_sklearn_reranker_and_its_errors():
    with pytest.raises(InvalidDtypeError, match="must have fit"):
        SklearnReranker(object())
    with pytest.raises(InvalidParameterError, match="one class only"):
        SklearnReranker(LogisticRegression()).fit(np.zeros((4, 1)), np.zeros(4), np.zeros(4))


# ----------------------------------------------------------------------- guard
def test_guard_serves_the_generator_when_the_reranker_is_noise(shop):
    """A reranker that orders candidates at random must lose to the generators."""
    noise = SklearnReranker(DummyClassifier(strategy="uniform", random_state=0))
    model = CandidateRankingModel(_gens(), reranker=noise).fit(shop.dataset)
    for task, scores in model.guard_.items():
        assert scores[RERANK] < max(v for k, v in scores.items() if k != RERANK)
        assert model.choice_[task] != RERANK
    # the served lists are exactly the chosen generator's
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:20]
    chosen = model.choice_["new"]
    gen = model.generators_[model.generator_names_.index(chosen)]
    a = model.recommend(users, k=5)
    b = gen.recommend(users, k=5)
    assert a["item_id"].tolist() == b["item_id"].tolist()
    unguarded = CandidateRankingModel(_gens(), reranker=noise, guard=False).fit(shop.dataset)
    assert set(unguarded.choice_.values()) == {RERANK}


def test_two_stage_recommends_and_records(two_stage, shop):
    m = two_stage
    assert m.validation_["kind"] == "time_window" and m.validation_["purchase_log"]
    assert set(m.guard_) == {"all", "new"}
    assert m.feature_names_[:3] == ["item_knn:score", "item_knn:z", "item_knn:rank"]
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:30]
    reco = m.recommend(users, k=7)
    assert (reco.groupby("user_id").size() == 7).all()


def test_save_load_gives_the_same_recommendations(two_stage, shop, tmp_path):
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:40]
    path = two_stage.save(tmp_path / "two_stage")
    loaded = Recommender.load(path)
    for fs in (True, False):
        a = two_stage.recommend(users, k=5, filter_seen=fs)
        b = loaded.recommend(users, k=5, filter_seen=fs)
        pd.testing.assert_frame_equal(a, b)
    assert loaded.guard_ == two_stage.guard_
    with pytest.raises(InvalidDtypeError, match="cannot be saved"):
        CandidateRankingModel(_gens(), reranker=SklearnReranker(
            make_pipeline(SimpleImputer(), LogisticRegression()))).fit(shop.dataset).save(
            tmp_path / "nope")


def test_refit_is_deterministic(two_stage, shop):
    again = CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=40)).fit(
        shop.dataset)
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:40]
    pd.testing.assert_frame_equal(two_stage.recommend(users, k=5), again.recommend(users, k=5))


# --------------------------------------------------------- concurrent serving
def _threaded(model, users, kwargs_list):
    results: dict[int, pd.DataFrame] = {}
    errors: list[BaseException] = []

    def run(j, kw):
        try:
            results[j] = model.recommend(users, k=5, **kw)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(j, kw)) for j, kw in enumerate(kwargs_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.mark.parametrize("factory", [
    lambda: PopularRecommender(),
    lambda: ItemKNNRecommender(),
    lambda: RepurchaseRecommender(min_positives=5),
])
def test_concurrent_recommend_with_mixed_requests(factory, shop):
    model = factory().fit(shop.dataset)
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:60]
    newer = shop.dataset
    kwargs = [{"filter_seen": bool(j % 2), "dataset": newer if j % 3 == 0 else None}
              for j in range(24)]
    expected = {j: model.recommend(users, k=5, **kw) for j, kw in enumerate(kwargs)}
    got = _threaded(model, users, kwargs)
    for j in expected:
        pd.testing.assert_frame_equal(got[j], expected[j])


@pytest.mark.parametrize("fixture", ["two_stage", "reranked"])
def test_concurrent_two_stage_with_mixed_filter_seen(fixture, shop, request):
    """Guarded (serves a generator) and reranked (sparse candidate serving) models."""
    model = request.getfixturevalue(fixture)
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:60]
    kwargs = [{"filter_seen": bool(j % 2)} for j in range(24)]
    expected = {j: model.recommend(users, k=5, **kw) for j, kw in enumerate(kwargs)}
    got = _threaded(model, users, kwargs)
    for j in expected:
        pd.testing.assert_frame_equal(got[j], expected[j])


def test_history_features_over_more_than_100000_days():
    """Occasions stay distinct when events span >100,000 days (0.1 packed days into a key)."""
    ev = pd.DataFrame({
        "user_id": [1, 1, 1, 2],
        "item_id": ["a", "a", "b", "a"],
        "timestamp": pd.to_datetime(["1700-01-01", "2200-01-01", "2200-01-02", "1950-06-01"]),
    })
    ds = Dataset.from_frames(ev)
    ctx = FeatureContext(ds, np.datetime64("2200-02-01"), time_informative=True)
    fs = HistoryFeatures()
    names, x = fs.transform(fs.state(ctx), *_pairs(ds, [(1, "a"), (1, "b"), (2, "a")]))
    f = dict(zip(names, x.T))
    assert f["occasions"].tolist() == [2, 1, 1]
    days_1700_2200 = (pd.Timestamp("2200-01-01") - pd.Timestamp("1700-01-01")).days
    assert days_1700_2200 > 100_000
    assert f["interval"][0] == pytest.approx(days_1700_2200)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_topk_matches_the_dense_engine(seed):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n, m, k = 40, 60, 7
    dense = np.full((n, m), -np.inf)
    stored = rng.random((n, m)) < 0.2
    # few distinct values so ties (broken by the lower item index) are common
    dense[stored] = rng.integers(0, 4, size=stored.sum()).astype(float)
    seen = sp.csr_matrix((rng.random((n, m)) < 0.1).astype(np.float32))
    r_d, i_d, s_d = topk(dense, seen, k, None)
    rows, cols = np.nonzero(stored)
    sparse = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=(n, m))
    r_s, i_s, s_s = topk_sparse(sparse, seen, k)
    np.testing.assert_array_equal(r_d, r_s)
    np.testing.assert_array_equal(i_d, i_s)
    np.testing.assert_array_equal(s_d, s_s)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_sparse_topk_with_heavy_tailed_rows_matches_the_dense_engine(k):
    """Rows from empty to nearly full (several packing buckets, rows past the packing cap)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(k)
    n, m = 60, 6000
    density = rng.choice([0.0, 0.001, 0.01, 0.1, 0.9], size=n)
    stored = rng.random((n, m)) < density[:, None]
    dense = np.full((n, m), -np.inf)
    dense[stored] = rng.integers(0, 5, size=stored.sum()).astype(float)  # many ties
    seen = sp.csr_matrix((rng.random((n, m)) < 0.05).astype(np.float32))
    r_d, i_d, s_d = topk(dense, seen, k, None)
    rows, cols = np.nonzero(stored)
    sparse = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=(n, m))
    assert np.diff(sparse.indptr).max() > 4096  # a row beyond the packing cap
    r_s, i_s, s_s = topk_sparse(sparse, seen, k)
    np.testing.assert_array_equal(r_d, r_s)
    np.testing.assert_array_equal(i_d, i_s)
    np.testing.assert_array_equal(s_d, s_s)


def test_two_stage_sparse_serving_matches_the_dense_path(reranked, shop):
    """Serving ranks only the candidates (sparse); an item mask takes the dense path."""
    model = reranked
    assert set(model.choice_.values()) == {RERANK}
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:60]
    every_item = shop.dataset.item_map.external_ids
    for filter_seen in (True, False):
        sparse = model.recommend(users, k=10, filter_seen=filter_seen)
        dense = model.recommend(users, k=10, filter_seen=filter_seen, items=every_item)
        pd.testing.assert_frame_equal(sparse, dense)
    assert len(sparse) == 10 * len(users)



@pytest.mark.parametrize("seed", range(6))
def test_sampled_topk_is_exact_on_wide_rows(seed):
    """The wide-catalogue path of the ranking engine equals a full stable sort."""
    rng = np.random.default_rng(seed)
    n, m = 30, 3000
    k = int(rng.choice([1, 5, 10, 37]))
    scores = rng.integers(0, [3, 50, 10_000][seed % 3], size=(n, m)).astype(float)
    scores[rng.random((n, m)) < [0.0, 0.5, 0.99][seed % 3]] = -np.inf
    scores[0] = -np.inf  # a row with nothing to recommend
    scores[1, :] = 7.0  # a row of ties: the lowest item indices win
    scores[2, rng.random(m) < 0.01] = np.nan
    assert m // (20 * k) >= 4  # the sampled path is taken
    rows, items, vals = topk(scores, None, k, None)
    clean = np.where(np.isnan(scores), -np.inf, scores)
    exp_r, exp_i = [], []
    for r in range(n):
        order = np.lexsort((np.arange(m), -clean[r]))[:k]
        order = order[np.isfinite(clean[r, order])]
        exp_r += [r] * len(order)
        exp_i += order.tolist()
    np.testing.assert_array_equal(rows, exp_r)
    np.testing.assert_array_equal(items, exp_i)
    np.testing.assert_array_equal(vals, clean[exp_r, exp_i])
    assert items[rows == 1].tolist() == list(range(k))


@pytest.mark.parametrize("factory", [
    lambda: PopularRecommender(),
    lambda: PopularRecommender(window_days=30),
    lambda: RepurchaseRecommender(min_positives=5, fill="none"),
    lambda: BuyAgainRecommender(),
])
@pytest.mark.parametrize("masked", [False, True])
def test_batch_scores_sparse_forms_match_dense_scores(factory, masked, shop):
    """Vector and sparse generator scores give the dense path's candidates and values."""
    from persona_rec.models.ranking.generators import BatchScores, dense_scores

    ds = shop.dataset
    model = factory().fit(ds)
    users = np.flatnonzero(ds.hot_user_mask())[:50]
    fast = BatchScores(model, users)
    assert fast.dense is None  # the cheap form was taken
    dense = dense_scores(model, users)
    seen = ds.get_user_item_matrix(binary=True)[users]
    if masked:
        fast.mask(seen)
        r = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        dense[r, seen.indices] = -np.inf
    for n in (5, 40):
        r_f, c_f = fast.top(n)
        r_d, c_d = top_n(dense, n)
        np.testing.assert_array_equal(r_f, r_d)
        np.testing.assert_array_equal(c_f, c_d)
    rows = np.repeat(np.arange(len(users)), 30)
    cols = np.random.default_rng(0).integers(0, dense.shape[1], len(rows))
    np.testing.assert_array_equal(fast.at(rows, cols), dense[rows, cols])


def test_topk_of_one_vector_equals_a_full_sort_with_ties_and_missing():
    """The shared popularity vector is cut by the ranking engine: same indices as sorting all of it."""
    rng = np.random.default_rng(0)
    for _ in range(500):
        n = int(rng.integers(1, 80))
        v = rng.integers(-3, 5, n).astype(float)  # many ties
        v[rng.random(n) < 0.2] = -np.inf
        for m in (0, 1, int(rng.integers(1, n + 5)), n, n + 3):
            want = np.lexsort((np.arange(n), -v))[:min(n, m)]
            np.testing.assert_array_equal(topk(v[None, :], None, m, None)[1],
                                          want[np.isfinite(v[want])])
    wide = rng.integers(0, 50, 100_000).astype(float)  # the sampled path, ties at the cut
    wide[rng.random(len(wide)) < 0.3] = -np.inf
    want = np.lexsort((np.arange(len(wide)), -wide))[:40]
    np.testing.assert_array_equal(topk(wide[None, :], None, 40, None)[1], want)


def test_generator_fit_params_reach_the_model_fit():
    seen = {}

    class Recording(PopularRecommender):
        def fit(self, dataset, profiles=None, *, marker=None):
            seen["marker"] = marker
            return super().fit(dataset, profiles)

    shop_ = synthetic(n_users=60, n_items=30, n_events=900, random_state=0).dataset
    g = CandidateGenerator(Recording(), 5, fit_params={"marker": 42})
    g.fit(g.configs()[0], shop_)
    assert seen["marker"] == 42
    assert "fit_params=['marker']" in repr(g)
    with pytest.raises(InvalidParameterError, match="fit_params"):
        CandidateGenerator(PopularRecommender(), 5, fit_params=[("marker", 1)])


def test_refit_reranker_serves_one_model_with_the_folds_mean_rounds(shop, tmp_path):
    model = CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=40), guard=False,
                                  refit_reranker=True).fit(shop.dataset)
    folds = CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=40),
                                  guard=False).fit(shop.dataset)
    for mode in model.modes_:
        assert len(model._rankers[mode]) == 1 and len(folds._rankers[mode]) == 3
        rounds = np.mean([m.best_iteration_ for m in folds._rankers[mode]])
        assert model._rankers[mode][0].best_iteration_ == max(1, round(rounds))
    assert model.guard_ == folds.guard_  # the guard judges the fold models either way
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()][:40]
    rec = model.recommend(users, k=5)
    assert len(rec) == 5 * len(users)
    loaded = Recommender.load(model.save(tmp_path / "refit"))
    pd.testing.assert_frame_equal(loaded.recommend(users, k=5), rec)


def test_n_jobs_gives_the_same_model_and_lists(shop, monkeypatch):
    """Batches scored on two threads (tuning, candidates, serving) give identical output."""
    monkeypatch.setattr(CandidateRankingModel, "_min_chunk_users", 20)  # serve in 2 chunks
    one = CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=20), guard=False)
    two = CandidateRankingModel(_gens(), reranker=LGBMReranker(n_estimators=20), guard=False,
                                n_jobs=2)
    one.fit(shop.dataset)
    two.fit(shop.dataset)
    assert one.guard_ == two.guard_ and one.tuning_ == two.tuning_
    users = shop.dataset.user_map.external_ids[shop.dataset.hot_user_mask()]
    assert len(users) >= 2 * 20
    chunks = []
    real = CandidateRankingModel._reranked_chunk
    monkeypatch.setattr(CandidateRankingModel, "_reranked_chunk",
                        lambda self, u, *a: chunks.append(len(u)) or real(self, u, *a))
    for fs in (True, False):
        pd.testing.assert_frame_equal(two.recommend(users, k=5, filter_seen=fs),
                                      one.recommend(users, k=5, filter_seen=fs))
    assert len(chunks) == 2 * 2 + 2  # two chunks per call with n_jobs=2, one without
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        CandidateRankingModel(_gens(), n_jobs=0)

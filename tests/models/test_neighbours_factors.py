"""Item-kNN, EASE, ALS and BPR: exact maths on tiny data, parameters, dataset= scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec import Columns, Dataset
from persona_rec.exceptions import InvalidParameterError, InvalidValueError, UnknownIdError
from persona_rec.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    SIMILAR_ITEM,
)


@pytest.fixture
def small(rng: np.random.Generator) -> Dataset:
    n_users, n_items = 40, 12
    dense = (rng.random((n_users, n_items)) < 0.3).astype(float)
    dense[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1.0
    u, i = np.nonzero(dense)
    inter = pd.DataFrame({"user_id": u, "item_id": [f"it{j}" for j in i],
                          "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(u, unit="h")})
    return Dataset.from_frames(inter)


def test_cosine_similarity_matches_definition(small: Dataset) -> None:
    model = ItemKNNRecommender("cosine", k_neighbours=100, binary=True).fit(small)
    x = small.get_user_item_matrix(binary=True).toarray()
    norms = np.linalg.norm(x, axis=0)
    expected = (x.T @ x) / np.outer(norms, norms)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-5, atol=1e-6)
    # scores are history @ similarity
    users = small.user_map.external_ids[:5]
    rec = model.recommend(users, k=3, filter_seen=False)
    top = rec[rec[Columns.RANK] == 1]
    scores = x[:5] @ expected
    assert top[Columns.SCORE].to_numpy() == pytest.approx(scores.max(axis=1), rel=1e-5)


def test_knn_neighbour_pruning_and_similar_items(small: Dataset) -> None:
    model = ItemKNNRecommender("bm25", k_neighbours=3).fit(small)
    nnz = np.diff(model.similarity_.indptr)
    assert nnz.max() <= 4  # 3 neighbours + the item itself
    sim = model.similar_items(["it0", "it5"], k=5)
    assert list(sim.columns) == [Columns.ITEM, SIMILAR_ITEM, Columns.SCORE, Columns.RANK]
    assert not (sim[Columns.ITEM] == sim[SIMILAR_ITEM]).any()
    assert sim.groupby(Columns.ITEM).size().max() <= 3
    with pytest.raises(UnknownIdError, match="item_id"):
        model.similar_items(["nope"])


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (ItemKNNRecommender, {"similarity": "jaccard"}, "'similarity' parameter of ItemKNN"),
        (ItemKNNRecommender, {"k_neighbours": 0}, "'k_neighbours'.*>= 1, got 0"),
        (ItemKNNRecommender, {"bm25_b": 2.0}, "'bm25_b'.*<= 1"),
        (EASERecommender, {"regularization": 0}, "'regularization'.*> 0"),
        (EASERecommender, {"binary": 1}, "'binary' parameter of EASERecommender must be a bool"),
        (ALSRecommender, {"factors": 0}, "'factors' parameter of ALSRecommender"),
        (ALSRecommender, {"random_state": -1}, "'random_state'"),
        (ALSRecommender, {"alpha": 0}, "'alpha'.*> 0"),
        (BPRRecommender, {"learning_rate": 0}, "'learning_rate'.*> 0"),
        (BPRRecommender, {"iterations": 1.5}, "'iterations'.*int"),
    ],
)
def test_bad_params(cls: type, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        cls(**kwargs)


def test_ease_closed_form(small: Dataset) -> None:
    lam = 5.0
    model = EASERecommender(regularization=lam).fit(small)
    x = small.get_user_item_matrix(binary=True).toarray()
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(model.weights_, b, rtol=1e-4, atol=1e-6)
    rec = model.recommend(small.user_map.external_ids[:3], k=12, filter_seen=False)
    got = rec.pivot(index=Columns.USER, columns=Columns.ITEM, values=Columns.SCORE)
    want = pd.DataFrame(x[:3] @ b, index=small.user_map.external_ids[:3],
                        columns=small.item_map.external_ids)
    np.testing.assert_allclose(got[want.columns].to_numpy(), want.to_numpy(), rtol=1e-4,
                               atol=1e-5)


def test_ease_memory_guard(small: Dataset) -> None:
    assert EASERecommender.estimated_memory_gb(20_000) == pytest.approx(9.6)
    with pytest.raises(InvalidValueError, match=r"12 active items need about .* GB.*max_memory_gb"):
        EASERecommender(max_memory_gb=1e-9).fit(small)


def test_ease_ignores_items_without_interactions(small: Dataset) -> None:
    inter = small.interactions[["user_id", "item_id", "timestamp"]]
    items = pd.DataFrame({"item_id": list(small.item_map.external_ids) + ["fresh"]})
    ds = Dataset.from_frames(inter, items=items)
    model = EASERecommender(regularization=5.0).fit(ds)
    assert len(model.active_items_) == 12
    rec = model.recommend(ds.user_map.external_ids, k=100)
    assert "fresh" not in set(rec[Columns.ITEM])


def test_als_matches_implicit_and_folds_in(small: Dataset) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    model = ALSRecommender(factors=4, iterations=4, random_state=1).fit(small)
    ref = AlternatingLeastSquares(factors=4, iterations=4, random_state=1, regularization=0.05,
                                  alpha=2.0, num_threads=1)
    ref.fit(small.get_user_item_matrix(binary=True), show_progress=False)
    np.testing.assert_allclose(model.item_factors_, ref.item_factors, rtol=1e-5, atol=1e-6)
    # a brand-new user in a newer snapshot is folded in from their history
    inter = small.interactions[["user_id", "item_id", "timestamp"]]
    new = pd.DataFrame({"user_id": [999, 999], "item_id": ["it1", "it2"],
                        "timestamp": [pd.Timestamp("2024-05-01")] * 2})
    newer = Dataset.from_frames(pd.concat([inter, new], ignore_index=True))
    rec = model.recommend([999], k=3, dataset=newer)
    assert len(rec) == 3
    assert not rec[Columns.ITEM].isin(["it1", "it2"]).any()
    hist = newer.get_user_item_matrix(binary=True)[newer.user_map.to_internal([999])]
    vec = ref.recalculate_user(0, hist)
    scores = np.asarray(vec).ravel() @ ref.item_factors.T
    scores[small.item_map.to_internal(["it1", "it2"])] = -np.inf
    want = small.item_map.external_ids[np.argsort(-scores)[:3]]
    assert rec[Columns.ITEM].tolist() == want.tolist()
    with pytest.raises(UnknownIdError, match="cold"):
        model.recommend([999], k=3)


def test_bpr_seed_and_unknown_users(small: Dataset) -> None:
    a = BPRRecommender(factors=4, iterations=10, random_state=5).fit(small)
    b = BPRRecommender(factors=4, iterations=10, random_state=5).fit(small)
    c = BPRRecommender(factors=4, iterations=10, random_state=6).fit(small)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert not np.allclose(a.item_factors_, c.item_factors_)
    inter = small.interactions[["user_id", "item_id", "timestamp"]]
    new = pd.DataFrame({"user_id": [999], "item_id": ["it1"],
                        "timestamp": [pd.Timestamp("2024-05-01")]})
    newer = Dataset.from_frames(pd.concat([inter, new], ignore_index=True))
    rec = a.recommend([0, 999], k=3, dataset=newer, on_unknown="skip")
    assert set(rec[Columns.USER]) == {0}  # BPR cannot fold in user 999
    assert rec.attrs["unserved"] == [999]
    with pytest.raises(UnknownIdError, match=r"cannot serve 1 user\(s\) in state\(s\) \['cold'\]"):
        a.recommend([0, 999], k=3, dataset=newer)


def test_dataset_argument_uses_new_history(small: Dataset) -> None:
    """filter_seen uses the newer snapshot's history."""
    model = EASERecommender(regularization=5.0).fit(small)
    before = model.recommend([0], k=1)
    top = before[Columns.ITEM].iloc[0]
    inter = small.interactions[["user_id", "item_id", "timestamp"]]
    add = pd.DataFrame({"user_id": [0], "item_id": [top],
                        "timestamp": [pd.Timestamp("2024-06-01")]})
    newer = Dataset.from_frames(pd.concat([inter, add], ignore_index=True))
    after = model.recommend([0], k=5, dataset=newer)
    assert top not in set(after[Columns.ITEM])


def test_dataset_argument_with_unknown_items_warns(small: Dataset) -> None:
    model = ItemKNNRecommender("cosine").fit(small)
    inter = small.interactions[["user_id", "item_id", "timestamp"]]
    add = pd.DataFrame({"user_id": [0], "item_id": ["brand_new"],
                        "timestamp": [pd.Timestamp("2024-06-01")]})
    newer = Dataset.from_frames(pd.concat([inter, add], ignore_index=True))
    with pytest.warns(UserWarning, match="1 user-item pair"):
        rec = model.recommend([0], k=5, dataset=newer)
    assert "brand_new" not in set(rec[Columns.ITEM])


def test_batching_does_not_change_results(small: Dataset, monkeypatch) -> None:
    model = ItemKNNRecommender("cosine").fit(small)
    users = small.user_map.external_ids
    full = model.recommend(users, k=4)
    monkeypatch.setattr(ItemKNNRecommender, "batch_elements", 13)  # one user per batch
    pd.testing.assert_frame_equal(model.recommend(users, k=4), full)
    assert sp.issparse(model.similarity_)


def test_item_knn_sparse_scores_give_the_dense_lists(monkeypatch):
    """On a wide catalogue kNN ranks ``history @ similarity`` sparse; the lists equal the
    dense path's (zero is -inf there), with the seen filter, recent events and an item mask."""
    from persona_rec.sample_data import synthetic
    from persona_rec.models import ItemKNNRecommender, Recommender
    from persona_rec.models._request import RecommendRequest

    ds = synthetic(n_users=600, n_items=8000, n_events=12_000, random_state=3).dataset
    model = ItemKNNRecommender().fit(ds)
    users = ds.user_map.external_ids[ds.hot_user_mask()][:300]
    idx = ds.user_map.to_internal(users)
    assert model._sparse_scores(idx, RecommendRequest()) is not None  # the sparse form is used
    ev = pd.DataFrame({"user_id": users[:5], "item_id": ds.item_map.external_ids[:5]})
    calls = [dict(k=20), dict(k=20, filter_seen=False), dict(k=20, recent_events=ev),
             dict(k=5, items=ds.item_map.external_ids[:4000])]
    sparse = [model.recommend(users, **kw) for kw in calls]
    monkeypatch.setattr(ItemKNNRecommender, "_sparse_scores", Recommender._sparse_scores)
    for kw, got in zip(calls, sparse):
        pd.testing.assert_frame_equal(got, model.recommend(users, **kw))


def _attribute_only_shop() -> tuple[Dataset, pd.Timestamp]:
    rng = np.random.default_rng(0)
    n = 4000
    ev = pd.DataFrame({
        "user_id": [f"u{k}" for k in rng.integers(0, 200, n)],
        "item_id": [f"i{j}" for j in rng.integers(0, 50, n)],
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
    })
    users = pd.DataFrame({"user_id": [f"u{k}" for k in range(200)] + ["w"], "city": "x"})
    return Dataset.from_frames(ev, users=users), ev["timestamp"].max() + pd.Timedelta("1h")


def test_bpr_does_not_serve_attribute_only_users_from_untrained_rows() -> None:
    """'w' has attributes but no interaction at fit: its BPR row was never trained."""
    ds, t = _attribute_only_shop()
    model = BPRRecommender(factors=8, iterations=20, random_state=0).fit(ds)
    recent = pd.DataFrame({"user_id": "w", "item_id": ["i0", "i1", "i2"], "timestamp": t})
    with pytest.raises(UnknownIdError, match=r"state\(s\) \['warm'\].*\['w'\]"):
        model.recommend(["w"], k=5, filter_seen=False, recent_events=recent)
    out = model.recommend(["w", "u1"], k=5, filter_seen=False, recent_events=recent, on_unknown="skip")
    assert set(out[Columns.USER]) == {"u1"} and out.attrs["unserved"] == ["w"]
    out = model.recommend(["w"], k=5, filter_seen=False, recent_events=recent, on_unknown="fallback")
    assert (out["source"] != "bpr").all() and len(out) == 5
    # the same with a newer Dataset in which 'w' has bought something
    newer = Dataset.from_frames(pd.concat([ds.interactions[["user_id", "item_id", "timestamp"]], recent]))
    out = model.recommend(["w", "u1"], k=5, dataset=newer, on_unknown="skip")
    assert out.attrs["unserved"] == ["w"]
    chain = FallbackChain([BPRRecommender(factors=8, iterations=20, random_state=0),
                           PopularRecommender()]).fit(ds)
    out = chain.recommend(["w"], k=5, filter_seen=False, recent_events=recent)
    assert len(out) == 5 and (out["source"] == "popular").all()


def test_als_still_folds_in_attribute_only_users_from_their_events() -> None:
    ds, t = _attribute_only_shop()
    model = ALSRecommender(factors=8, iterations=5, random_state=0).fit(ds)
    a = pd.DataFrame({"user_id": "w", "item_id": ["i0", "i1", "i2"], "timestamp": t})
    b = a.assign(item_id=["i47", "i48", "i49"])
    ra = model.recommend(["w"], k=5, filter_seen=False, recent_events=a)
    rb = model.recommend(["w"], k=5, filter_seen=False, recent_events=b)
    assert len(ra) == len(rb) == 5 and (ra["source"] == "als").all()
    assert ra[Columns.ITEM].tolist() != rb[Columns.ITEM].tolist()  # the history matters

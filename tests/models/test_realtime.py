"""recommend(..., recent_events=): new events change a user's top-k without refitting."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.sample_data import load_online_retail, load_sample
from persona_rec.exceptions import (
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.models import (
    ALSRecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    RepurchaseRecommender,
)
from persona_rec.models._request import RecommendRequest, recent_history

COLS = ["user_id", "item_id", "timestamp", "event", "weight", "quantity", "order_id"]


@pytest.fixture(scope="module")
def shop():
    """The bundled sample cut 30 days before its end: (train Dataset, later events)."""
    ds = load_sample()
    t0 = ds.time_range[1] - pd.Timedelta(days=30)
    full = ds.interactions
    return ds, ds.filter_time(end=t0), full[full["timestamp"] >= t0][COLS + ["price"]]


@pytest.fixture(scope="module")
def knn(shop):
    return ItemKNNRecommender().fit(shop[1])


@pytest.fixture(scope="module")
def als(shop):
    return ALSRecommender(iterations=8).fit(shop[1])


def _light_user_event(train: Dataset, later: pd.DataFrame, n: int = 1) -> pd.DataFrame:
    """Later purchases of ``n`` users with a short history, on items new to them (one each)."""
    hist = train.get_user_item_matrix()
    n_hist = pd.Series(np.diff(hist.indptr), index=train.user_map.external_ids)
    cand = later[later["user_id"].isin(n_hist[(n_hist > 0) & (n_hist <= 8)].index)
                 & (later["event"] == "purchase")]
    seen = set(zip(train.interactions["user_id"], train.interactions["item_id"]))
    cand = cand[[(u, i) not in seen for u, i in zip(cand["user_id"], cand["item_id"])]]
    return cand.drop_duplicates("user_id").head(n)


def _context(shop, events: pd.DataFrame) -> Dataset:
    ds, train, _ = shop
    inter = pd.concat([train.interactions.drop(columns=["raw_row"]), events], ignore_index=True)
    return Dataset.from_frames(inter, items=ds.items)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a["item_id"].tolist() == b["item_id"].tolist()
    np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), rtol=1e-5)


@pytest.mark.parametrize("which", ["knn", "als"])
def test_new_event_changes_top10_like_scoring_the_updated_history(shop, which, request):
    model = request.getfixturevalue(which)
    events = _light_user_event(shop[1], shop[2], n=20)
    assert len(events) >= 15
    changed = 0
    for _, ev in events.groupby("user_id", sort=False):
        user = ev["user_id"].iloc[0]
        before = model.recommend([user], k=10)
        got = model.recommend([user], k=10, recent_events=ev.drop(columns="price"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # items absent from the fit data are ignored
            want = model.recommend([user], k=10, dataset=_context(shop, ev))
        _same(got, want)  # exactly what scoring the updated history gives
        changed += got["item_id"].tolist() != before["item_id"].tolist()
        assert ev["item_id"].iloc[0] not in set(got["item_id"])  # now seen
        _same(model.recommend([user], k=10), before)  # the model itself did not change
    assert changed >= len(events) // 2  # one purchase reshapes most light users' top-10


def test_als_recent_factors_are_implicits_recalculate_user(shop, als):
    from implicit.cpu.als import AlternatingLeastSquares

    ev = _light_user_event(shop[1], shop[2])
    user = ev["user_id"].iloc[0]
    recent = recent_history(ev, np.array([user]), als.user_map_, als.item_map_, "test")
    idx = als.user_map_.to_internal([user])
    got = als._user_vectors(idx, RecommendRequest(recent=recent))
    solver = AlternatingLeastSquares(factors=als.factors, regularization=als.regularization,
                                     alpha=als.alpha, dtype=np.float32)
    solver.item_factors = als.item_factors_
    hist = als.user_items_[idx].tolil()
    hist[0, als.item_map_.to_internal(ev["item_id"])[0]] = 1.0
    hist = hist.tocsr()
    hist.data[:] = 1.0  # binary=True
    want = solver.recalculate_user(np.arange(1), hist)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, als.user_factors_[idx])  # the event moved the factors


def test_users_unknown_at_fit_are_served_from_recent_events(shop, knn, als):
    item = shop[1].interactions["item_id"].value_counts().index[0]
    ev = pd.DataFrame({"user_id": ["new-visitor"], "item_id": [item], "event": ["view"]})
    with pytest.raises(Exception, match="cannot serve"):
        knn.recommend(["new-visitor"], k=5)
    for model in (knn, als):
        rec = model.recommend(["new-visitor"], k=5, recent_events=ev)
        assert len(rec) == 5 and item not in set(rec["item_id"])
        assert set(rec["source"]) == {model.name}
    pop = PopularRecommender().fit(shop[1])
    assert item in set(pop.recommend(["new-visitor"], k=5)["item_id"])
    assert item not in set(pop.recommend(["new-visitor"], k=5, recent_events=ev)["item_id"])


def test_repurchase_refreshes_the_users_features(shop):
    _, train, later = shop
    model = RepurchaseRecommender().fit(train)
    buys = later[later["event"] == "purchase"]
    hist = train.get_user_item_matrix()
    n_hist = pd.Series(np.diff(hist.indptr), index=train.user_map.external_ids)
    users = [u for u in buys["user_id"].unique() if 3 <= n_hist.get(u, 0) <= 40][:15]
    assert len(users) == 15
    changed = overlap = 0
    for user in users:
        ev = buys[buys["user_id"] == user].head(5)
        before = model.recommend([user], k=10, filter_seen=False)
        got = model.recommend([user], k=10, filter_seen=False,
                              recent_events=ev.drop(columns="price"))
        changed += got["item_id"].tolist() != before["item_id"].tolist()
        # close to scoring the updated history (which also recomputes item statistics)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = model.recommend([user], k=10, filter_seen=False, dataset=_context(shop, ev))
        overlap += len(set(got["item_id"]) & set(ctx["item_id"]))
    assert changed >= 10
    assert overlap >= 0.8 * 10 * len(users)
    # events before the fit cut-off that are not purchases leave the scores as fitted
    user = users[0]
    ev = buys[buys["user_id"] == user].head(5).drop(columns="price")
    views = ev.assign(event="view", timestamp=pd.Timestamp(model.as_of_) - pd.Timedelta(days=3))
    _same(model.recommend([user], k=10, filter_seen=False, recent_events=views),
          model.recommend([user], k=10, filter_seen=False))
    with pytest.raises(MissingColumnError, match="timestamp"):
        model.recommend([user], k=10, filter_seen=False,
                        recent_events=ev.drop(columns="timestamp"))


def test_recommend_with_recent_events_is_thread_safe(shop, knn, als):
    later = shop[2]
    users = later["user_id"].drop_duplicates().head(24).tolist()
    batches = {u: later[later["user_id"] == u].head(2).drop(columns="price") for u in users}
    for model in (knn, als):
        want = {u: model.recommend([u], k=10, recent_events=batches[u]) for u in users}
        got: dict = {}
        errors: list = []

        def work(chunk: list) -> None:
            try:
                for _ in range(3):
                    for u in chunk:
                        got[u] = model.recommend([u], k=10, recent_events=batches[u])
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(users[i::6],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for u in users:
            pd.testing.assert_frame_equal(got[u], want[u])
        assert not hasattr(model, "recent_") and "recent" not in vars(model)


def test_fallback_chain_passes_recent_events(shop, knn):
    chain = FallbackChain([("knn", ItemKNNRecommender()), ("pop", PopularRecommender())])
    chain.fit(shop[1])
    ev = _light_user_event(shop[1], shop[2]).drop(columns="price")
    user = ev["user_id"].iloc[0]
    rec = chain.recommend([user], k=10, recent_events=ev)
    _same(rec[rec["source"] == "knn"], knn.recommend([user], k=10, recent_events=ev))
    assert ev["item_id"].iloc[0] not in set(rec["item_id"])


def test_recent_events_errors(shop, knn):
    ev = shop[2].head(3).drop(columns="price")
    users = ev["user_id"].tolist()
    with pytest.raises(InvalidValueError, match=r"unknown column\(s\) \['coupon'\]"):
        knn.recommend(users, recent_events=ev.assign(coupon=1))
    with pytest.raises(InvalidParameterError, match="either 'dataset' or 'recent_events'"):
        knn.recommend(users, recent_events=ev, dataset=shop[1])
    with pytest.raises(InvalidValueError, match=r"event type\(s\) \['teleport'\]"):
        knn.recommend(users, recent_events=ev.drop(columns="weight").assign(event="teleport"))
    with pytest.raises(InvalidValueError, match="weights must be finite"):
        knn.recommend(users, recent_events=ev.assign(weight=-1.0))
    with pytest.warns(UserWarning, match=r"unknown to the fitted ItemKNNRecommender"):
        knn.recommend(users, on_unknown="skip",
                      recent_events=ev.assign(item_id="no-such-item"))
    with pytest.raises(MissingColumnError, match="item_id"):
        knn.recommend(users, recent_events=ev.drop(columns="item_id"))


@pytest.mark.filterwarnings("ignore::persona_rec.exceptions.DuplicateRowWarning")
def test_online_retail_one_new_event_per_user(online_retail_csv):
    ds = load_online_retail(online_retail_csv)
    t0 = pd.Timestamp("2011-11-01")
    train = ds.filter_time(end=t0)
    full = ds.interactions
    hot = train.user_map.external_ids[train.hot_user_mask()]
    later = full[(full["timestamp"] >= t0) & full["user_id"].isin(hot)]
    later = later[later["item_id"].isin(train.item_map.external_ids)]
    first = later.drop_duplicates("user_id").head(40)[COLS]
    model = ItemKNNRecommender().fit(train)
    users = first["user_id"].tolist()
    got = model.recommend(users, k=10, recent_events=first)
    ctx = Dataset.from_frames(pd.concat([train.interactions.drop(columns=["raw_row"]),
                                         first.assign(price=1.0)], ignore_index=True),
                              items=ds.items)
    want = model.recommend(users, k=10, dataset=ctx)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  rtol=1e-5)
    changed = sum(got[got.user_id == u]["item_id"].tolist()
                  != model.recommend([u], k=10)["item_id"].tolist() for u in users[:10])
    assert changed >= 5


@pytest.mark.parametrize("dataset", ["sample", "online_retail"])
def test_repurchase_small_feature_path_equals_the_pandas_one(dataset, request):
    from persona_rec.models.repurchase import _POPULATION_KEYS, _features, _features_few

    ds = load_sample() if dataset == "sample" else \
        load_online_retail(request.getfixturevalue("online_retail_csv"))
    model = RepurchaseRecommender().fit(ds)
    pop = dict(zip(_POPULATION_KEYS, model.item_population_.T))
    pop["global_prior"] = model.global_prior_
    as_of = pd.Timestamp(model.as_of_) + pd.Timedelta(days=3)
    n = len(model.item_map_)
    want = _features(model.purchases_, n, as_of, 30.0, 1.0, False, pop)
    got = _features_few(model.purchases_, n, as_of, 30.0, 1.0, pop)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12, atol=1e-12)
    assert len(want[0]) > 10_000


def test_repurchase_without_fill_folds_recent_events_too(shop):
    """fill="none" ranks from a sparse matrix; recent events must still reach the scores."""
    _, train, later = shop
    filled = RepurchaseRecommender().fit(train)
    bare = RepurchaseRecommender(fill="none").fit(train)
    buys = later[later["event"] == "purchase"]
    user = buys["user_id"].iloc[0]
    ev = buys[buys["user_id"] == user].head(5).drop(columns="price")
    got = bare.recommend([user], k=10, filter_seen=False, recent_events=ev)
    ref = filled.recommend([user], k=10, filter_seen=False, recent_events=ev)
    own = ref[ref["score"] > 0]  # the past-purchase part of the filled list
    assert got["item_id"].tolist()[:len(own)] == own["item_id"].tolist()
    assert set(ev["item_id"]) & set(got["item_id"])  # the new purchases are candidates


# ------------------------------------------------------------ buy-again folds recent events
def _buy_again_refit_equal(train: Dataset, events: pd.DataFrame, users: list, items=None,
                           **params) -> None:
    """Folding ``events`` equals a refit on the fit data plus them, for the users who have them."""
    from persona_rec.models import BuyAgainRecommender

    inter = pd.concat([train.interactions.drop(columns=["raw_row"], errors="ignore"), events],
                      ignore_index=True)
    refit = BuyAgainRecommender(**params).fit(Dataset.from_frames(inter, items=items))
    model = BuyAgainRecommender(**params).fit(train)
    for filter_seen in (False, True):
        got = model.recommend(users, k=10, filter_seen=filter_seen,
                              recent_events=events.drop(columns="price", errors="ignore"))
        want = refit.recommend(users, k=10, filter_seen=filter_seen)
        pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("tie_break", ["popularity", "recency"])
@pytest.mark.parametrize("fill", ["none", "popular"])
def test_buy_again_recent_events_equal_a_refit(shop, tie_break, fill):
    ds, train, later = shop
    users = later["user_id"].drop_duplicates().head(60).tolist()
    events = later[later["user_id"].isin(users) & later["item_id"].isin(train.item_map.external_ids)]
    assert len(events) > 1000 and events["order_id"].notna().any()
    _buy_again_refit_equal(train, events, users, ds.items, tie_break=tie_break, fill=fill)


def test_buy_again_recent_events_serve_users_without_a_fitted_history(shop):
    from persona_rec.models import BuyAgainRecommender

    ds, train, later = shop
    cold = set(train.user_map.external_ids[~train.hot_user_mask()])  # listed, no events yet
    new = sorted(set(later["user_id"]) & cold)[:5]
    assert new
    events = later[later["user_id"].isin(new) & later["item_id"].isin(train.item_map.external_ids)]
    _buy_again_refit_equal(train, events, new, ds.items, fill="popular")
    model = BuyAgainRecommender().fit(train)
    with pytest.raises(UnknownIdError):
        model.recommend(new, k=5)
    with pytest.raises(MissingColumnError, match="timestamp"):
        model.recommend(new, k=5, recent_events=events[["user_id", "item_id"]])


def test_buy_again_recent_views_change_nothing_but_the_seen_filter(shop):
    from persona_rec.models import BuyAgainRecommender

    _, train, later = shop
    user = train.user_map.external_ids[0]
    views = later.head(3).assign(user_id=user, event="view").drop(columns=["price", "weight"])
    model = BuyAgainRecommender(fill="popular").fit(train)
    got = model.recommend([user], k=10, filter_seen=False, recent_events=views)
    assert got.equals(model.recommend([user], k=10, filter_seen=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_buy_again_fold_equals_refit_on_random_logs(data):
    """Hypothesis: random small logs (orders with and without ids, views) cut at a random time."""
    n = data.draw(st.integers(8, 40))
    rows = data.draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(0, 30),
                                        st.sampled_from(["purchase", "purchase", "view"]),
                                        st.one_of(st.none(), st.integers(0, 9))),
                              min_size=n, max_size=n))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "day", "event", "order_id"])
    frame["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.pop("day"), "D") \
        + pd.to_timedelta(np.arange(len(frame)), "min")
    frame["order_id"] = frame["order_id"].map(lambda o: None if pd.isna(o) else f"o{int(o)}")
    frame["weight"] = np.where(frame["event"] == "purchase", 5.0, 1.0)
    cut = frame["timestamp"].sort_values().iloc[data.draw(st.integers(len(frame) // 2, len(frame) - 1))]
    train_frame = frame[frame["timestamp"] < cut]
    if not (train_frame["event"] == "purchase").any():
        return  # the purchase-only rule is decided on the fit log; a refit could flip it
    train = Dataset.from_frames(train_frame)
    later = frame[(frame["timestamp"] >= cut)
                  & frame["item_id"].isin(train.item_map.external_ids)]
    users = sorted(set(later["user_id"])) or [train.user_map.external_ids[0]]
    params = dict(tie_break=data.draw(st.sampled_from(["popularity", "recency"])),
                  fill=data.draw(st.sampled_from(["none", "popular"])))
    _buy_again_refit_equal(train, later, users, **params)

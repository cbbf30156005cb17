"""Two-stage model with ``recommend(..., recent_events=)``: feature sets fold events after fit
exactly like a rebuild, and the model serves them (seen filter, new users, threads, save/load)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from persona_rec.columns import DAY_NS
from persona_rec.sample_data import synthetic
from persona_rec.models import ItemKNNRecommender, PopularRecommender, Recommender
from persona_rec.models.ranking import (
    CandidateGenerator,
    CandidateRankingModel,
    FeatureContext,
    HistoryFeatures,
    LGBMReranker,
    UserFeatures,
)
from persona_rec.models.ranking.features import RecentEvents

COLS = ["user_id", "item_id", "timestamp", "event", "weight"]


@pytest.fixture(scope="module")
def cut():
    """Synthetic shop cut at a midnight: (full Dataset, Dataset before the cut, later events)."""
    ds = synthetic(n_users=300, n_items=120, n_events=15_000, random_state=2).dataset
    t1 = pd.Timestamp("2024-11-15")
    later = ds.interactions[ds.interactions["timestamp"] >= t1]
    return ds, ds.filter_time(end=t1), later


def _recent(full, before, later, users, as_of):
    """RecentEvents of ``later`` for ``users`` (rows = positions in ``users``)."""
    inter = full.internal_interactions
    ts = inter["timestamp"].to_numpy().astype("datetime64[ns]")
    keep = (ts >= np.datetime64(later["timestamp"].min(), "ns")) & np.isin(
        inter["user_idx"].to_numpy(), users)
    u = inter["user_idx"].to_numpy()[keep]
    i = inter["item_idx"].to_numpy()[keep]
    hist = before.get_user_item_matrix()
    seen = np.asarray(hist[u, i]).ravel() > 0
    return RecentEvents(np.searchsorted(users, u), i, ts[keep].astype(np.int64) / DAY_NS,
                        inter["weight"].to_numpy()[keep], n_rows=len(users),
                        as_of_day=float(np.datetime64(as_of, "ns").astype(np.int64) / DAY_NS),
                        time_informative=True, seen_before=seen)


@pytest.mark.parametrize("fs", [HistoryFeatures(), UserFeatures()], ids=lambda f: f.name)
def test_fold_equals_a_rebuild_with_the_events(fs, cut):
    """Features of the fit-time state with later events folded in == a state built on all."""
    full, before, later = cut
    as_of = np.datetime64("2025-01-01")
    rng = np.random.default_rng(0)
    with_events = np.unique(full.user_map.to_internal(later["user_id"].unique()))
    users = np.unique(np.r_[rng.choice(with_events, 40, replace=False),
                            rng.choice(full.n_users, 20, replace=False)])
    recent = _recent(full, before, later, users, as_of)
    folded = fs.fold(fs.user_rows(fs.state(FeatureContext(before, as_of,
                                                          time_informative=True)), users),
                     recent)
    rebuilt = fs.user_rows(fs.state(FeatureContext(full, as_of, time_informative=True)), users)
    rows = np.repeat(np.arange(len(users)), full.n_items)
    items = np.tile(np.arange(full.n_items), len(users))
    names, got = fs.transform(folded, rows, items)
    _, want = fs.transform(rebuilt, rows, items)
    assert got.shape[1] == len(names)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)
    _, unfolded = fs.transform(fs.user_rows(fs.state(FeatureContext(
        before, as_of, time_informative=True)), users), rows, items)
    assert not np.allclose(unfolded, want, equal_nan=True)  # the events did move them


def test_fold_for_a_user_first_seen_at_serving_and_same_day_occasions():
    ev = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"],
                       "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-05 09:00"])})
    from persona_rec import Dataset

    ds = Dataset.from_frames(ev)
    ctx = FeatureContext(ds, np.datetime64("2024-01-11"), time_informative=True)
    as_of = ctx.as_of_day
    day = float(np.datetime64("2024-01-05T18:00", "ns").astype(np.int64) / DAY_NS)
    # row 0: the known user buys "b" again the same day (not a new occasion) and "a";
    # row 1: a user unknown at fit (index 1 is past the state's rows) buys "a" twice
    recent = RecentEvents(np.array([0, 0, 1, 1]), np.array([1, 0, 0, 0]),
                          np.array([day, day, day, np.nan]), np.ones(4), n_rows=2,
                          as_of_day=as_of, time_informative=True,
                          seen_before=np.array([True, True, False, False]))
    users = np.array([0, 1])
    h = HistoryFeatures()
    names, x = h.transform(h.fold(h.user_rows(h.state(ctx), users), recent),
                           np.array([0, 0, 1]), np.array([1, 0, 0]))
    f = dict(zip(names, x.T))
    assert f["occasions"].tolist() == [1, 2, 2]  # same day as before / new day / two days
    assert f["weight"].tolist() == [2, 2, 2]
    # a same-day event keeps the occasion (dated by its first event, 09:00), as a rebuild does
    assert f["days_since_last"].tolist() == pytest.approx([5.625, as_of - day, 0.0])
    u = UserFeatures()
    names, x = u.transform(u.fold(u.user_rows(u.state(ctx), users), recent),
                           np.array([0, 1]), np.array([0, 0]))
    f = dict(zip(names, x.T))
    assert f["u_items"].tolist() == [2, 1]  # no new item for user 1; one for the newcomer
    assert f["u_days_since_last"][1] == pytest.approx(0.0)  # an event without time: "now"
    assert f["u_tenure"][1] == pytest.approx(as_of - day)


@pytest.fixture(scope="module")
def reranked(cut):
    gens = [CandidateGenerator(ItemKNNRecommender(), 30),
            CandidateGenerator(PopularRecommender(), 30)]
    return CandidateRankingModel(gens, reranker=LGBMReranker(n_estimators=40),
                                 guard=False).fit(cut[1])


def _hot(ds):
    return ds.user_map.external_ids[ds.hot_user_mask()]


def test_two_stage_serves_recent_events(reranked, cut):
    _, before, later = cut
    users = [u for u in later["user_id"].unique() if u in set(_hot(before))][:40]
    ev = later[later["user_id"].isin(users)][COLS]
    plain = reranked.recommend(users, k=10)
    got = reranked.recommend(users, k=10, recent_events=ev)
    assert set(got["source"]) == {"two_stage"}
    # the recent events join the seen filter
    hist = before.interactions[before.interactions["user_id"].isin(users)]
    seen = set(zip(hist["user_id"], hist["item_id"])) | set(zip(ev["user_id"], ev["item_id"]))
    assert not seen & set(zip(got["user_id"], got["item_id"]))
    changed = sum(plain[plain.user_id == u].item_id.tolist()
                  != got[got.user_id == u].item_id.tolist() for u in users)
    assert changed >= 0.8 * len(users)
    # users are independent: one call for all == one call per user
    one = pd.concat([reranked.recommend([u], k=10, recent_events=ev[ev.user_id == u])
                     for u in users], ignore_index=True)
    pd.testing.assert_frame_equal(got, one)
    pd.testing.assert_frame_equal(reranked.recommend(users, k=10), plain)  # unchanged model


def test_two_stage_serves_a_user_first_seen_in_recent_events(reranked, cut):
    _, before, later = cut
    item = later["item_id"].value_counts().index[0]
    ev = pd.DataFrame({"user_id": ["visitor"], "item_id": [item], "event": ["purchase"]})
    rec = reranked.recommend(["visitor"], k=5, recent_events=ev)
    assert len(rec) == 5 and item not in set(rec["item_id"])
    assert set(rec["source"]) == {"two_stage"}


def test_two_stage_recent_events_threads_and_save_load(reranked, cut, tmp_path):
    _, before, later = cut
    users = [u for u in later["user_id"].unique() if u in set(_hot(before))][:12]
    batches = {u: later[later.user_id == u][COLS] for u in users}
    want = {u: reranked.recommend([u], k=10, recent_events=batches[u]) for u in users}
    got: dict = {}
    errors: list = []

    def run(u):
        try:
            got[u] = reranked.recommend([u], k=10, recent_events=batches[u])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(u,)) for u in users for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for u in users:
        pd.testing.assert_frame_equal(got[u], want[u])
    loaded = Recommender.load(reranked.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(
        loaded.recommend(users, k=10, recent_events=later[later.user_id.isin(users)][COLS]),
        reranked.recommend(users, k=10, recent_events=later[later.user_id.isin(users)][COLS]))


def test_guarded_two_stage_with_recent_events_equals_the_served_generator(cut):
    """When the guard serves a generator alone, recent events reach it unchanged."""
    _, before, later = cut
    knn = CandidateGenerator(ItemKNNRecommender(), 30)
    model = CandidateRankingModel([knn], reranker=LGBMReranker(n_estimators=5)).fit(before)
    model.choice_ = {m: "item_knn" for m in model.choice_}  # serve the generator
    users = [u for u in later["user_id"].unique() if u in set(_hot(before))][:30]
    ev = later[later["user_id"].isin(users)][COLS]
    got = model.recommend(users, k=10, recent_events=ev)
    want = model.generators_[0].recommend(users, k=10, recent_events=ev)
    assert got["item_id"].tolist() == want["item_id"].tolist()
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-6)

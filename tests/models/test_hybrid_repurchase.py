"""RepurchaseRecommender: due-ness, frequency, learned weights, fill, point-in-time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.sample_data import load_sample, synthetic
from persona_rec.exceptions import InvalidParameterError
from persona_rec.models.repurchase import (
    FEATURE_NAMES,
    RepurchaseRecommender,
    repurchase_features,
)

T0 = pd.Timestamp("2024-01-01")


def _shop() -> Dataset:
    """User 1: coffee weekly (due now), tea weekly long ago (lapsed), a mug once.

    User 2: soap every 30 days, last bought 2 days before the end (not due),
    and shampoo every 30 days, last bought 28 days before the end (due).
    """
    rows = []
    for d in range(0, 64, 7):  # coffee on days 0..63, every 7 days; last = day 63
        rows.append((1, "coffee", T0 + pd.Timedelta(days=d)))
    for d in (0, 7, 14):
        rows.append((1, "tea", T0 + pd.Timedelta(days=d)))
    rows.append((1, "mug", T0 + pd.Timedelta(days=60)))
    for d in (8, 38, 68):  # end of data = day 70
        rows.append((2, "soap", T0 + pd.Timedelta(days=d)))
    for d in (-18, 12, 42):
        rows.append((2, "shampoo", T0 + pd.Timedelta(days=d)))
    rows.append((3, "mug", T0 + pd.Timedelta(days=70)))
    rows.append((3, "tea", T0 + pd.Timedelta(days=69)))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    inter["event"] = "purchase"
    return Dataset.from_frames(inter)


def _ndcg(reco: pd.DataFrame, test: pd.DataFrame, k: int = 10) -> float:
    rel = test.groupby(Columns.USER)[Columns.ITEM].agg(set)
    lists = reco.sort_values([Columns.USER, Columns.RANK]).groupby(Columns.USER)[Columns.ITEM].agg(list)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    out = []
    for user, items in rel.items():
        got = lists.get(user, [])[:k]
        dcg = sum(disc[i] for i, it in enumerate(got) if it in items)
        out.append(dcg / disc[: min(len(items), k)].sum())
    return float(np.mean(out))


def _buy_again_counts(train: Dataset, users: np.ndarray, k: int = 10) -> pd.DataFrame:
    """Plain buy-again baseline: past items by number of orders (ties: most recent)."""
    it = train.interactions
    it = it[it[Columns.EVENT] == "purchase"]
    c = it.groupby([Columns.USER, Columns.ITEM]).agg(
        n=("order_id", "nunique"), last=(Columns.TIMESTAMP, "max")).reset_index()
    c = c[c[Columns.USER].isin(users)].sort_values(
        [Columns.USER, "n", "last"], ascending=[True, False, False])
    c = c.groupby(Columns.USER).head(k).copy()
    c[Columns.RANK] = c.groupby(Columns.USER).cumcount() + 1
    return c


def _time_split(ds: Dataset, days: int = 30) -> tuple[Dataset, pd.DataFrame]:
    cut = ds.time_range[1] - pd.Timedelta(days=days)
    train = ds.filter_time(end=cut)
    test = ds.interactions
    test = test[(test[Columns.TIMESTAMP] >= cut) & (test[Columns.EVENT] == "purchase")]
    hot = train.user_map.external_ids[train.hot_user_mask()]
    return train, test[test[Columns.USER].isin(hot)]


def test_due_item_ranks_first_and_lapsed_last() -> None:
    model = RepurchaseRecommender(learn=False, fill="none").fit(_shop())
    rec = model.recommend([1], k=5, filter_seen=False)
    assert rec[Columns.ITEM].tolist()[0] == "coffee"
    assert set(rec[Columns.ITEM]) == {"coffee", "tea", "mug"}
    scores = dict(zip(rec[Columns.ITEM], rec[Columns.SCORE]))
    assert scores["coffee"] > scores["tea"]
    assert ((rec[Columns.SCORE] > 0) & (rec[Columns.SCORE] < 1)).all()
    assert not model.learned_


def test_due_feature_prefers_due_over_just_bought() -> None:
    ds = _shop()
    as_of = ds.time_range[1] + pd.Timedelta(seconds=1)
    pu, pi, X = repurchase_features(ds.internal_interactions, ds.n_items, as_of, horizon_days=10)
    frame = pd.DataFrame(X, columns=list(FEATURE_NAMES))
    frame["user"] = ds.user_map.to_external(pu)
    frame["item"] = ds.item_map.to_external(pi)
    f = frame.set_index(["user", "item"])
    # same frequency (3 orders, 30-day cycle): shampoo is due, soap was just bought
    assert f.loc[(2, "shampoo"), "ln_orders"] == f.loc[(2, "soap"), "ln_orders"]
    assert f.loc[(2, "shampoo"), "due"] > 0.9
    assert f.loc[(2, "soap"), "due"] < f.loc[(2, "shampoo"), "due"] - 0.3
    # weekly coffee, last bought a week ago: due; tea last bought 56 days ago: overdue, decays
    assert f.loc[(1, "coffee"), "due"] > f.loc[(1, "tea"), "due"]
    assert f.loc[(1, "coffee"), "has_cycle"] == 1 and f.loc[(1, "mug"), "has_cycle"] == 0
    model = RepurchaseRecommender(learn=False, fill="none", horizon_days=10).fit(ds)
    rec = model.recommend([2], k=2, filter_seen=False)
    assert rec[Columns.ITEM].tolist() == ["shampoo", "soap"]


def test_features_are_point_in_time() -> None:
    ds = _shop()
    cut = T0 + pd.Timedelta(days=50)
    a = repurchase_features(ds.internal_interactions, ds.n_items, cut)
    early = ds.filter_time(end=cut)
    b = repurchase_features(early.internal_interactions, early.n_items, cut)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_fill_modes_and_filter_seen() -> None:
    ds = _shop()
    none = RepurchaseRecommender(learn=False, fill="none").fit(ds)
    assert len(none.recommend([1], k=5, filter_seen=True)) == 0
    pop = RepurchaseRecommender(learn=False, fill="popular").fit(ds)
    rec = pop.recommend([1], k=10, filter_seen=False)
    # own purchases first (positive scores), then other bought items (negative scores)
    own = rec[rec[Columns.SCORE] > 0][Columns.ITEM].tolist()
    rest = rec[rec[Columns.SCORE] < 0][Columns.ITEM].tolist()
    assert set(own) == {"coffee", "tea", "mug"}
    assert set(rest) == {"soap", "shampoo"}
    assert rec[Columns.RANK].tolist() == list(range(1, 6))
    seen_filtered = pop.recommend([1], k=10, filter_seen=True)
    assert set(seen_filtered[Columns.ITEM]) == {"soap", "shampoo"}


def test_learned_beats_buy_again_on_synthetic_cycles() -> None:
    ds = synthetic(n_users=1500, n_items=300, n_events=60_000, random_state=1).dataset
    train, test = _time_split(ds)
    users = test[Columns.USER].unique()
    model = RepurchaseRecommender(random_state=0).fit(train)
    assert model.learned_ and model.n_train_positives_ >= 30
    ours = _ndcg(model.recommend(users, k=10, filter_seen=False), test)
    base = _ndcg(_buy_again_counts(train, users), test)
    assert ours > base + 0.03, (ours, base)


def test_real_sample_beats_buy_again() -> None:
    """Online Retail sample (real data): last 30 days held out, repeats allowed."""
    train, test = _time_split(load_sample())
    users = test[Columns.USER].unique()
    assert len(users) > 200
    model = RepurchaseRecommender().fit(train)
    assert model.learned_
    ours = _ndcg(model.recommend(users, k=10, filter_seen=False), test)
    base = _ndcg(_buy_again_counts(train, users), test)
    assert ours > base + 0.03, (ours, base)
    # the learned weights make sense: within a user's list, an item bought in more
    # orders scores higher (raw and within-user weights add up inside one user)
    w = dict(zip(model.feature_names_, model.coef_))
    assert w["ln_orders"] + w["ln_orders_vs_user"] > 0
    assert len(model.coef_) == 2 * len(FEATURE_NAMES)
    raw = RepurchaseRecommender(within_user=False).fit(train)
    assert raw.feature_names_ == list(FEATURE_NAMES)
    assert ours > _ndcg(raw.recommend(users, k=10, filter_seen=False), test)


def test_more_windows_more_examples() -> None:
    ds = synthetic(n_users=300, n_items=100, n_events=12_000, random_state=4).dataset
    one = RepurchaseRecommender(min_positives=5).fit(ds)
    three = RepurchaseRecommender(min_positives=5, n_windows=3).fit(ds)
    assert three.n_train_pairs_ > one.n_train_pairs_ > 0
    assert three.n_train_positives_ > one.n_train_positives_


def test_feature_frame_and_recommend_agree() -> None:
    ds = _shop()
    model = RepurchaseRecommender(learn=False, fill="none").fit(ds)
    frame = model.feature_frame(ds, user_ids=[1])
    assert list(frame.columns) == [Columns.USER, Columns.ITEM, *FEATURE_NAMES, Columns.SCORE]
    rec = model.recommend([1], k=5, filter_seen=False)
    assert frame[Columns.ITEM].tolist() == rec[Columns.ITEM].tolist()
    np.testing.assert_allclose(frame[Columns.SCORE], rec[Columns.SCORE], rtol=1e-6)


def test_dataset_context_rescores_newer_snapshot() -> None:
    ds = _shop()
    early = ds.filter_time(end=T0 + pd.Timedelta(days=40))
    model = RepurchaseRecommender(learn=False, fill="none").fit(early)
    old = model.recommend([2], k=5, filter_seen=False)
    new = model.recommend([2], k=5, filter_seen=False, dataset=ds)
    assert set(new[Columns.ITEM]) == {"soap", "shampoo"}
    assert not np.allclose(np.sort(old[Columns.SCORE]), np.sort(new[Columns.SCORE]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon_days": 0}, "'horizon_days'.*> 0"),
        ({"learn": "yes"}, "'learn'.*bool"),
        ({"min_positives": 0}, "'min_positives'.*>= 1"),
        ({"C": -1.0}, "'C'"),
        ({"fill": "random"}, "'fill'.*one of"),
        ({"n_windows": 0}, "'n_windows'.*>= 1"),
    ],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        RepurchaseRecommender(**kwargs)


def test_explain_in_readable_units() -> None:
    ds = _shop()
    model = RepurchaseRecommender(learn=False, fill="popular").fit(ds)
    rec = model.recommend([1], k=10, filter_seen=False)
    exp = model.explain(rec, ds)
    assert exp[Columns.ITEM].tolist() == rec[Columns.ITEM].tolist()
    row = exp.set_index(Columns.ITEM).loc["coffee"]
    assert row["n_orders"] == 10
    assert row["days_since"] == pytest.approx(7.0, abs=0.01)  # last event day 70, coffee day 63
    assert row["cycle_days"] == pytest.approx(7.0, rel=0.05)  # weekly, shrunk toward the prior
    # fill rows (never bought by the user) carry no purchase history
    assert exp.set_index(Columns.ITEM).loc[["soap", "shampoo"], "n_orders"].isna().all()


# ------------------------------------------------------------ BuyAgainRecommender
def test_buy_again_counts_distinct_orders_and_ignores_views() -> None:
    from persona_rec.models.repurchase import BuyAgainRecommender

    inter = pd.DataFrame({
        "user_id": [1, 1, 1, 1, 1, 1, 2],
        "item_id": ["tea", "tea", "tea", "mug", "mug", "cake", "cake"],
        # two tea rows in order A (one order), tea again in B; mug in A and C;
        # the cake row of user 1 is a view (not an order)
        "order_id": ["A", "A", "B", "A", "C", None, "D"],
        "event": ["purchase"] * 5 + ["view", "purchase"],
        "timestamp": T0 + pd.to_timedelta([0, 0.01, 5, 0, 9, 10, 3], unit="D"),
    })
    ds = Dataset.from_frames(inter)
    model = BuyAgainRecommender(tie_break="recency").fit(ds)
    reco = model.recommend([1], k=5, filter_seen=False)
    # tea and mug both in 2 orders; mug bought more recently -> first; the viewed cake is absent
    assert reco["item_id"].tolist() == ["mug", "tea"]
    assert np.floor(reco["score"].to_numpy()).tolist() == [2.0, 2.0]
    pop = BuyAgainRecommender(tie_break="popularity", fill="popular").fit(ds)
    reco = pop.recommend([1], k=5, filter_seen=False)
    assert reco["item_id"].tolist()[:2] == ["mug", "tea"] or reco["item_id"].tolist()[:2] == [
        "tea", "mug"]
    assert reco["item_id"].tolist()[-1] == "cake"  # popular fill after own items
    assert (reco["score"].to_numpy()[-1] < 0) and (reco["score"].to_numpy()[:2] > 1).all()


def test_buy_again_matches_recommending_with_a_dataset_argument() -> None:
    from persona_rec.models.repurchase import BuyAgainRecommender

    ds = _shop()
    model = BuyAgainRecommender(tie_break="recency").fit(ds)
    direct = model.recommend([1, 2], k=3, filter_seen=False)
    via = model.recommend([1, 2], k=3, filter_seen=False, dataset=ds)
    pd.testing.assert_frame_equal(direct, via)
    # coffee: 10 weekly orders -> first for user 1
    assert direct.loc[direct["user_id"] == 1, "item_id"].iloc[0] == "coffee"


def test_buy_again_rejects_bad_parameters() -> None:
    from persona_rec.models.repurchase import BuyAgainRecommender

    with pytest.raises(InvalidParameterError, match="tie_break"):
        BuyAgainRecommender(tie_break="price")
    with pytest.raises(InvalidParameterError, match="use_purchases"):
        BuyAgainRecommender(use_purchases="yes")

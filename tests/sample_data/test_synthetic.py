"""Synthetic generator: determinism, contract columns and recoverable planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from persona_rec.dataset import Dataset
from persona_rec.sample_data import SyntheticData, synthetic, synthetic_frames
from persona_rec.sample_data.synthetic import CATEGORY_TREE
from persona_rec.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return synthetic(2000, 500, 50_000, n_segments=4, random_state=0)


@pytest.fixture(scope="module")
def purchases(data):
    inter = data.dataset.interactions
    return inter[inter["event"] == "purchase"].copy()


def test_determinism():
    a = synthetic_frames(300, 60, 5000, random_state=3)
    b = synthetic_frames(300, 60, 5000, random_state=3)
    c = synthetic_frames(300, 60, 5000, random_state=4)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    assert not a[0].equals(c[0])


def test_contract_columns(data):
    ds = data.dataset
    assert isinstance(ds, Dataset)
    inter = ds.interactions
    assert {"user_id", "item_id", "timestamp", "event", "quantity", "price", "order_id",
            "session_id"} <= set(inter.columns)
    assert inter["user_id"].dtype.kind == "i" and inter["item_id"].dtype.kind == "i"
    assert set(inter["event"].astype(str)) == {"view", "cart", "purchase"}
    assert {"age", "gender", "city", "registration_date"} <= set(ds.users.columns)
    assert {"category", "brand", "price", "title", "first_seen"} <= set(ds.items.columns)
    assert ds.items["category"].str.count(" > ").eq(2).all()
    assert list(data.user_truth.columns[:6]) == ["segment", "price_sensitive", "novelty_seeker",
                                                 "is_new", "is_churned", "attribute_only"]
    assert {"cycle_days"} <= set(data.user_truth.columns)
    assert data.user_truth.index.name == "user_id" and data.item_truth.index.name == "item_id"
    assert "segment_affinity" in data.item_truth.columns
    assert ds.n_interactions == 50_000 and ds.n_users == 2000 and ds.n_items == 500


def test_exact_event_count_and_funnel(data, purchases):
    inter = data.dataset.interactions
    shares = inter["event"].value_counts(normalize=True)
    assert 0.6 < shares["view"] < 0.8 and 0.08 < shares["purchase"] < 0.2
    # every purchase line is preceded by a view and a cart of the same item in its session
    key = ["user_id", "item_id", "session_id"]
    firsts = inter.groupby(key + ["event"], observed=True)["timestamp"].min().unstack("event")
    bought = firsts.dropna(subset=["purchase"])
    assert (bought["view"] <= bought["cart"]).all() and (bought["cart"] <= bought["purchase"]).all()
    assert purchases["order_id"].notna().all()
    assert inter.loc[inter["event"] != "purchase", "order_id"].isna().all()


def test_attribute_only_users_and_timing(data):
    ds, truth = data.dataset, data.user_truth
    state = pd.Series(ds.user_state(truth.index), index=truth.index)
    assert (state[truth["attribute_only"]] == "warm").all()
    assert (state[~truth["attribute_only"]] == "hot").all()
    inter = ds.interactions
    items = ds.items.set_index("item_id")
    assert (inter["timestamp"].to_numpy() >= items["first_seen"].reindex(inter["item_id"]).to_numpy()).all()
    reg = ds.users.set_index("user_id")["registration_date"]
    assert (inter["timestamp"].to_numpy() >= reg.reindex(inter["user_id"]).to_numpy()).all()
    assert data.start <= inter["timestamp"].min() and inter["timestamp"].max() < data.end


def test_power_law_popularity(data):
    counts = data.dataset.interactions["item_id"].value_counts()
    top_decile = counts.iloc[: len(counts) // 10].sum() / counts.sum()
    assert top_decile > 0.45  # Zipf: the top 10% of items take about 60% of events


def test_segments_recovered_by_kmeans(data):
    inter = data.dataset.interactions
    l1 = data.dataset.items.set_index("item_id")["category"].str.split(" > ").str[0]
    inter["l1"] = l1.reindex(inter["item_id"]).to_numpy()
    aff = pd.crosstab(inter["user_id"], inter["l1"], normalize="index")
    assert set(aff.columns) == set(CATEGORY_TREE)
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(aff)
    ari = adjusted_rand_score(data.user_truth.loc[aff.index, "segment"], labels)
    assert ari >= 0.9
    # each segment's favourite L1 categories are the ones its users engage with most
    top = aff.groupby(data.user_truth.loc[aff.index, "segment"]).mean().idxmax(axis=1)
    for seg, l1_name in top.items():
        favourite = data.user_truth.loc[data.user_truth["segment"] == seg, "favourite_l1"].iloc[0]
        assert l1_name in favourite.split("|")


def test_price_sensitive_recovered(data, purchases):
    med = purchases.groupby("item_id")["price"].transform("median")
    purchases["below"] = purchases["price"] < med
    g = purchases.groupby("user_id")["below"].agg(["mean", "size"])
    g = g[g["size"] >= 3]
    pred = g["mean"] >= 0.6
    truth = data.user_truth.loc[g.index, "price_sensitive"]
    precision = (pred & truth).sum() / pred.sum()
    recall = (pred & truth).sum() / truth.sum()
    assert precision >= 0.9 and recall >= 0.9
    # they also pick cheaper items: lower median list price of what they buy
    list_price = data.dataset.items.set_index("item_id")["price"]
    purchases["list"] = list_price.reindex(purchases["item_id"]).to_numpy()
    ps_users = data.user_truth.index[data.user_truth["price_sensitive"]]
    is_ps = purchases["user_id"].isin(ps_users)
    assert purchases.loc[is_ps, "list"].median() < purchases.loc[~is_ps, "list"].median()


def test_novelty_seekers_recovered(data, purchases):
    first_seen = data.dataset.items.set_index("item_id")["first_seen"]
    age = purchases["timestamp"] - first_seen.reindex(purchases["item_id"]).to_numpy()
    purchases["fresh"] = age < pd.Timedelta(days=30)
    g = purchases.groupby("user_id")["fresh"].agg(["mean", "size"])
    g = g[g["size"] >= 3]
    truth = data.user_truth.loc[g.index, "novelty_seeker"]
    pred = g["mean"] >= 0.3
    assert (pred & truth).sum() / pred.sum() >= 0.9
    assert (pred & truth).sum() / truth.sum() >= 0.8
    assert g.loc[truth.index[truth], "mean"].mean() > 10 * g.loc[truth.index[~truth], "mean"].mean()


def test_new_and_churned_users_recovered(data):
    inter = data.dataset.interactions
    span = inter.groupby("user_id")["timestamp"].agg(["min", "max"])
    truth = data.user_truth.loc[span.index]
    looks_new = span["min"] >= data.end - pd.Timedelta(days=30)
    looks_churned = span["max"] < data.end - pd.Timedelta(days=90)
    assert looks_new[truth["is_new"]].all() and looks_churned[truth["is_churned"]].all()
    assert (looks_new == truth["is_new"]).mean() >= 0.98
    assert (looks_churned == truth["is_churned"]).mean() >= 0.97
    assert truth["is_new"].sum() > 50 and truth["is_churned"].sum() > 150


def test_repurchase_cycles_recovered(data, purchases):
    orders = (purchases.groupby(["user_id", "order_id"])["timestamp"].first()
              .reset_index().sort_values(["user_id", "timestamp"]))
    orders["gap"] = orders.groupby("user_id")["timestamp"].diff().dt.total_seconds() / 86400
    gap = orders.groupby("user_id")["gap"].mean()
    n = orders.groupby("user_id").size()
    sel = n[n >= 4].index
    planted = data.user_truth.loc[sel, "cycle_days"]
    assert spearmanr(gap[sel], planted)[0] >= 0.9
    assert (gap[sel] / planted - 1).abs().median() < 0.15
    # repeat purchases of the same item across orders exist
    repeats = purchases.groupby(["user_id", "item_id"])["order_id"].nunique()
    assert (repeats >= 2).mean() > 0.05


def test_demographics_differ_by_segment(data):
    users = data.dataset.users.set_index("user_id")
    seg = data.user_truth["segment"]
    mean_age = users["age"].groupby(seg).mean()
    assert mean_age.max() - mean_age.min() > 15
    female = (users["gender"] == "F").groupby(seg).mean()
    assert female.max() - female.min() > 0.3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_users": 0}, r"'n_users' parameter of synthetic must be an int >= 1, got 0"),
        ({"n_items": 5}, r"'n_items' parameter of synthetic must be an int >= 20, got 5"),
        ({"n_segments": 9}, r"'n_segments' parameter of synthetic must be an int <= 8"),
        ({"n_events": 10}, r"'n_events' parameter of synthetic must be >= the number of active users"),
        ({"churn_share": 1.5}, r"'churn_share' parameter of synthetic must be a number >= 0.0 and <= 1.0, got 1.5"),
        ({"new_share": 0.6, "churn_share": 0.6}, r"new_share \+ churn_share must be <= 1"),
        ({"random_state": "x"}, r"'random_state' parameter of synthetic must be an int or None, got 'x'"),
        ({"start": "not a date"}, r"'start' parameter of synthetic must be a date, got 'not a date'"),
        ({"days": 30}, r"'days' parameter of synthetic must be an int >= 180, got 30"),
    ],
)
def test_bad_parameters(kwargs, match):
    args = {"n_users": 100, "n_items": 30, "n_events": 1000, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        synthetic_frames(**args)


def test_scales_linearly_small():
    inter, users, items, truth = synthetic_frames(20_000, 2_000, 400_000, random_state=1)
    assert len(inter) == 400_000 and inter["timestamp"].is_monotonic_increasing
    assert np.isin(inter["user_id"].unique(), users["user_id"]).all()


@pytest.mark.parametrize("n_segments", [1, 3, 8])
def test_any_segment_count_and_edge_shares(n_segments):
    data = synthetic(400, 40, 4000, n_segments=n_segments, random_state=n_segments)
    assert data.dataset.n_interactions == 4000
    assert data.user_truth["segment"].nunique() == n_segments
    assert set(data.item_truth["segment_affinity"]) <= set(range(n_segments))


def test_extreme_shares_still_valid():
    only_registered = synthetic(50, 20, 200, days=180, attribute_only_share=1.0)
    assert only_registered.user_truth["attribute_only"].sum() == 49  # one user keeps the events
    flat = synthetic(300, 50, 3000, popularity_exponent=0.0, new_share=0.0, churn_share=0.0,
                     price_sensitive_share=0.0, novelty_share=1.0)
    assert not flat.user_truth[["is_new", "is_churned", "price_sensitive"]].any().any()
    assert flat.user_truth.loc[~flat.user_truth["attribute_only"], "novelty_seeker"].all()

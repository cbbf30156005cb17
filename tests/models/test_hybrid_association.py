"""CoPurchaseRecommender: rule metrics against a brute-force count, FBT, cross-sell."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.sample_data import load_sample
from persona_rec.exceptions import InvalidParameterError, MissingColumnError, UnknownIdError
from persona_rec.models.association import CoPurchaseRecommender


def _random_orders(rng: np.random.Generator, n_orders: int = 300) -> pd.DataFrame:
    """Orders with planted pairs (a, b) and (c, d) plus random noise items."""
    rows = []
    t0 = pd.Timestamp("2024-01-01")
    for o in range(n_orders):
        user = f"u{rng.integers(0, 60)}"
        items = set(rng.choice([f"x{j}" for j in range(20)], size=rng.integers(1, 4), replace=False))
        if rng.random() < 0.3:
            items |= {"a", "b"}
        if rng.random() < 0.2:
            items |= {"c", "d"}
        if rng.random() < 0.1:
            items.add("a")
        ts = t0 + pd.Timedelta(hours=int(o))
        rows += [(user, it, ts, f"o{o}") for it in sorted(items)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "order_id"])
    inter["event"] = "purchase"
    return inter


def _brute_force(inter: pd.DataFrame) -> pd.DataFrame:
    baskets = inter.groupby("order_id")["item_id"].agg(lambda s: sorted(set(s)))
    n = len(baskets)
    single = pd.Series([i for b in baskets for i in b]).value_counts()
    pair = pd.Series([p for b in baskets for p in itertools.permutations(b, 2)]).value_counts()
    out = pd.DataFrame(
        {"antecedent": [p[0] for p in pair.index], "consequent": [p[1] for p in pair.index],
         "count": pair.to_numpy()}
    )
    out["support"] = out["count"] / n
    out["confidence"] = out["count"] / single.loc[out["antecedent"]].to_numpy()
    out["lift"] = out["confidence"] / (single.loc[out["consequent"]].to_numpy() / n)
    return out


def test_rule_metrics_match_brute_force(rng: np.random.Generator) -> None:
    inter = _random_orders(rng)
    model = CoPurchaseRecommender(min_count=2).fit(Dataset.from_frames(inter))
    rules = model.rules()
    ref = _brute_force(inter)
    ref = ref[ref["count"] >= 2]
    merged = ref.merge(rules, on=["antecedent", "consequent"], suffixes=("_ref", ""))
    assert len(merged) == len(ref) == len(rules)
    for col in ("support", "confidence", "lift", "count"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_ref"], rtol=1e-5)
    # planted pairs are the strongest rules
    top = set(zip(rules["antecedent"][:4], rules["consequent"][:4]))
    assert top == {("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")}


def test_rule_thresholds(rng: np.random.Generator) -> None:
    inter = _random_orders(rng)
    model = CoPurchaseRecommender().fit(Dataset.from_frames(inter))
    strict = model.rules(min_support=0.1, min_confidence=0.6, min_lift=1.5)
    assert len(strict) > 0
    assert (strict["support"] >= 0.1).all() and (strict["confidence"] >= 0.6).all()
    assert (strict["lift"] >= 1.5).all()
    assert strict["lift"].is_monotonic_decreasing
    with pytest.raises(InvalidParameterError, match="'min_confidence'.*<= 1"):
        model.rules(min_confidence=1.5)


def test_frequently_bought_together(rng: np.random.Generator) -> None:
    inter = _random_orders(rng)
    model = CoPurchaseRecommender().fit(Dataset.from_frames(inter))
    fbt = model.frequently_bought_together(["a"], k=3)
    assert list(fbt.columns) == [Columns.ITEM, Columns.SCORE, Columns.RANK]
    assert fbt[Columns.ITEM].iloc[0] == "b"
    basket = model.frequently_bought_together(["a", "c"], k=5)
    assert set(basket[Columns.ITEM][:2]) == {"b", "d"}
    assert not basket[Columns.ITEM].isin(["a", "c"]).any()
    with pytest.raises(UnknownIdError, match="nope"):
        model.frequently_bought_together(["nope"])
    with pytest.raises(InvalidParameterError, match="'by'"):
        model.frequently_bought_together(["a"], by="magic")
    sim = model.similar_items(["c"], k=1)
    assert sim["similar_item_id"].tolist() == ["d"]


def test_recommend_follows_latest_basket() -> None:
    t = pd.Timestamp("2024-01-01")
    rows = []
    for o in range(10):  # pasta+sauce and beer+chips are bought together by many users
        rows += [(f"p{o}", "pasta", t, f"a{o}"), (f"p{o}", "sauce", t, f"a{o}")]
        rows += [(f"b{o}", "beer", t, f"b{o}"), (f"b{o}", "chips", t, f"b{o}")]
    # the target user bought beer long ago and pasta in the latest order
    rows += [("me", "beer", t, "m1"), ("me", "pasta", t + pd.Timedelta(days=30), "m2")]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "order_id"])
    model = CoPurchaseRecommender(n_recent_baskets=2, recency_decay=0.5).fit(
        Dataset.from_frames(inter))
    rec = model.recommend(["me"], k=2)
    assert rec[Columns.ITEM].tolist() == ["sauce", "chips"]
    only_last = CoPurchaseRecommender(n_recent_baskets=1).fit(Dataset.from_frames(inter))
    assert only_last.recommend(["me"], k=5)[Columns.ITEM].tolist() == ["sauce"]
    exp = model.explain(rec)
    assert exp["because_of"].tolist() == ["pasta", "beer"]
    assert exp["rule_confidence"].tolist() == pytest.approx([10 / 11, 10 / 11])


def test_basket_modes() -> None:
    t = pd.Timestamp("2024-01-01")
    inter = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2],
        "item_id": ["a", "b", "c", "a", "b"],
        "timestamp": [t, t, t + pd.Timedelta(days=3), t, t],
    })
    ds = Dataset.from_frames(inter)
    day = CoPurchaseRecommender(min_count=1, basket="auto").fit(ds)
    assert day.n_baskets_ == 3
    user = CoPurchaseRecommender(min_count=1, basket="user").fit(ds)
    assert user.n_baskets_ == 2
    assert ("a", "c") in set(zip(user.rules()["antecedent"], user.rules()["consequent"]))
    assert ("a", "c") not in set(zip(day.rules()["antecedent"], day.rules()["consequent"]))
    with pytest.raises(MissingColumnError, match="order_id"):
        CoPurchaseRecommender(basket="order").fit(ds)
    with pytest.raises(InvalidParameterError, match="'basket'"):
        CoPurchaseRecommender(basket="cart")


def test_real_sample_rules_match_pandas() -> None:
    """On the Online Retail sample the top rules agree with a direct pandas count."""
    ds = load_sample()
    model = CoPurchaseRecommender(min_count=5).fit(ds)
    rules = model.rules(min_support=0.005, min_confidence=0.5)
    assert len(rules) >= 20
    inter = ds.interactions
    orders = inter.groupby("order_id")[Columns.ITEM].agg(set)
    assert model.n_baskets_ == len(orders)
    for a, c, conf, sup in rules[["antecedent", "consequent", "confidence", "support"]][:20].itertuples(
            index=False):
        has_a = orders.map(lambda s, a=a: a in s)
        both = orders.map(lambda s, a=a, c=c: a in s and c in s)
        assert conf == pytest.approx(both.sum() / has_a.sum(), rel=1e-5)
        assert sup == pytest.approx(both.sum() / len(orders), rel=1e-5)

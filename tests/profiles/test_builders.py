"""Exact, hand-computed profile values on the tiny literal shop (see conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.profiles import (
    LIFECYCLE_STAGES,
    AffinityBuilder,
    ProfileBuilder,
    RFMBuilder,
)

from .conftest import AS_OF

DAY = pd.Timedelta(days=1)


def days(a: str, b: pd.Timestamp = AS_OF) -> float:
    return (b - pd.Timestamp(a)) / DAY


@pytest.fixture
def prof(tiny_dataset):
    return ProfileBuilder.default(half_life_days=10.0).build(tiny_dataset, as_of=AS_OF)


def test_frame_has_one_row_per_user_in_map_order(prof, tiny_dataset):
    assert prof.frame.index.tolist() == tiny_dataset.user_map.external_ids.tolist()
    assert prof.frame.index.name == "user_id"
    assert set(prof.frame.index) == set("abcdefg")
    assert prof.as_of == AS_OF


def test_rfm_values(prof):
    f = prof.frame
    assert f.loc["a", "recency_days"] == pytest.approx(days("2024-02-20 10:00"))
    assert f.loc["b", "recency_days"] == pytest.approx(days("2024-02-25 09:20"))
    assert f.loc["e", "recency_days"] == pytest.approx(152.0)
    assert f.loc[list("abefg"), "frequency"].tolist() == [3, 1, 2, 2, 2]
    assert f.loc[list("abefg"), "monetary"].tolist() == [78.0, 8.0, 60.0, 60.0, 60.0]
    assert f.loc["a", "avg_order_value"] == pytest.approx(26.0)
    # rank-based quintiles among the 5 purchasers; ties (e, f, g) share a score
    assert f.loc[list("abefg"), "r_score"].tolist() == [4, 5, 1, 2, 3]
    assert f.loc[list("abefg"), "f_score"].tolist() == [5, 1, 3, 3, 3]
    assert f.loc[list("abefg"), "m_score"].tolist() == [5, 1, 3, 3, 3]
    assert f.loc[list("abefg"), "rfm_score"].tolist() == [14, 7, 7, 8, 9]
    # no purchase -> NaN RFM
    for user in "cd":
        assert f.loc[user, ["recency_days", "frequency", "monetary", "r_score"]].isna().all()


def test_activity_values(prof):
    f = prof.frame
    assert f.loc[list("abcd"), "n_events"].tolist() == [5, 3, 0, 1]
    assert f.loc["a", "active_days"] == 4
    assert f.loc["a", "n_sessions"] == 4  # the two 2024-01-01 lines are 5 minutes apart
    assert f.loc["b", "n_sessions"] == 1
    assert f.loc["a", "preferred_hour"] == 10
    assert f.loc["a", "preferred_weekday"] == 0  # 2024-01-01 is a Monday
    assert f.loc["b", "preferred_weekday"] == 6  # 2024-02-25 is a Sunday
    assert f.loc["a", "first_seen"] == pd.Timestamp("2024-01-01 10:00")
    assert f.loc["a", "tenure_days"] == pytest.approx(days("2024-01-01 10:00"))
    assert f.loc["a", "view_share"] == pytest.approx(0.2)
    assert f.loc["a", "purchase_share"] == pytest.approx(0.8)
    assert f.loc["a", "view_to_purchase"] == pytest.approx(4.0)
    assert np.isnan(f.loc["a", "cart_to_purchase"])
    assert f.loc["b", ["view_share", "cart_share", "purchase_share"]].tolist() == \
        pytest.approx([1 / 3] * 3)
    assert f.loc["b", "cart_to_purchase"] == 1.0
    assert pd.isna(f.loc["c", "first_seen"]) and np.isnan(f.loc["c", "view_share"])


def test_affinities_are_decayed_and_normalised(prof, tiny_dataset):
    l1, names = prof.affinities["category_l1"]
    assert sorted(names) == ["garden", "home"]
    assert prof.affinities["category_l2"][1] == ["home/kitchen", "garden/tools"]
    assert sorted(prof.affinities["category_l3"][1]) == ["home/kitchen/mugs",
                                                        "home/kitchen/plates"]
    a = tiny_dataset.user_map.to_internal(["a"])[0]

    def w(ts: str, weight: float) -> float:
        return weight * 0.5 ** (days(ts) / 10.0)

    home = w("2024-01-01 10:00", 5) + w("2024-01-01 10:05", 5) + w("2024-01-31 10:00", 5)
    garden = w("2024-01-20 15:00", 1) + w("2024-02-20 10:00", 5)
    row = dict(zip(names, l1[a].toarray().ravel()))
    assert row["home"] == pytest.approx(home / (home + garden), rel=1e-5)
    assert row["garden"] == pytest.approx(garden / (home + garden), rel=1e-5)
    sums = np.asarray(l1.sum(axis=1)).ravel()
    hot = prof.frame["n_events"].to_numpy() > 0
    assert np.allclose(sums[hot], 1.0) and np.all(sums[~hot] == 0)
    assert l1.dtype == np.float32
    # summaries
    f = prof.frame
    assert f.loc["a", "top_category"] == "garden"  # recent garden purchase outweighs January
    assert f.loc["b", "top_category"] == "home"
    assert f.loc["b", "top_category_l2"] == "home/kitchen"
    assert f.loc["b", "top_brand"] == "acme"
    assert f.loc["a", "top_price_band"] == "high"  # i3 (30) is the top tercile
    assert f.loc["b", "brand_loyalty"] == pytest.approx(1.0)  # 3 branded events, one brand
    assert np.isnan(f.loc["d", "brand_loyalty"])  # fewer than 3 branded events
    assert f.loc["b", "category_diversity"] == 0.0
    p = row["home"]
    expected_div = -(p * np.log(p) + (1 - p) * np.log(1 - p)) / np.log(2)
    assert f.loc["a", "category_diversity"] == pytest.approx(expected_div, rel=1e-5)
    bands, band_names = prof.affinities["price_band"]
    assert band_names == ["low", "mid", "high"]


def test_half_life_changes_decay(tiny_dataset):
    short = ProfileBuilder([AffinityBuilder(half_life_days=1.0)]).build(tiny_dataset, as_of=AS_OF)
    long = ProfileBuilder([AffinityBuilder(half_life_days=1e6)]).build(tiny_dataset, as_of=AS_OF)
    names = long.affinities["category_l1"][1]
    a = tiny_dataset.user_map.to_internal(["a"])[0]
    row_long = dict(zip(names, long.affinities["category_l1"][0][a].toarray().ravel()))
    # no decay: home has 15 of 21 weight units
    assert row_long["home"] == pytest.approx(15 / 21, rel=1e-4)
    row_short = dict(zip(names, short.affinities["category_l1"][0][a].toarray().ravel()))
    assert row_short["garden"] > 0.99


def test_price_sensitivity_discount_and_novelty(prof):
    f = prof.frame
    # no item has 5 sales: reference = list price (i1 10, i2 20, i3 30)
    assert f.loc["a", "price_sensitivity"] == pytest.approx(0.25)  # i2 at 18 < 20
    assert f.loc["b", "price_sensitivity"] == 1.0  # paid 8 < 10
    assert f.loc["e", "price_sensitivity"] == 0.0
    assert f.loc["a", "discount_share"] == pytest.approx(0.25)  # i2 at 18 < list 20
    assert f.loc["b", "discount_share"] == 1.0
    assert f.loc["e", "discount_share"] == 0.0
    # first appearance: min(first_seen attribute, first event)
    assert f.loc["a", "novelty_seeking"] == pytest.approx(0.25)  # only i2 (12 days old)
    assert f.loc["g", "novelty_seeking"] == pytest.approx(0.5)  # first-ever sale of i3
    assert f.loc["e", "novelty_seeking"] == 0.0
    assert np.isnan(f.loc["d", "price_sensitivity"])


def test_lifecycle_stages(prof):
    f = prof.frame
    stages = f["lifecycle_stage"].astype(str).to_dict()
    assert stages == {"a": "active", "b": "new", "c": "prospect", "d": "prospect",
                      "e": "churned", "f": "at_risk", "g": "reactivated"}
    assert list(f["lifecycle_stage"].cat.categories) == list(LIFECYCLE_STAGES)
    # pooled median interval = median(30, 20, 30, 30, 410) = 30, prior weight 3
    assert f.loc["a", "expected_interval_days"] == pytest.approx((2 * 25 + 3 * 30) / 5)
    assert f.loc["b", "expected_interval_days"] == pytest.approx(30.0)
    assert f.loc["g", "expected_interval_days"] == pytest.approx((410 + 90) / 4)


def test_lifecycle_thresholds_are_parameters(tiny_dataset):
    prof = ProfileBuilder.default(at_risk_factor=2.5, churn_factor=6.0).build(
        tiny_dataset, as_of=AS_OF)
    stages = prof.frame["lifecycle_stage"].astype(str)
    assert stages["f"] == "active"  # 61 days < 2.5 * 30
    assert stages["e"] == "at_risk"  # 152 days: > 75, < 180


def test_repurchase_cycle(prof):
    f = prof.frame
    assert f.loc["a", "repurchase_interval_days"] == pytest.approx(25.0)
    assert np.isnan(f.loc["b", "repurchase_interval_days"])
    expected_next = pd.Timestamp("2024-02-20 10:00") + pd.Timedelta(days=28)
    assert abs(f.loc["a", "next_purchase_date"] - expected_next) < pd.Timedelta(seconds=1)
    assert f.loc["a", "days_to_next_purchase"] == pytest.approx(days("2024-03-01", expected_next),
                                                                rel=1e-6)
    cyc = prof.category_cycles
    assert list(cyc.columns) == ["user_id", "category", "n_orders", "median_interval_days",
                                 "last_purchase", "next_purchase_date", "days_overdue"]
    got = {(r.user_id, r.category): (r.n_orders, r.median_interval_days)
           for r in cyc.itertuples()}
    assert got == {("a", "home"): (2, 30.0), ("e", "garden"): (2, 30.0),
                   ("f", "garden"): (2, 30.0), ("g", "garden"): (2, 410.0)}
    row = cyc[(cyc.user_id == "a")].iloc[0]
    assert row.last_purchase == pd.Timestamp("2024-01-31 10:00")
    assert row.next_purchase_date == pd.Timestamp("2024-03-01 10:00")


def test_demographics_and_age_band(prof):
    f = prof.frame
    assert f.loc[list("abc"), "age_band"].tolist() == ["25-34", "<18", "65+"]
    assert f.loc["a", "country"] == "UK"
    assert pd.isna(f.loc["d", "age_band"])
    assert f.loc["a", "account_age_days"] == pytest.approx(91.0)
    assert np.isnan(f.loc["c", "account_age_days"])  # registers after as_of
    assert {"age", "gender", "age_band"} <= prof.sensitive_columns


def test_column_docs_cover_every_column(prof):
    assert set(prof.column_docs) == set(prof.frame.columns)
    assert all(len(doc) > 10 for doc in prof.column_docs.values())


def test_custom_builder_list_and_no_order_id(tiny_dataset):
    inter = tiny_dataset.interactions.drop(columns=["order_id"])
    from persona_rec import Dataset
    ds = Dataset.from_frames(inter)
    prof = ProfileBuilder([RFMBuilder()]).build(ds, as_of=AS_OF)
    # without order_id, orders are distinct purchase days: a bought on 3 days
    assert prof.frame.loc["a", "frequency"] == 3
    assert list(prof.frame.columns) == ["recency_days", "frequency", "monetary",
                                        "avg_order_value", "r_score", "f_score", "m_score",
                                        "rfm_score", "known_at_as_of"]
    assert set(prof.affinities) == set()


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_order_id_is_one_order_per_purchase_day(missing):
    """Lines without an order_id are orders per (user, purchase day), as without the column;
    lines with an order_id keep their order (here: two lines of o1 on two days are one order)."""
    from persona_rec import Dataset
    days = pd.to_datetime(["2024-01-01 09:00", "2024-01-02 09:00", "2024-02-01 09:00",
                           "2024-02-01 18:00",
                           "2024-03-01 09:00", "2024-01-01 09:00", "2024-02-01 09:00",
                           "2024-03-01 09:00"])
    ev = pd.DataFrame({"user_id": ["a"] * 5 + ["b"] * 3, "item_id": list("wxyzwxyz"),
                       "timestamp": days, "quantity": [1, 1, 2, 1, 1, 1, 1, 1],
                       "price": [10.0] * 8,
                       "order_id": ["o1", "o1", missing, missing, missing, missing, missing,
                                    missing]})
    f = ProfileBuilder([RFMBuilder()]).build(Dataset.from_frames(ev)).frame
    # a: o1 (2 lines), 2024-02-01 (2 lines, no id), 2024-03-01 -> 3 orders; b: 3 days
    assert f.loc["a", "frequency"] == 3 and f.loc["b", "frequency"] == 3
    assert f.loc["a", "monetary"] == 60.0
    assert f.loc["a", "avg_order_value"] == 20.0 and f.loc["b", "avg_order_value"] == 10.0
    assert f.loc["a", "f_score"] == f.loc["b", "f_score"]  # same number of orders
    no_col = ProfileBuilder([RFMBuilder()]).build(
        Dataset.from_frames(ev[ev["user_id"] == "b"].drop(columns="order_id"))).frame
    assert no_col.loc["b", "frequency"] == 3


def test_default_as_of_is_after_last_event(tiny_dataset):
    prof = ProfileBuilder.default().build(tiny_dataset)
    assert prof.as_of == pd.Timestamp("2024-02-25 09:20:01")
    assert prof.build_info["n_events_used"] == tiny_dataset.n_interactions


@pytest.mark.parametrize("higher", [True, False])
@pytest.mark.parametrize("kind", ["float", "ties", "ints"])
def test_quantile_score_equals_pandas_average_rank(rng, higher, kind):
    from persona_rec.profiles.builders import _quantile_score

    n = 997
    if kind == "float":
        v = rng.lognormal(size=n)
    elif kind == "ties":
        v = np.round(rng.lognormal(size=n), 1)
    else:
        v = rng.geometric(0.4, size=n).astype(float)
    mask = rng.random(n) < 0.8
    got = _quantile_score(v, mask, higher_is_better=higher)
    pct = pd.Series(v[mask] if higher else -v[mask]).rank(method="average", pct=True)
    want = np.clip(np.ceil(pct.to_numpy() * 5 - 1e-9), 1, 5)
    np.testing.assert_array_equal(got[mask], want)
    assert np.isnan(got[~mask]).all()

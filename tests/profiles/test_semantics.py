"""Profile semantics fixed in issue 10.

- price sensitivity read quantity-tier (wholesale) prices as discounts;
- ``next_purchase_date`` lay in the past for overdue customers;
- users first seen after ``as_of`` entered the quantile thresholds of ``as_of``'s tags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset, Tagger, Taxonomy
from persona_rec.sample_data import load_sample
from persona_rec.exceptions import InvalidParameterError
from persona_rec.profiles import ProfileBuilder
from persona_rec.profiles.builders import PriceSensitivityBuilder

from .conftest import AS_OF


# ------------------------------------------------------------ quantity tiers
def _tier_shop() -> Dataset:
    """Mugs list at 2.10 each, 1.85 from 12 units (every wholesale buyer pays it).

    ``retail`` buys single mugs at list; ``wholesale`` buys dozens at the tier price;
    ``bargain`` buys a dozen at 1.50 while the others in that tier paid 1.85.
    """
    rows = []
    for k in range(6):
        rows.append(("retail", 1, 2.10, k))
        rows.append(("wholesale", 12, 1.85, k))
        rows.append((f"other{k}", 24, 1.85, k))
    rows.append(("bargain", 12, 1.50, 3))
    inter = pd.DataFrame(rows, columns=["user_id", "quantity", "price", "day"])
    inter["item_id"] = "mug"
    inter["event"] = "purchase"
    inter["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(inter.pop("day"), unit="D")
    items = pd.DataFrame({"item_id": ["mug"], "price": [2.10]})
    return Dataset.from_frames(inter, items=items)


def test_tier_prices_are_not_discounts():
    f = ProfileBuilder([PriceSensitivityBuilder()]).build(_tier_shop()).frame
    assert f.loc["retail", "price_sensitivity"] == 0.0
    assert f.loc["wholesale", "price_sensitivity"] == 0.0
    assert f.loc["wholesale", "discount_share"] == 0.0
    # a real discount inside the tier is still one
    assert f.loc["bargain", "price_sensitivity"] == 1.0
    assert f.loc["bargain", "discount_share"] == 1.0
    # one tier for every quantity reproduces the old reading (1.85 < list 2.10)
    flat = ProfileBuilder([PriceSensitivityBuilder(quantity_tiers=[1])]).build(_tier_shop()).frame
    assert flat.loc["wholesale", "price_sensitivity"] == 1.0


def test_quantity_tier_parameters():
    b = PriceSensitivityBuilder(quantity_tiers=[1, 12, 100])
    assert b.tiers(np.array([0.5, 1, 11.9, 12, 99, 100, np.nan])).tolist() == [0, 0, 0, 1, 1, 2, 0]
    assert b.get_params()["quantity_tiers"] == [1.0, 12.0, 100.0]
    for bad in ([], [12, 1], [1, 1], [0, 5]):
        with pytest.raises(InvalidParameterError, match="quantity_tiers"):
            PriceSensitivityBuilder(quantity_tiers=bad)
    with pytest.raises(InvalidParameterError, match="period_days"):
        PriceSensitivityBuilder(period_days=0)


@pytest.mark.parametrize("first", ["2024-01-10 12:00", "2024-01-17 12:00"])
def test_price_periods_are_counted_from_the_first_purchase(first):
    """Two purchases a day apart share the first period wherever the Unix-epoch 30-day grid falls.

    ``2024-01-18 00:00`` is a multiple of 30 days since 1970: the periods used to be aligned
    to it, so the second start put the two lines in different periods.
    """
    t0 = pd.Timestamp(first)
    ev = pd.DataFrame({
        "user_id": ["A", "B"], "item_id": ["x", "x"],
        "timestamp": [t0, t0 + pd.Timedelta("1D")],
        "event": "purchase", "quantity": [6.0, 6.0],  # tier 6-11: list price = highest paid (9)
        "price": [9.0, 8.0], "order_id": ["o1", "o2"]})
    ds = Dataset.from_frames(ev, items=pd.DataFrame({"item_id": ["x"], "price": [10.0]}))
    f = ProfileBuilder([PriceSensitivityBuilder()]).build(ds).frame
    assert f.loc["B", "discount_share"] == 1.0
    assert f.loc["A", "discount_share"] == 0.0


def test_sample_top_spender_is_not_price_sensitive():
    ds = load_sample()
    f = ProfileBuilder.default().build(ds).frame
    top = f["monetary"].idxmax()
    assert f.loc[top, "price_sensitivity"] < 0.3  # 0.99 when tiers were ignored
    old = ProfileBuilder.default(quantity_tiers=[1]).build(ds).frame
    assert old.loc[top, "price_sensitivity"] > 0.95
    buyers = f["price_sensitivity"].notna()
    assert (f.loc[buyers, "price_sensitivity"] >= 0.6).mean() < 0.01


# ------------------------------------------------------------- overdue customers
def test_next_purchase_date_never_lies_in_the_past(tiny_dataset):
    f = ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF).frame
    buyer = f["frequency"].notna()
    nxt = f["next_purchase_date"]
    assert (nxt.dropna() >= AS_OF).all()
    overdue = f["days_overdue"] > 0
    assert overdue.any() and (~overdue & buyer).any()
    assert nxt[overdue].isna().all() and f.loc[overdue, "days_to_next_purchase"].isna().all()
    assert (f.loc[buyer & ~overdue, "days_to_next_purchase"] >= 0).all()
    assert (f.loc[buyer & ~overdue, "days_overdue"] == 0).all()
    assert f.loc[~buyer, ["days_overdue", "days_to_next_purchase"]].isna().all().all()
    # e: orders 2023-09-01 and 2023-10-01, so the expected date has long passed
    e = f.loc["e"]
    expected = pd.Timestamp("2023-10-01") + pd.Timedelta(days=e["expected_interval_days"])
    assert e["days_overdue"] == pytest.approx((AS_OF - expected) / pd.Timedelta(days=1), abs=1e-4)


def test_category_cycles_say_overdue_too(tiny_dataset):
    cyc = ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF).category_cycles.set_index("user_id")
    # a: home every 30 days, last 2024-01-31 10:00 -> expected 2024-03-01 10:00, after as_of
    assert cyc.loc["a", "next_purchase_date"] == pd.Timestamp("2024-03-01 10:00")
    assert cyc.loc["a", "days_overdue"] == 0.0
    # e: garden on 2023-09-01 and 2023-10-01 -> expected 2023-10-31, long past
    assert pd.isna(cyc.loc["e", "next_purchase_date"])
    assert cyc.loc["e", "days_overdue"] == pytest.approx(
        (AS_OF - pd.Timestamp("2023-10-31")) / pd.Timedelta(days=1))
    assert (cyc["next_purchase_date"].dropna() >= AS_OF).all()


def test_overdue_on_the_sample_is_explicit():
    prof = ProfileBuilder.default().build(load_sample())
    f = prof.frame
    b = f[f["frequency"].notna()]
    assert (b["next_purchase_date"].dropna() >= prof.as_of).all()
    ahead = b["days_to_next_purchase"].notna()
    assert (ahead ^ (b["days_overdue"] > 0)).all()
    assert (b["days_overdue"] > 0).mean() > 0.3  # most sample customers are overdue


# ----------------------------------------------------------- users known at as_of
T = pd.Timestamp("2024-03-01")


def _shop(with_late_users: bool) -> Dataset:
    rng = np.random.default_rng(7)
    users = [f"u{k}" for k in range(40)]
    n_ev = rng.integers(1, 30, len(users))
    rows = []
    for u, n in zip(users, n_ev):
        for j in range(int(n)):
            rows.append((u, f"i{rng.integers(0, 8)}", T - pd.Timedelta(hours=int(rng.integers(1, 2000))),
                         "purchase" if j % 3 == 0 else "view", float(rng.choice([5.0, 9.0, 20.0]))))
    attrs = [{"user_id": u, "gender": "F" if k % 2 else "M",
              "registration_date": "2023-01-01"} for k, u in enumerate(users)]
    if with_late_users:
        # 60 heavy users who only appear after T (events only), one who registers after T
        for k in range(60):
            for j in range(50):
                rows.append((f"late{k}", f"i{j % 8}", T + pd.Timedelta(hours=j + 1), "purchase", 9.0))
        attrs.append({"user_id": "registers_later", "gender": "X", "registration_date": "2024-05-01"})
        # a users frame exported today also lists later customers, without a date
        attrs += [{"user_id": f"late{k}", "gender": "Y"} for k in range(10)]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "event", "price"])
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(8)],
                          "category": ["Home/Kitchen", "Home/Decor", "Garden", "Toys"] * 2})
    return Dataset.from_frames(inter, users=pd.DataFrame(attrs), items=items)


def test_known_at_as_of_uses_only_data_before_as_of(tiny_dataset):
    f = ProfileBuilder.default().build(tiny_dataset, as_of=AS_OF).frame
    # c registers after as_of (2024-04-01); every other user has an event before it
    assert f["known_at_as_of"].to_dict() == {u: u != "c" for u in f.index}
    early = ProfileBuilder.default().build(tiny_dataset, as_of="2024-01-15").frame
    assert set(early.index[early["known_at_as_of"]]) == {"a", "e", "f", "g"}
    # built "now" (default as_of), every listed user counts unless registered later
    now = ProfileBuilder.default().build(tiny_dataset).frame
    assert not now.loc["c", "known_at_as_of"] and now["known_at_as_of"].sum() == len(now) - 1


def test_later_users_do_not_change_tags_at_as_of():
    builder = ProfileBuilder.default()
    p1 = builder.build(_shop(False), as_of=T)
    p2 = builder.build(_shop(True), as_of=T)
    assert p1.frame["known_at_as_of"].all()
    late = ~p2.frame["known_at_as_of"]
    assert set(p2.frame.index[late]) == {f"late{k}" for k in range(60)} | {"registers_later"}
    tax1, tax2 = Taxonomy.default(p1), Taxonomy.default(p2)
    assert tax1.tag_ids == tax2.tag_ids  # later users add no country/gender values either
    assert "basic/gender/y" not in tax2.tag_ids
    t1 = Tagger(tax1).assign(p1).to_frame()
    t2 = Tagger(tax2).assign(p2).to_frame()
    pd.testing.assert_frame_equal(t1, t2)  # identical tags and confidences, no tag for late users
    # the test bites: ranked among every row, the 61 later users (0 events at T) would move the
    # heavy_user threshold and tag more existing users
    n_events = p2.frame["n_events"]
    old_rule = n_events.rank(pct=True) >= 0.9
    new_rule = n_events.where(~late).rank(pct=True) >= 0.9
    assert old_rule.sum() > new_rule.sum()
    assert set(t2.loc[t2.tag_id == "behaviour/heavy_user", "user_id"]) == set(n_events.index[new_rule])

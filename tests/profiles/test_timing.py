"""PurchaseTimingBuilder: purchase-day counts, gaps, due-ness and recent activity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from persona_rec import Dataset
from persona_rec.sample_data import synthetic
from persona_rec.profiles import ProfileBuilder, PurchaseTimingBuilder
from persona_rec.profiles.timing import TIMING_COLUMNS

AS_OF = pd.Timestamp("2024-03-01")


def _build(ds, as_of=AS_OF):
    return ProfileBuilder([PurchaseTimingBuilder()]).build(ds, as_of=as_of)


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    ts = pd.to_datetime([
        "2024-01-01 09:00", "2024-01-01 18:00",  # a: one day, two lines
        "2024-01-08 10:00",                      # a: next ISO week, same month
        "2024-02-20 10:00",                      # a: February
        "2024-02-29 23:00",                      # a: one hour before as_of
        "2023-12-01 12:00",                      # b: one purchase day
        "2024-03-05 12:00",                      # a: after as_of (never used)
    ])
    events = pd.DataFrame({
        "user_id": ["a", "a", "a", "a", "a", "b", "a"],
        "item_id": ["x", "y", "x", "x", "y", "y", "x"],
        "timestamp": ts,
        "quantity": [1, 2, 1, 3, 1, 1, 5],
        "price": [2.0, 1.0, 2.0, 2.0, 4.0, 9.0, 1.0],
    })
    users = pd.DataFrame({"user_id": ["a", "b", "c"]})  # c: no event
    return Dataset.from_frames(events, users=users)


def test_literal_values(tiny) -> None:
    f = _build(tiny).frame
    a = f.loc["a"]
    # purchase days: Jan 1, Jan 8, Feb 20, Feb 29 (the Mar 5 line is after as_of)
    assert a["purchase_days"] == 4
    assert a["purchase_weeks"] == 4  # Mon Jan 1 and Mon Jan 8 start different ISO weeks
    assert a["purchase_months"] == 2
    assert a["first_purchase_days"] == 60  # Jan 1 -> Mar 1 (2024 is a leap year)
    gaps = np.array([7.0, 43.0, 9.0])
    assert a["gap_mean_days"] == pytest.approx(gaps.mean())
    assert a["gap_std_days"] == pytest.approx(gaps.std(ddof=1))
    assert a["dueness"] == pytest.approx(1.0 / gaps.mean())  # last day Feb 29, as_of Mar 1
    assert (a["purchase_days_30d"], a["purchase_days_90d"], a["purchase_days_180d"]) == (2, 4, 4)
    assert a["spend_90d"] == pytest.approx(2 + 2 + 2 + 6 + 4)
    assert a["recent_day_share"] == 1.0
    b = f.loc["b"]
    assert b["purchase_days"] == 1 and b["first_purchase_days"] == 91
    assert np.isnan(b["gap_mean_days"]) and np.isnan(b["gap_std_days"]) and np.isnan(b["dueness"])
    assert (b["purchase_days_30d"], b["purchase_days_90d"], b["purchase_days_180d"]) == (0, 0, 1)
    assert b["spend_90d"] == 0 and b["recent_day_share"] == 0
    # no purchase: NaN everywhere (as the RFM columns)
    assert f.loc["c", list(TIMING_COLUMNS)].isna().all()
    assert set(TIMING_COLUMNS) <= set(_build(tiny).column_docs)


def test_features_block_logs_and_standardises(tiny) -> None:
    x, names = _build(tiny).features(blocks=("numeric",))
    assert [n for n in names if n.startswith("timing:")] == [f"timing:{c}" for c in TIMING_COLUMNS]
    assert np.isfinite(x.toarray()).all()


@pytest.fixture(scope="module")
def shop():
    return synthetic(n_users=600, n_items=120, n_events=25_000, random_state=3)


def test_equals_pandas_on_synthetic(shop) -> None:
    ds = shop.dataset
    as_of = shop.end - pd.Timedelta(days=45)
    f = _build(ds, as_of).frame
    inter = ds.interactions
    p = inter[(inter["timestamp"] < as_of) & (inter["event"] == "purchase")]
    p = p.assign(day=p["timestamp"].dt.floor("D"), amount=p["quantity"] * p["price"])
    days = p.drop_duplicates(["user_id", "day"]).sort_values(["user_id", "day"])
    g = days.groupby("user_id")
    gap = g["day"].diff() / pd.Timedelta(days=1)
    gg = gap.groupby(days["user_id"])
    age = (as_of - days["day"]) / pd.Timedelta(days=1)
    exp = pd.DataFrame({
        "purchase_days": g.size().astype(float),
        "purchase_weeks": days.assign(w=days["day"].dt.to_period("W-SUN")).groupby("user_id")["w"]
        .nunique().astype(float),
        "purchase_months": days.assign(m=days["day"].dt.to_period("M")).groupby("user_id")["m"]
        .nunique().astype(float),
        "first_purchase_days": (as_of - g["day"].min()) / pd.Timedelta(days=1),
        "gap_mean_days": gg.mean(),
        "gap_std_days": gg.std(),
        "purchase_days_90d": (age <= 90).groupby(days["user_id"]).sum().astype(float),
        "spend_90d": p["amount"].where(as_of - p["timestamp"] <= pd.Timedelta(days=90), 0.0)
        .groupby(p["user_id"]).sum(),
    })
    exp["dueness"] = (as_of - g["day"].max()) / pd.Timedelta(days=1) / exp["gap_mean_days"]
    assert len(exp) > 300
    got = f.loc[exp.index, list(exp.columns)]
    pd.testing.assert_frame_equal(got, exp, check_names=False, rtol=1e-9)
    assert f.drop(index=exp.index)["purchase_days"].isna().all()


def test_recovers_planted_purchase_cycles(shop) -> None:
    """The generator plants a purchase cycle per user: gap_mean_days must track it."""
    f = _build(shop.dataset, shop.end).frame
    truth = shop.user_truth.reindex(f.index)
    ok = (f["purchase_days"] >= 4) & ~truth["is_churned"].astype(bool) & truth["cycle_days"].notna()
    assert ok.sum() > 100
    rho = spearmanr(f.loc[ok, "gap_mean_days"], truth.loc[ok, "cycle_days"])[0]  # old scipy: no .statistic
    assert rho > 0.5


def test_future_events_change_nothing(shop) -> None:
    """No column may use an event at or after as_of: appending future events is a no-op."""
    ds = shop.dataset
    as_of = shop.end - pd.Timedelta(days=60)
    before = _build(ds, as_of).frame
    inter = ds.interactions
    later = inter[inter["timestamp"] < as_of].sample(3000, random_state=0)
    later = later.assign(timestamp=as_of + pd.to_timedelta(np.arange(3000) % 50, unit="D"),
                         price=later["price"] * 3)
    new_user = later.head(5).assign(user_id=-1)  # a user whose only events are in the future
    more = Dataset.from_frames(pd.concat([inter, later, new_user], ignore_index=True),
                               users=ds.users, items=ds.items)
    after = _build(more, as_of).frame
    cols = list(TIMING_COLUMNS)
    pd.testing.assert_frame_equal(after.loc[before.index, cols], before[cols])
    assert after.loc[-1, cols].isna().all()
    cut = _build(ds.filter_time(end=as_of), as_of).frame
    pd.testing.assert_frame_equal(cut[cols], before.loc[cut.index, cols])

"""Marketing cut-offs accept time-zone-aware times (converted to naive UTC, as in the Dataset)."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidValueError
from persona_rec.marketing import SendTimeModel, affinity_propensity, select_audience


@pytest.fixture()
def shop() -> Dataset:
    inter = pd.DataFrame({
        "user_id": ["a", "a", "b"],
        "item_id": ["m", "m", "m"],
        "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 20:00", "2024-01-01 09:00"]),
        "event": "purchase",
    })
    return Dataset.from_frames(inter, items=pd.DataFrame({"item_id": ["m"], "category": ["Kitchen"]}))


def test_affinity_propensity_aware_as_of(shop: Dataset) -> None:
    naive = affinity_propensity(shop, "kitchen", as_of="2024-01-01 12:00")
    aware = affinity_propensity(shop, "kitchen", as_of="2024-01-01 13:00+01:00")
    pd.testing.assert_series_equal(naive, aware)
    with pytest.raises(InvalidValueError, match="as_of must be a date/time"):
        affinity_propensity(shop, "kitchen", as_of="yesterday-ish")


def test_send_time_aware_as_of(shop: Dataset) -> None:
    naive = SendTimeModel().fit(shop, as_of="2024-01-01 12:00")
    aware = SendTimeModel().fit(shop, as_of=pd.Timestamp("2024-01-01 07:00", tz="US/Eastern"))
    assert (naive.hour_counts_ != aware.hour_counts_).nnz == 0
    assert naive.hour_counts_.sum() == 2  # the 20:00 event is after the cut-off


def test_contact_cap_with_aware_history() -> None:
    propensity = pd.Series([3.0, 2.0, 1.0], index=pd.Index(["a", "b", "c"], name="user_id"))
    history = pd.DataFrame({
        "user_id": ["a", "b"],
        "timestamp": pd.to_datetime(["2024-01-09 23:00", "2023-12-01 00:00"]).tz_localize("UTC"),
    })
    out = select_audience(propensity=propensity, contact_history=history, max_contacts=1,
                          contact_window_days=7, as_of="2024-01-10 01:00+01:00", min_audience_size=1)
    assert sorted(out["user_id"]) == ["b", "c"]  # a was contacted an hour ago (UTC), b long ago

"""campaign_outcomes reads send times the way the Dataset reads timestamps."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidValueError
from persona_rec.marketing import campaign_outcomes


@pytest.fixture()
def shop() -> Dataset:
    inter = pd.DataFrame({
        "user_id": ["a", "b"],
        "item_id": [1, 1],
        "timestamp": pd.to_datetime(["2024-01-01 12:00", "2024-01-01 08:00"]),
        "event": "purchase",
        "price": 10.0,
    })
    return Dataset.from_frames(inter)


CAMP = pd.DataFrame({"user_id": ["a", "b"], "group": ["treatment", "control"]})


@pytest.mark.parametrize(
    "sent_at",
    [
        "2024-01-01 10:00",
        "2024-01-01 11:00+01:00",  # aware: converted to UTC
        pd.Timestamp("2024-01-01 05:00", tz="US/Eastern"),
        int(pd.Timestamp("2024-01-01 10:00").timestamp()),  # epoch seconds, as in the Dataset
    ],
)
def test_send_time_forms_agree(shop: Dataset, sent_at) -> None:
    out = campaign_outcomes(CAMP, shop, sent_at=sent_at, window_days=1)
    assert out["sent_at"].tolist() == [pd.Timestamp("2024-01-01 10:00")] * 2
    assert out["converted"].tolist() == [True, False]  # b bought before the send


def test_aware_sent_at_column(shop: Dataset) -> None:
    camp = CAMP.assign(sent_at=pd.to_datetime(["2024-01-01 10:00"] * 2).tz_localize("UTC"))
    assert campaign_outcomes(camp, shop, window_days=1)["converted"].tolist() == [True, False]


def test_bad_send_time_is_named(shop: Dataset) -> None:
    with pytest.raises(InvalidValueError, match=r"campaign\['sent_at'\] must hold valid times.*'soon'"):
        campaign_outcomes(CAMP.assign(sent_at=["2024-01-01", "soon"]), shop)

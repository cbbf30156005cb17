"""recommend(recent_events=) reads event times with the Dataset's one parser."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.exceptions import InvalidValueError
from persona_rec.models import RepurchaseRecommender
from persona_rec.sample_data import load_sample


@pytest.fixture(scope="module")
def served():
    ds = load_sample()
    inter = ds.interactions.drop(columns=["raw_row"], errors="ignore")
    cut = pd.Timestamp("2011-11-01")
    new = inter[inter["timestamp"] >= cut]
    users = list(new["user_id"].unique()[:30])
    recent = new[new["user_id"].isin(users)].reset_index(drop=True)
    model = RepurchaseRecommender(random_state=0).fit(ds.filter_time(end=cut))
    ref = model.recommend(users, k=10, filter_seen=False, recent_events=recent)
    return model, users, recent, ref


@pytest.mark.parametrize("spell", ["seconds", "milliseconds", "iso_offset", "aware"])
def test_recent_event_times_spelled_any_way_give_the_same_lists(served, spell: str) -> None:
    model, users, recent, ref = served
    ts = recent["timestamp"]
    seconds = (ts - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    other = {
        "seconds": seconds,
        "milliseconds": seconds * 1000,
        "iso_offset": (ts + pd.Timedelta("1h")).dt.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
        "aware": ts.dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"),
    }[spell]
    out = model.recommend(users, k=10, filter_seen=False, recent_events=recent.assign(timestamp=other))
    pd.testing.assert_frame_equal(out, ref)


def test_unparseable_recent_event_time_is_a_typed_error(served) -> None:
    model, users, recent, _ = served
    bad = recent.assign(timestamp=recent["timestamp"].astype(object))
    bad.loc[0, "timestamp"] = "yesterday"
    with pytest.raises(InvalidValueError, match=r"recent_events\['timestamp'\] must hold valid times"):
        model.recommend(users, k=10, filter_seen=False, recent_events=bad)

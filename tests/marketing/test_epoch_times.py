"""Marketing reads times with the Dataset's one parser: epoch numbers, offsets, aware values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import InvalidValueError
from persona_rec.marketing import select_audience


def _cap_inputs() -> tuple[pd.Series, pd.DataFrame, pd.Timestamp]:
    users = pd.Index([f"u{i}" for i in range(100)], name="user_id")
    propensity = pd.Series(np.linspace(1, 0, 100), index=users)
    now = pd.Timestamp("2024-06-10")
    history = pd.DataFrame({"user_id": [f"u{i}" for i in range(20)] * 3,
                            "timestamp": [now - pd.Timedelta("1D")] * 60})  # 3 contacts yesterday
    return propensity, history, now


@pytest.mark.parametrize("spell", ["seconds", "milliseconds", "iso_offset"])
def test_contact_cap_reads_epoch_and_offset_times(spell: str) -> None:
    propensity, history, now = _cap_inputs()
    seconds = (history["timestamp"] - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    other = {
        "seconds": seconds,
        "milliseconds": seconds * 1000,
        "iso_offset": (history["timestamp"] + pd.Timedelta("2h")).dt.strftime("%Y-%m-%dT%H:%M:%S+02:00"),
    }[spell]
    kw = dict(propensity=propensity, budget=60, max_contacts=3, as_of=now)
    ref = select_audience(contact_history=history, **kw)
    out = select_audience(contact_history=history.assign(timestamp=other), **kw)
    assert out.attrs["funnel"]["contact_cap"] == 80  # the 20 capped users are dropped
    assert not out["user_id"].isin(history["user_id"]).any()
    pd.testing.assert_frame_equal(out, ref)


def test_contact_cap_refuses_unparseable_times() -> None:
    propensity, history, now = _cap_inputs()
    bad = history.assign(timestamp=history["timestamp"].astype(object))
    bad.loc[3, "timestamp"] = "soon"
    with pytest.raises(InvalidValueError, match=r"contact_history\['timestamp'\] must hold valid times.*'soon'"):
        select_audience(propensity=propensity, budget=60, contact_history=bad, max_contacts=3, as_of=now)


def _send_shop():
    from persona_rec import Dataset

    ev = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": [1, 2, 1],
                       "timestamp": ["2024-01-05 19:10", "2024-01-05 19:20", "2024-01-08"],
                       "event": "purchase", "price": 1.0})
    return Dataset.from_frames(ev)


@pytest.mark.parametrize("after", [1704326400, 1704326400000, "2024-01-04T01:00+01:00",
                                   pd.Timestamp("2024-01-03 19:00", tz="US/Eastern")])
def test_next_send_time_reads_after_like_the_dataset(after: object) -> None:
    from persona_rec.marketing import SendTimeModel

    model = SendTimeModel(prior_strength=0).fit(_send_shop())
    ref = model.next_send_time(["a"], after="2024-01-04")
    out = model.next_send_time(["a"], after=after)
    assert out["send_at"].tolist() == [pd.Timestamp("2024-01-05 19:00")]  # naive, not 1970
    pd.testing.assert_frame_equal(out, ref)
    with pytest.raises(InvalidValueError, match="after must be a date/time"):
        model.next_send_time(["a"], after="next week")


def test_campaign_send_time_argument_uses_the_one_parser() -> None:
    from persona_rec.marketing.campaign_analysis import campaign_outcomes

    ds = _send_shop()
    camp = pd.DataFrame({"user_id": ["a", "b"], "group": ["t", "c"]})
    ref = campaign_outcomes(camp, ds, sent_at="2024-01-04")
    for spelled in (1704326400, 1704326400000, "2024-01-04T01:00+01:00"):
        pd.testing.assert_frame_equal(campaign_outcomes(camp, ds, sent_at=spelled), ref)
    column = campaign_outcomes(camp.assign(sent_at=[1704326400000] * 2), ds)  # epoch ms column
    pd.testing.assert_frame_equal(column, ref)
    with pytest.raises(InvalidValueError, match=r"sent_at must lie between 1677-09-22 and 2262-04-11"):
        campaign_outcomes(camp, ds, sent_at=1704326400000 * 10**9)

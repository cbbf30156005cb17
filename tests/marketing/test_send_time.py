"""Tests for persona_rec.marketing.send_time (planted hours, shrinkage, next send time)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError, NotFittedError
from persona_rec.marketing.send_time import SendTimeModel

MONDAY = pd.Timestamp("2024-01-01")


@functools.lru_cache(maxsize=1)
def _world_cached():
    return _world(np.random.default_rng(7))


def _world(rng: np.random.Generator):
    """Segment A lives at 20:00 on Saturdays, B at 08:00 on Tuesdays.

    Heavy users (60 events) have a personal hour 13:00 on Thursdays;
    light users (2 events) have a random hour.
    """
    rows = []
    truth = {}
    seg = {}
    for u in range(400):
        s = "A" if u % 2 == 0 else "B"
        seg[u] = s
        heavy = u % 5 == 0
        n = 60 if heavy else 2
        if heavy:
            hour = np.where(rng.random(n) < 0.7, 13, rng.integers(0, 24, n))
            day = np.where(rng.random(n) < 0.7, 3, rng.integers(0, 7, n))
        else:
            hour = rng.integers(0, 24, n)
            day = rng.integers(0, 7, n)
        # background behaviour of the segment (not for the users above)
        truth[u] = (13, 3) if heavy else ((20, 5) if s == "A" else (8, 1))
        ts = MONDAY + pd.to_timedelta(rng.integers(0, 10, n) * 7 + day, "D") + pd.to_timedelta(hour, "h")
        rows.append(pd.DataFrame({"user_id": u, "item_id": 1, "timestamp": ts}))
    # typical segment members (medium history) define the segment pattern
    for u in range(400, 1000):
        s = "A" if u % 2 == 0 else "B"
        seg[u] = s
        h, d = (20, 5) if s == "A" else (8, 1)
        n = 15
        hour = np.where(rng.random(n) < 0.6, h, rng.integers(0, 24, n))
        day = np.where(rng.random(n) < 0.6, d, rng.integers(0, 7, n))
        ts = MONDAY + pd.to_timedelta(rng.integers(0, 10, n) * 7 + day, "D") + pd.to_timedelta(hour, "h")
        rows.append(pd.DataFrame({"user_id": u, "item_id": 1, "timestamp": ts}))
    ds = Dataset.from_frames(pd.concat(rows, ignore_index=True))
    return ds, pd.Series(seg), truth


def test_heavy_users_keep_own_time_light_users_follow_segment(rng):
    ds, seg, truth = _world_cached()
    pred = SendTimeModel(prior_strength=10).fit(ds, segments=seg).predict(list(range(400))).set_index("user_id")
    got = pred[["best_hour", "best_weekday"]].apply(tuple, axis=1)
    want = pd.Series(truth)
    heavy = [u for u in range(400) if u % 5 == 0]
    light = [u for u in range(400) if u % 5 != 0]
    assert (got[heavy] == want[heavy]).mean() > 0.95
    assert (got[light] == want[light]).mean() > 0.95
    assert (pred.loc[heavy, "source"] == "user").all()
    assert (pred.loc[light, "source"] == "segment").all()
    assert pred.loc[light, "history_weight"].to_numpy() == pytest.approx(2 / 12)
    # without shrinkage light users get their own noisy hours
    raw = SendTimeModel(prior_strength=0).fit(ds, segments=seg).predict(light)
    assert (raw["best_hour"].to_numpy() == want[light].str[0].to_numpy()).mean() < 0.3


def test_without_segments_uses_population_and_unknown_users(rng):
    ds, seg, _ = _world_cached()
    m = SendTimeModel().fit(ds)
    pred = m.predict(["nobody", 0])
    assert pred.loc[0, "source"] == "population" and pred.loc[0, "n_events"] == 0
    m2 = SendTimeModel().fit(ds, segments=seg)
    new = m2.predict(["nobody"], segments={"nobody": "B"})
    assert (new.loc[0, "best_hour"], new.loc[0, "best_weekday"], new.loc[0, "source"]) == (8, 1, "segment")


def test_as_of_and_next_send_time(rng):
    ds, seg, _ = _world_cached()
    m = SendTimeModel().fit(ds, segments=seg, as_of=MONDAY)  # nothing before: population prior
    assert m.hour_counts_.nnz == 0
    m = SendTimeModel().fit(ds, segments=seg)
    out = m.next_send_time([400, 401], after="2024-06-05 21:15")  # a Wednesday
    # A: Saturday 20:00 -> 2024-06-08; B: Tuesday 08:00 -> 2024-06-11
    assert out["send_at"].tolist() == [pd.Timestamp("2024-06-08 20:00"), pd.Timestamp("2024-06-11 08:00")]
    same = m.next_send_time([400], after="2024-06-08 20:00")
    assert same["send_at"].iloc[0] == pd.Timestamp("2024-06-08 20:00")
    later = m.next_send_time([400], after="2024-06-08 20:01")
    assert later["send_at"].iloc[0] == pd.Timestamp("2024-06-15 20:00")


def test_errors(rng):
    with pytest.raises(NotFittedError, match="not fitted"):
        SendTimeModel().predict()
    ds, _, _ = _world_cached()
    with pytest.raises(InvalidParameterError, match=r"'prior_strength' parameter of SendTimeModel must be a number >= 0.0, got -1"):
        SendTimeModel(prior_strength=-1).fit(ds)
    with pytest.raises(InvalidDtypeError, match=r"segments must be a Segmentation.*got list"):
        SendTimeModel().fit(ds, segments=[1, 2])

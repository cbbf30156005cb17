"""Popularity and segment-popularity recommenders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError, MissingColumnError
from persona_rec.models import PopularRecommender, Recommender, SegmentPopularRecommender


@pytest.fixture
def tiny() -> Dataset:
    inter = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 3, 3, 3],
            "item_id": ["a", "a", "b", "a", "c", "c", "c", "d"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
                 "2024-02-20", "2024-02-25", "2024-02-26", "2024-02-27"]
            ),
            "event": ["view", "purchase", "view", "view", "cart", "view", "purchase", "view"],
        }
    )
    users = pd.DataFrame({"user_id": [1, 2, 3, 4, 5],
                          "city": ["x", "y", "y", "y", None],
                          "gender": ["f", "m", "f", "m", "f"]})
    return Dataset.from_frames(inter, users=users)


def _scores(rec: pd.DataFrame, user: object) -> dict[str, float]:
    g = rec[rec[Columns.USER] == user]
    return dict(zip(g[Columns.ITEM], g[Columns.SCORE].astype(float)))


def test_popularity_measures(tiny: Dataset) -> None:
    by_users = PopularRecommender(by="users").fit(tiny).recommend([99], k=10)
    assert _scores(by_users, 99) == {"a": 2, "c": 2, "b": 1, "d": 1}
    assert by_users[Columns.ITEM].tolist()[:2] == ["a", "c"]  # ties: internal order
    by_events = PopularRecommender(by="interactions").fit(tiny).recommend([99], k=10)
    assert _scores(by_events, 99) == {"a": 3, "c": 3, "b": 1, "d": 1}
    # weights: view 1, cart 3, purchase 5
    by_weight = PopularRecommender(by="weight").fit(tiny).recommend([99], k=10)
    assert _scores(by_weight, 99) == {"a": 7, "c": 9, "b": 1, "d": 1}
    assert by_weight[Columns.ITEM].iloc[0] == "c"


def test_recent_window(tiny: Dataset) -> None:
    # last event 2024-02-27: a 10-day window keeps only the February events
    rec = PopularRecommender(window_days=10).fit(tiny).recommend([99], k=10)
    assert _scores(rec, 99) == {"c": 2, "d": 1}


def test_filter_seen_and_repeat_mode(tiny: Dataset) -> None:
    model = PopularRecommender().fit(tiny)
    assert model.recommend([1], k=10)[Columns.ITEM].tolist() == ["c", "d"]
    assert model.recommend([1], k=10, filter_seen=False)[Columns.ITEM].tolist() == [
        "a", "c", "b", "d"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "clicks"}, "'by' parameter of PopularRecommender must be one of"),
        ({"window_days": 0}, "'window_days' parameter of PopularRecommender must be a number > 0"),
        ({"window_days": "7"}, "'window_days'.*got '7'"),
    ],
)
def test_popular_bad_params(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        PopularRecommender(**kwargs)


def test_segment_shares_exact(tiny: Dataset) -> None:
    model = SegmentPopularRecommender("city", shrinkage=0).fit(tiny)
    # segment y: users 2 and 3 (active) -> a: 1/2, c: 2/2, d: 1/2
    rec = model.recommend([4], k=10)  # warm user in city y
    assert _scores(rec, 4) == {"c": 1.0, "a": 0.5, "d": 0.5}
    assert (rec[Columns.SOURCE] == "segment_popular").all()
    # user 5 has no city -> global share over 3 active users
    rec = model.recommend([5, "new"], k=10)
    assert _scores(rec, 5) == pytest.approx({"a": 2 / 3, "c": 2 / 3, "b": 1 / 3, "d": 1 / 3})
    assert _scores(rec, "new") == _scores(rec, 5)
    assert model.user_segments([1, 4, 5]).tolist() == ["x", "y", None]


def test_segment_shrinkage(tiny: Dataset) -> None:
    model = SegmentPopularRecommender("city", shrinkage=3.0).fit(tiny)
    rec = model.recommend([4], k=10)
    # (count + 3 * global_share) / (2 + 3)
    expected = {"c": (2 + 3 * 2 / 3) / 5, "a": (1 + 3 * 2 / 3) / 5,
                "d": (1 + 3 * 1 / 3) / 5, "b": (0 + 3 * 1 / 3) / 5}
    assert _scores(rec, 4) == pytest.approx(expected, rel=1e-6)


def test_segment_multi_columns_and_mapping(tiny: Dataset, tmp_path) -> None:
    multi = SegmentPopularRecommender(["city", "gender"], shrinkage=0).fit(tiny)
    assert multi.user_segments([3]).tolist() == ["y | f"]
    mapping = {1: "A", 2: "B", 3: "B", 4: "B"}
    model = SegmentPopularRecommender(mapping, shrinkage=0).fit(tiny)
    a = model.recommend([4, 5], k=10)
    b = SegmentPopularRecommender("city", shrinkage=0).fit(tiny).recommend([4, 5], k=10)
    pd.testing.assert_frame_equal(a, b)
    loaded = Recommender.load(model.save(tmp_path / "seg"))
    pd.testing.assert_frame_equal(loaded.recommend([4, 5], k=10), a)
    assert isinstance(loaded.segment_by, pd.Series)


def test_segment_from_profiles_column(tiny: Dataset) -> None:
    class FakeProfiles:
        frame = pd.DataFrame({"tier": ["gold", "gold", "basic", "basic", "basic"]},
                             index=pd.Index([1, 2, 3, 4, 5], name="user_id"))

    model = SegmentPopularRecommender("tier", shrinkage=0).fit(tiny, FakeProfiles())
    assert model.user_segments([2, 5]).tolist() == ["gold", "basic"]
    rec = model.recommend([5], k=10)
    assert _scores(rec, 5) == {"c": 1.0, "d": 1.0}


def test_segment_errors(tiny: Dataset) -> None:
    with pytest.raises(MissingColumnError, match=r"segment_by column\(s\) \['zone'\]"):
        SegmentPopularRecommender("zone").fit(tiny)
    with pytest.raises(InvalidDtypeError, match="'segment_by' parameter"):
        SegmentPopularRecommender(3)
    with pytest.raises(InvalidParameterError, match="'shrinkage'.*>= 0"):
        SegmentPopularRecommender("city", shrinkage=-1)


def test_segment_with_newer_dataset(tiny: Dataset) -> None:
    """dataset= : states, histories and segments come from the newer snapshot."""
    model = SegmentPopularRecommender("city", shrinkage=0).fit(tiny)
    inter = tiny.interactions[["user_id", "item_id", "timestamp"]]
    extra = pd.DataFrame({"user_id": [6], "item_id": ["c"],
                          "timestamp": [pd.Timestamp("2024-03-01")]})
    newer = Dataset.from_frames(
        pd.concat([inter, extra], ignore_index=True),
        users=pd.DataFrame({"user_id": [1, 2, 3, 4, 6], "city": ["x", "y", "y", "y", "x"]}),
    )
    rec = model.recommend([6], k=10, dataset=newer)
    # user 6 is new, lives in city x (segment of user 1: a, b) and already has c
    assert _scores(rec, 6) == {"a": 1.0, "b": 1.0}


def test_segment_without_global_fallback(tiny: Dataset) -> None:
    model = SegmentPopularRecommender("city", shrinkage=0, global_fallback=False).fit(tiny)
    assert not model.serves_cold and SegmentPopularRecommender.serves_cold
    rec = model.recommend([4, 5, "new"], k=10, on_unknown="skip")
    assert set(rec[Columns.USER]) == {4}  # 5 has no city, "new" is cold
    assert rec.attrs["unserved"] == ["new"]
    with pytest.raises(InvalidParameterError, match="'global_fallback'.*bool"):
        SegmentPopularRecommender("city", global_fallback="no")

"""Profiles.update: folding a batch of new events in equals a full rebuild at the new as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.sample_data import load_online_retail, load_sample
from persona_rec.exceptions import (
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.profiles import ProfileBuilder, Profiles

START = pd.Timestamp("2024-03-01")


def assert_same_profiles(got: Profiles, want: Profiles) -> None:
    """Every column and affinity of ``got`` equals ``want`` (rows matched by user id)."""
    assert got.as_of == want.as_of
    assert sorted(got.user_ids.tolist(), key=str) == sorted(want.user_ids.tolist(), key=str)
    w = want.frame.reindex(got.frame.index)
    assert list(got.frame.columns) == list(w.columns)
    for col in w.columns:
        a, b = got.frame[col], w[col]
        if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9,
                                       atol=1e-9, equal_nan=True, err_msg=col)
        else:
            left = a.astype(object).where(a.notna(), None).tolist()
            right = b.astype(object).where(b.notna(), None).tolist()
            assert left == right, col
    rows = pd.Index(want.user_ids).get_indexer(got.user_ids)
    assert set(got.affinities) == set(want.affinities)
    for kind, (mat, values) in want.affinities.items():
        gm, gv = got.affinities[kind]
        assert gv == values, kind
        np.testing.assert_allclose(gm.toarray(), mat[rows].toarray(), rtol=1e-6, atol=1e-7,
                                   err_msg=kind)


def _split_update(ds: Dataset, cut: float, builder: ProfileBuilder | None = None,
                  batches: int = 1) -> tuple[Profiles, Profiles]:
    builder = builder or ProfileBuilder.realtime()
    lo, hi = ds.time_range
    t0 = (lo + (hi - lo) * cut).floor("s")
    t1 = hi + pd.Timedelta(seconds=1)
    full = ds.interactions
    prof = builder.build(ds.filter_time(end=t0), t0, updatable=True)
    edges = [t0 + (t1 - t0) * k / batches for k in range(batches)] + [t1]
    for a, b in zip(edges[:-1], edges[1:]):
        new = full[(full["timestamp"] >= a) & (full["timestamp"] < b)]
        prof = prof.update(new, b)
    return prof, builder.build(ds, t1)


@pytest.mark.parametrize("batches", [1, 3])
def test_update_equals_rebuild_on_the_bundled_sample(batches) -> None:
    ds = load_sample()
    got, want = _split_update(ds, 0.7, batches=batches)
    assert got.n_users == ds.n_users  # users first seen after the cut were appended
    assert len(got.build_info["updates"]) == batches
    assert_same_profiles(got, want)
    assert (got.frame["lifecycle_stage"] != "prospect").sum() > 100  # real content


def test_update_equals_rebuild_on_online_retail(online_retail_csv) -> None:
    ds = load_online_retail(online_retail_csv)
    got, want = _split_update(ds, 0.75, batches=2)
    assert_same_profiles(got, want)
    # new customers of the last quarter were appended
    assert got.n_users == ds.n_users


def test_update_does_not_change_the_original() -> None:
    ds = load_sample()
    lo, hi = ds.time_range
    t0 = (lo + (hi - lo) * 0.5).floor("s")
    base = ProfileBuilder.realtime().build(ds.filter_time(end=t0), t0, updatable=True)
    before = base.frame.copy()
    aff = {k: m.copy() for k, (m, _) in base.affinities.items()}
    full = ds.interactions
    base.update(full[full["timestamp"] >= t0])
    pd.testing.assert_frame_equal(base.frame, before)
    for k, (m, _) in base.affinities.items():
        assert abs(m - aff[k]).max() == 0 if m.nnz else True
    assert base.as_of == t0


def _frames(rows: list[tuple], with_event: bool, with_order: bool, with_session: bool):
    user, item, minute, kind, qty, price4, order = map(np.array, zip(*rows))
    inter = pd.DataFrame({
        "user_id": user, "item_id": item,
        "timestamp": START + pd.to_timedelta(minute * 37, unit="min"),
        "quantity": qty.astype(float), "price": price4 / 4.0,
    })
    if with_event:
        inter["event"] = np.array(["view", "cart", "purchase"])[kind]
    if with_order:
        inter["order_id"] = np.where(kind == 2, user * 1000 + order, -1).astype(np.int64)
        if with_order == "gappy":  # missing ids: one order per (user, purchase day)
            inter["order_id"] = inter["order_id"].where(order % 2 == 0).astype(float)
    if with_session:
        inter["session_id"] = (user * 10 + minute // 400).astype(np.int64)
    items = pd.DataFrame({
        "item_id": np.arange(6),
        "category": ["A > x", "A > y", "B > x", "B", None, "A > x"],
        "brand": ["p", "q", "p", None, "r", "q"],
        "price": [2.0, 5.0, np.nan, 7.0, np.nan, 1.0],  # two items priced by their sales
    })
    users = pd.DataFrame({"user_id": np.arange(9),
                          "registration_date": pd.date_range("2024-02-20", periods=9, freq="7D"),
                          "age": np.arange(9) * 7 + 10})
    return inter, users, items


ROW = st.tuples(st.integers(0, 7), st.integers(0, 5), st.integers(0, 3000), st.integers(0, 2),
                st.integers(1, 3), st.integers(1, 40), st.integers(0, 4))


@pytest.mark.filterwarnings("ignore::persona_rec.exceptions.DuplicateRowWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=2, max_size=60), cut=st.floats(0.1, 0.9),
       with_event=st.booleans(), with_order=st.sampled_from([False, True, "gappy"]),
       with_session=st.booleans(), extra_hours=st.integers(1, 2000))
def test_update_equals_rebuild_property(rows, cut, with_event, with_order, with_session,
                                        extra_hours) -> None:
    inter, users, items = _frames(rows, with_event, with_order, with_session)
    ds = Dataset.from_frames(inter, users, items)
    lo, hi = inter["timestamp"].min(), inter["timestamp"].max()
    t0 = (lo + (hi - lo) * cut).floor("s")
    t1 = hi + pd.Timedelta(hours=extra_hours)
    builder = ProfileBuilder.realtime(half_life_days=10, price_band_min_items=2)
    prof = builder.build(ds, t0, updatable=True)
    full = ds.interactions
    got = prof.update(full[full["timestamp"] >= t0], t1)
    assert_same_profiles(got, builder.build(ds, t1))


def test_new_users_are_appended_and_tagged_known() -> None:
    inter = pd.DataFrame({"user_id": ["a", "b"], "item_id": [1, 2], "event": "purchase",
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "price": [3.0, 4.0], "quantity": 1.0})
    prof = ProfileBuilder.realtime().build(Dataset.from_frames(inter), "2024-01-10",
                                           updatable=True)
    new = pd.DataFrame({"user_id": ["z", "a"], "item_id": [2, 1], "event": ["view", "purchase"],
                        "timestamp": pd.to_datetime(["2024-01-11", "2024-01-12"]),
                        "price": [4.0, 3.0], "quantity": 1.0})
    out = prof.update(new, "2024-01-20")
    assert out.user_ids.tolist() == ["a", "b", "z"]
    assert out.frame.loc["z", "known_at_as_of"]
    assert out.frame.loc["z", "lifecycle_stage"] == "prospect"
    assert out.frame.loc["a", "frequency"] == 2
    assert out.frame.loc["a", "monetary"] == 6.0
    assert out.frame.loc["z", "top_category"] is None or pd.isna(out.frame.loc["z",
                                                                               "top_category"])
    assert out.updatable and out.as_of == pd.Timestamp("2024-01-20")
    # an empty batch only moves the clock
    later = out.update(new.iloc[:0], "2024-02-20")
    assert later.frame.loc["a", "recency_days"] == out.frame.loc["a", "recency_days"] + 31


@pytest.fixture(scope="module")
def small() -> Profiles:
    ds = load_sample()
    lo, hi = ds.time_range
    t0 = (lo + (hi - lo) * 0.5).floor("s")
    return ProfileBuilder.realtime().build(ds.filter_time(end=t0), t0, updatable=True)


def _later(prof: Profiles) -> pd.DataFrame:
    ds = load_sample()
    full = ds.interactions
    return full[full["timestamp"] >= prof.as_of].head(50).reset_index(drop=True)


def test_events_older_than_as_of_are_refused(small) -> None:
    new = _later(small)
    new.loc[3, "timestamp"] = small.as_of - pd.Timedelta(minutes=5)
    with pytest.raises(InvalidValueError, match=r"timestamps must lie in .*full rebuild"):
        small.update(new)


def test_as_of_before_profiles_is_refused(small) -> None:
    with pytest.raises(InvalidValueError, match="before the state's as_of"):
        small.update(_later(small).iloc[:0], small.as_of - pd.Timedelta(days=1))


def test_unknown_and_missing_columns_are_refused(small) -> None:
    new = _later(small)
    with pytest.raises(InvalidValueError, match=r"column\(s\) \['coupon'\].*not built with"):
        small.update(new.assign(coupon=1))
    with pytest.raises(MissingColumnError, match="order_id"):
        small.update(new.drop(columns="order_id"))
    with pytest.raises(MissingColumnError, match="item_id"):
        small.update(new.drop(columns="item_id"))


def test_unknown_item_and_event_type_are_refused(small) -> None:
    new = _later(small)
    new.loc[0, "item_id"] = "no-such-item"
    with pytest.raises(UnknownIdError, match=r"item\(s\) \['no-such-item'\]"):
        small.update(new)
    odd = _later(small).drop(columns="weight")
    odd.loc[0, "event"] = "teleport"
    with pytest.raises(InvalidValueError, match=r"event type\(s\) \['teleport'\]"):
        small.update(odd)


def test_only_updatable_profiles_and_builders(small, tmp_path) -> None:
    ds = load_sample()
    with pytest.raises(InvalidParameterError, match=r"updatable=True needs builders.*"
                                                    r"PriceSensitivityBuilder"):
        ProfileBuilder.default().build(ds, updatable=True)
    plain = ProfileBuilder.realtime().build(ds)
    assert not plain.updatable
    with pytest.raises(InvalidParameterError, match="updatable=True"):
        plain.update(_later(small))
    loaded = Profiles.load(small.save(tmp_path / "p"))
    with pytest.raises(InvalidParameterError, match="not saved"):
        loaded.update(_later(small))
    with pytest.raises(TypeError, match="updatable must be a bool"):
        ProfileBuilder.realtime().build(ds, updatable="yes")

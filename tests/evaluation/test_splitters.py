"""Splitters: no leakage, honest counts, determinism, filters, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.evaluation import (
    Split,
    cold_item_split,
    cold_user_split,
    leave_last_n_split,
    next_period_split,
    random_split,
    temporal_split,
)
from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
)


def rows(frame: pd.DataFrame) -> set[tuple]:
    """Interaction rows as hashable tuples (user, item, timestamp, event)."""
    return set(zip(frame["user_id"], frame["item_id"], frame["timestamp"], frame["event"]))


def pairs(frame: pd.DataFrame) -> set[tuple]:
    return set(zip(frame["user_id"], frame["item_id"]))


def check_common(split: Split, full: Dataset) -> None:
    """Invariants every split satisfies."""
    train = split.train
    assert train.user_map is full.user_map and train.item_map is full.item_map
    tr = train.interactions
    # no test row is a train row; test rows are rows of the dataset
    assert not rows(split.test) & rows(tr)
    assert rows(split.test) <= rows(full.interactions)
    info = split.info
    assert info["n_test_interactions"] == len(split.test)
    assert info["n_test_users"] == split.test["user_id"].nunique()
    assert info["n_test_items"] == split.test["item_id"].nunique()
    assert info["n_test_pairs"] == len(pairs(split.test))
    assert info["n_train_interactions"] == train.n_interactions
    assert info["n_test_interactions"] + sum(info["dropped"].values()) == \
        info["n_test_interactions_before_filters"]
    assert info["n_train_interactions"] + info["n_test_interactions_before_filters"] + \
        info["n_discarded_interactions"] == full.n_interactions
    assert split.train.users.equals(full.users)  # attributes kept
    np.testing.assert_array_equal(split.test_users, pd.unique(split.test["user_id"]))


def test_random_split_holds_out_pairs_per_user(shop):
    split = random_split(shop, 0.25, min_interactions=5, random_state=3,
                         filter_cold_items=False, filter_already_seen=False)
    check_common(split, shop)
    # all events of a held-out pair are in test: pairs never on both sides
    assert not pairs(split.test) & pairs(split.train.interactions)
    n_pairs = shop.interactions.drop_duplicates(["user_id", "item_id"]).groupby("user_id").size()
    eligible = n_pairs[n_pairs >= 5]
    held = split.test.drop_duplicates(["user_id", "item_id"]).groupby("user_id").size()
    expected = np.clip(np.rint(0.25 * eligible), 1, eligible - 1).astype(int)
    pd.testing.assert_series_equal(held.sort_index(), expected.sort_index(), check_names=False)
    assert split.info["n_users_split"] == len(eligible)
    assert split.info["n_users_too_few_interactions"] == int((n_pairs < 5).sum())
    assert split.info["dropped"] == {}


def test_random_split_is_deterministic_and_seed_dependent(shop):
    a = random_split(shop, 0.2, random_state=11)
    b = random_split(shop, 0.2, random_state=11)
    c = random_split(shop, 0.2, random_state=12)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert pairs(a.test) != pairs(c.test)


def test_random_split_filters_and_relevance(shop):
    split = random_split(shop, 0.3, random_state=0, relevant_events=["purchase"])
    check_common(split, shop)
    assert set(split.test["event"]) == {"purchase"}
    assert split.info["dropped"]["not_relevant_event"] > 0
    # cold items and seen pairs filtered by default
    train_items = set(split.train.interactions["item_id"])
    assert set(split.test["item_id"]) <= train_items
    assert not pairs(split.test) & pairs(split.train.interactions)
    assert split.filter_seen is True


def test_temporal_split_threshold(shop):
    t = pd.Timestamp("2024-03-01")
    split = temporal_split(shop, at=t)
    check_common(split, shop)
    assert split.train.interactions["timestamp"].max() < t
    assert split.test["timestamp"].min() >= t
    # filter_cold_users: every test user has train history
    assert set(split.test["user_id"]) <= set(split.train.interactions["user_id"])
    by_fraction = temporal_split(shop, test_fraction=0.25, filter_cold_users=False,
                                 filter_cold_items=False, filter_already_seen=False)
    first, last = shop.time_range
    cut = by_fraction.info["at"]
    assert cut == first + (last - first) * 0.75
    n_after = int((shop.interactions["timestamp"] >= cut).sum())
    assert len(by_fraction.test) == n_after
    assert by_fraction.info["dropped"] == {}


def test_leave_last_n(shop):
    split = leave_last_n_split(shop, n=2, filter_cold_items=False, filter_already_seen=False)
    check_common(split, shop)
    inter = shop.interactions
    counts = inter.groupby("user_id").size()
    assert split.info["n_users_split"] == int((counts >= 3).sum())
    last_train = split.train.interactions.groupby("user_id")["timestamp"].max()
    first_test = split.test.groupby("user_id")["timestamp"].min()
    assert (first_test >= last_train.reindex(first_test.index)).all()
    assert (split.test.groupby("user_id").size() == 2).all()


def test_next_period_split_window(shop):
    t = pd.Timestamp("2024-02-15")
    split = next_period_split(shop, t, "14D", filter_already_seen=False)
    check_common(split, shop)
    assert split.train.interactions["timestamp"].max() < t
    assert split.test["timestamp"].between(t, t + pd.Timedelta("14D"), inclusive="left").all()
    later = int((shop.interactions["timestamp"] >= t + pd.Timedelta("14D")).sum())
    assert split.info["n_discarded_interactions"] == later
    assert set(split.test["user_id"]) <= set(split.train.interactions["user_id"])
    assert split.filter_seen is False


def test_cold_user_split_keeps_attributes(shop):
    split = cold_user_split(shop, 0.2, random_state=5, filter_cold_items=False)
    check_common(split, shop)
    test_users = set(split.test["user_id"])
    assert not test_users & set(split.train.interactions["user_id"])
    # held-out users keep all their events and become attribute-only ("warm")
    full = shop.interactions
    assert len(split.test) == int(full["user_id"].isin(test_users).sum())
    states = split.train.user_state(sorted(test_users))
    assert set(states) == {"warm"}
    assert split.info["n_users_held_out"] == len(test_users) == round(0.2 * 260)
    assert split.info["n_test_users_with_attributes"] == len(test_users)
    again = cold_user_split(shop, 0.2, random_state=5, filter_cold_items=False)
    pd.testing.assert_frame_equal(again.test, split.test)


def test_cold_item_split(shop):
    t = pd.Timestamp("2024-01-04")
    split = cold_item_split(shop, t, filter_cold_users=False)
    check_common(split, shop)
    first_seen = shop.interactions.groupby("item_id")["timestamp"].min()
    new_items = set(first_seen[first_seen >= t].index)
    assert split.info["n_new_items"] == len(new_items) > 0
    assert set(split.test["item_id"]) == new_items
    assert not new_items & set(split.train.interactions["item_id"])
    assert set(split.candidate_items) == new_items
    attrs = split.train.item_attributes()
    assert attrs.loc[sorted(new_items), "category"].notna().all()


def test_min_weight_filter_uses_weights(shop):
    split = random_split(shop, 0.3, random_state=1, min_weight=3.0)  # cart (3) and purchase (5)
    assert (split.test["weight"] >= 3.0).all()
    assert split.info["dropped"]["below_min_weight"] > 0


def test_splitter_errors(shop):
    with pytest.raises(InvalidParameterError, match=r"'test_fraction' parameter of random_split"):
        random_split(shop, 1.5)
    with pytest.raises(InvalidParameterError, match="'min_interactions' parameter of random_split"):
        random_split(shop, 0.2, min_interactions=1)
    with pytest.raises(InvalidParameterError, match="exactly one of 'at' and 'test_fraction'"):
        temporal_split(shop)
    with pytest.raises(InvalidValueError, match="'at' parameter of next_period_split"):
        next_period_split(shop, "not a date")
    with pytest.raises(InvalidValueError, match="'window' parameter of next_period_split must be a "
                                                "positive duration"):
        next_period_split(shop, "2024-02-01", "-3D")
    with pytest.raises(InvalidDtypeError, match="needs a persona_rec.Dataset, got DataFrame"):
        random_split(shop.interactions)
    with pytest.raises(EmptyInputError, match="temporal_split left no test interactions"):
        temporal_split(shop, at="2030-01-01")
    with pytest.raises(InvalidDtypeError, match="'filter_cold_items' parameter of random_split"):
        random_split(shop, 0.2, filter_cold_items="yes")  # type: ignore[arg-type]
    no_events = Dataset.from_frames(shop.interactions.drop(columns=["event"]))
    with pytest.raises(MissingColumnError, match="relevant_events=\\['purchase'\\] needs an 'event'"):
        random_split(no_events, 0.2, relevant_events="purchase")


def test_movielens_positive_split(ml100k_dir):
    """ML-100K: ratings >= 4 are positives; 80/20 per user (users with >= 5 positives)."""
    from persona_rec.sample_data.movielens import load_movielens_100k

    ds = load_movielens_100k(ml100k_dir)
    positives = ds.filter_interactions(ds.internal_interactions["weight"].to_numpy() >= 4)
    split = random_split(positives, 0.2, min_interactions=5, random_state=0,
                         filter_cold_items=False)
    check_common(split, positives)
    assert positives.n_interactions == 34174 + 21201  # rating histogram in SOURCE.md
    assert (split.test["weight"] >= 4).all()
    n_pos = positives.interactions.groupby("user_id").size()
    assert split.info["n_test_users"] == int((n_pos >= 5).sum())
    ratio = len(split.test) / (len(split.test) + split.train.interactions["user_id"].isin(
        split.test_users).sum())
    assert ratio == pytest.approx(0.2, abs=0.01)

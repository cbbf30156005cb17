"""Dataset.from_frames: contract, validation errors, cleaning reports, filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.exceptions import (
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)


def make_inter(**overrides):
    base = {
        "user_id": ["u1", "u1", "u2", "u3"],
        "item_id": ["a", "b", "a", "c"],
        "timestamp": pd.to_datetime(
            ["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-03 12:00", "2024-02-01 09:00"]
        ),
        "event": ["view", "purchase", "cart", "purchase"],
        "quantity": [1, 2, 1, 1],
        "price": [3.5, 4.0, 3.5, 10.0],
    }
    base.update(overrides)
    return pd.DataFrame(base)


# ------------------------------------------------------------------ contract
def test_counts_matrix_and_states():
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4"], "age": [20, 30, 40, 50],
                          "city": ["x", "y", "x", "z"]})
    items = pd.DataFrame({"item_id": ["a", "b", "c", "d"],
                          "category": ["Home > Kitchen > Mugs"] * 4, "price": [3.5, 4, 10, 1]})
    ds = Dataset.from_frames(make_inter(), users=users, items=items)
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (4, 4, 4)
    m = ds.get_user_item_matrix()
    assert m.shape == (4, 4)
    assert m[0, 0] == 1.0 and m[0, 1] == 5.0 and m[1, 0] == 3.0
    assert ds.get_user_item_matrix(binary=True).sum() == 4
    assert ds.user_state(["u1", "u4", "zz"]).tolist() == ["hot", "warm", "cold"]
    # attribute-only user u4 and item d are in the maps
    assert "u4" in ds.user_map and "d" in ds.item_map
    assert ds.sensitive_columns == frozenset({"age"})
    assert "age" not in ds.user_attributes().columns
    assert "age" in ds.user_attributes(include_sensitive=True).columns
    inter = ds.interactions
    assert inter["user_id"].tolist() == ["u1", "u1", "u2", "u3"]
    assert inter["weight"].tolist() == [1.0, 5.0, 3.0, 5.0]


def test_matrix_copy_is_independent():
    ds = Dataset.from_frames(make_inter())
    m = ds.get_user_item_matrix()
    m.data[:] = 99
    assert ds.get_user_item_matrix().max() == 5.0


def test_weight_column_wins_and_defaults():
    ds = Dataset.from_frames(make_inter(weight=[0.5, 1.5, 2.0, 4.0]))
    assert ds.interactions["weight"].tolist() == [0.5, 1.5, 2.0, 4.0]
    plain = make_inter().drop(columns=["event"])
    assert Dataset.from_frames(plain).interactions["weight"].tolist() == [1.0] * 4
    custom = Dataset.from_frames(make_inter(), event_weights={"view": 0.1, "cart": 1,
                                                              "purchase": 10})
    assert custom.get_user_item_matrix()[0, 1] == 10


def test_epoch_and_string_timestamps():
    epoch = make_inter(timestamp=[1704103200, 1704193200, 1704283200, 1706778000])
    ds = Dataset.from_frames(epoch)
    assert ds.interactions["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 10:00")
    strings = make_inter(timestamp=["2024-01-01", "2024-01-02 10:00", "2024-01-03", "2024-02-01"])
    assert Dataset.from_frames(strings).time_range[1] == pd.Timestamp("2024-02-01")
    aware = make_inter(timestamp=pd.to_datetime(["2024-01-01 10:00"] * 4).tz_localize("Europe/Paris"))
    assert Dataset.from_frames(aware).time_range[0] == pd.Timestamp("2024-01-01 09:00")


def test_int_ids_and_extra_columns_kept():
    inter = make_inter(user_id=[1, 1, 2, 3], item_id=[10, 11, 10, 12], order_id=["o1", "o2", "o3", "o4"])
    ds = Dataset.from_frames(inter)
    out = ds.interactions
    assert out["user_id"].tolist() == [1, 1, 2, 3]
    assert out["order_id"].tolist() == ["o1", "o2", "o3", "o4"]


# -------------------------------------------------------------------- filters
def test_filters_share_id_maps():
    ds = Dataset.from_frames(make_inter())
    early = ds.filter_time(end="2024-01-03")
    assert early.n_interactions == 2
    assert early.user_map is ds.user_map and early.n_users == ds.n_users
    assert early.get_user_item_matrix().shape == ds.get_user_item_matrix().shape
    assert early.user_state(["u1", "u2"]).tolist() == ["hot", "warm"]
    assert ds.filter_time(start="2024-01-03").n_interactions == 2
    assert ds.filter_users(["u1"]).n_interactions == 2
    assert ds.filter_users(["u1"], keep=False).n_interactions == 2
    assert ds.filter_items(["a"]).n_interactions == 2
    assert ds.n_interactions == 4  # original untouched
    with pytest.raises(InvalidValueError, match="start must be a date/time"):
        ds.filter_time(start="not a date")
    with pytest.raises(InvalidValueError, match="mask must be a boolean array of length"):
        ds.filter_interactions([True])


# --------------------------------------------------------- validation errors
def test_not_a_frame():
    with pytest.raises(InvalidDtypeError, match="interactions must be a pandas.DataFrame, got list"):
        Dataset.from_frames([1, 2])


def test_missing_column():
    with pytest.raises(MissingColumnError, match=r"interactions is missing column\(s\) \['timestamp'\]"):
        Dataset.from_frames(make_inter().drop(columns=["timestamp"]))
    with pytest.raises(MissingColumnError, match=r"users is missing column\(s\) \['user_id'\]"):
        Dataset.from_frames(make_inter(), users=pd.DataFrame({"id": [1]}))


def test_empty_input():
    with pytest.raises(EmptyInputError, match="interactions is empty"):
        Dataset.from_frames(make_inter().iloc[:0])


def test_nan_and_empty_ids():
    with pytest.raises(InvalidValueError, match=r"user_id must not be missing or empty.*first at row 1"):
        Dataset.from_frames(make_inter(user_id=["u1", None, "u2", "u3"]))
    with pytest.raises(InvalidValueError, match=r"item_id must not be missing or empty.*e.g. \[''\]"):
        Dataset.from_frames(make_inter(item_id=["a", "", "a", "c"]))


def test_unparseable_timestamp():
    with pytest.raises(InvalidValueError, match=r"timestamp must be a parseable.*e.g. \['yesterday'\]"):
        Dataset.from_frames(make_inter(timestamp=["2024-01-01", "yesterday", "2024-01-03",
                                                  "2024-01-04"]))
    with pytest.raises(InvalidDtypeError, match="got dtype bool"):
        Dataset.from_frames(make_inter(timestamp=[True, False, True, True]))


def test_negative_quantity_and_price():
    with pytest.raises(InvalidValueError, match=r"quantity must be a finite number >= 0.*\[-2.0\]"):
        Dataset.from_frames(make_inter(quantity=[1, -2, 1, 1]))
    with pytest.raises(InvalidValueError, match=r"price must be a finite number >= 0"):
        Dataset.from_frames(make_inter(price=[1.0, 2.0, -0.5, 1.0]))
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "price": [1.0, -3.0, 2.0]})
    with pytest.raises(InvalidValueError, match=r"items: 1 row\(s\) break the rule 'price must be >= 0"):
        Dataset.from_frames(make_inter(), items=items)


def test_wrong_dtypes():
    with pytest.raises(InvalidDtypeError, match=r"interactions\['user_id'\] must hold str or int ids, got dtype float64"):
        Dataset.from_frames(make_inter(user_id=[1.0, 1.0, 2.0, 3.0]))
    with pytest.raises(InvalidDtypeError, match=r"interactions\['quantity'\] must be numeric, got dtype (object|str)"):
        Dataset.from_frames(make_inter(quantity=["1", "2", "1", "1"]))


def test_duplicate_user_rows():
    users = pd.DataFrame({"user_id": ["u1", "u2", "u1"], "city": ["a", "b", "c"]})
    with pytest.raises(DuplicateIdError, match=r"users: 1 row\(s\) break the rule 'user_id must be unique.*\['u1'\]"):
        Dataset.from_frames(make_inter(), users=users)


def test_unknown_items():
    items = pd.DataFrame({"item_id": ["a", "b"]})
    with pytest.raises(UnknownIdError, match=r"item_id must be listed in items.*\['c'\]"):
        Dataset.from_frames(make_inter(), items=items)


def test_unknown_event_and_bad_event_weights():
    with pytest.raises(InvalidValueError, match=r"event must be one of the event_weights keys.*\['wishlist'\]"):
        Dataset.from_frames(make_inter(event=["view", "wishlist", "cart", "purchase"]))
    with pytest.raises(InvalidParameterError, match=r"event_weights\['view'\] must be a finite number >= 0, got -1"):
        Dataset.from_frames(make_inter(), event_weights={"view": -1})
    with pytest.raises(InvalidParameterError, match=r"sensitive names column\(s\) \['nope'\]"):
        Dataset.from_frames(make_inter(), sensitive=["nope"])


# ------------------------------------------------------------------- cleaning
def test_clean_reports_every_removed_row():
    inter = make_inter(
        user_id=["u1", None, "u2", "u3"],
        quantity=[1, 1, -1, 1],
        item_id=["a", "b", "a", "zz"],
    )
    items = pd.DataFrame({"item_id": ["a", "b", "c"]})
    ds = Dataset.from_frames(inter, items=items, clean=True)
    assert ds.n_interactions == 1
    report = ds.cleaning_reports[0]
    assert report.frame == "interactions"
    assert report.removed == {"missing_user_id": 1, "bad_quantity": 1, "unknown_item": 1}
    assert report.n_input == 4 and report.n_output == 1
    frame = report.to_frame()
    assert frame["rows_removed"].sum() == 3
    assert "missing_user_id" in str(report)


def test_clean_everything_removed_is_an_error():
    with pytest.raises(EmptyInputError, match="no valid rows left after cleaning"):
        Dataset.from_frames(make_inter(user_id=[None] * 4), clean=True)


row = st.fixed_dictionaries(
    {
        "user_id": st.one_of(st.none(), st.just(""), st.sampled_from(["u1", "u2", "u3"])),
        "item_id": st.one_of(st.just(""), st.sampled_from(["a", "b", "c", "x"])),
        "timestamp": st.sampled_from(["2024-01-01", "2024-03-05 10:00", "garbage"]),
        "quantity": st.sampled_from([1.0, 2.0, -1.0, float("nan")]),
        "event": st.sampled_from(["view", "purchase", "unknown"]),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=30))
def test_from_frames_never_loses_an_unreported_interaction(rows):
    inter = pd.DataFrame(rows)
    items = pd.DataFrame({"item_id": ["a", "b", "c"]})
    try:
        ds = Dataset.from_frames(inter, items=items, clean=True)
    except EmptyInputError:
        return
    reports = {r.frame: r for r in ds.cleaning_reports}
    report = reports["interactions"]
    assert report.n_input == len(inter)
    assert ds.n_interactions + report.n_removed == len(inter)
    # every kept row is valid, and the kept rows are exactly the valid rows
    out = ds.interactions
    assert out["user_id"].isin(["u1", "u2", "u3"]).all()
    assert out["item_id"].isin(["a", "b", "c"]).all()
    valid = (
        inter["user_id"].isin(["u1", "u2", "u3"])
        & inter["item_id"].isin(["a", "b", "c"])
        & (inter["timestamp"] != "garbage")
        # a view may lack a quantity; a purchase may not (issue #10: views were dropped)
        & ((inter["quantity"] >= 0) | (inter["quantity"].isna() & (inter["event"] == "view")))
        & (inter["event"] != "unknown")
    )
    # exact duplicate rows are a cleaning reason (issue #10)
    n_unique_valid = int(valid.sum()) - int(inter[valid].duplicated().sum())
    assert n_unique_valid == ds.n_interactions
    assert ds.get_user_item_matrix(binary=True).sum() <= ds.n_interactions


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 50), st.text(min_size=1, max_size=4)),
                          st.integers(0, 20)), min_size=1, max_size=60))
def test_external_ids_round_trip_through_dataset(pairs):
    inter = pd.DataFrame({
        "user_id": pd.Series([p[0] for p in pairs], dtype=object),
        "item_id": [p[1] for p in pairs],
        "timestamp": np.arange(len(pairs)),
    })
    ds = Dataset.from_frames(inter)
    out = ds.interactions
    assert out["user_id"].tolist() == inter["user_id"].tolist()
    assert out["item_id"].tolist() == inter["item_id"].tolist()
    assert ds.get_user_item_matrix().sum() == len(pairs)


def test_with_cleaning_reports_and_int_quantity():
    from persona_rec.cleaning import CleaningReport

    ds = Dataset.from_frames(make_inter())
    assert ds.interactions["quantity"].dtype.kind == "i"
    rep = CleaningReport("raw", 10)
    rep.add("bad", 2, "bad rows")
    ds2 = ds.with_cleaning_reports([rep])
    assert ds2.cleaning_reports == [rep] and ds.cleaning_reports == []
    assert ds2.n_interactions == ds.n_interactions
    with pytest.raises(InvalidDtypeError, match=r"reports must hold CleaningReport objects, got \['str'\]"):
        ds.with_cleaning_reports(["nope"])


def test_time_bounds_share_one_convention():
    """Numbers are epoch seconds everywhere (as in from_frames); tz-aware values go to UTC."""
    from persona_rec._validation import as_of_or_after, as_timestamp

    ds = Dataset.from_frames(make_inter())
    t = pd.Timestamp("2024-01-03").timestamp()
    assert ds.filter_time(end=t).n_interactions == ds.filter_time(end="2024-01-03").n_interactions
    assert as_of_or_after(int(t), None) == pd.Timestamp("2024-01-03")
    assert as_timestamp("2024-01-03T01:00+01:00", "x") == pd.Timestamp("2024-01-03")
    with pytest.raises(InvalidValueError, match="as_of must be a date/time, got True"):
        as_of_or_after(True, None)

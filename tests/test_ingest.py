"""Dataset.from_frames on real-world and hostile input: one regression test per cause of issue #10."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.exceptions import (
    DuplicateRowWarning,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    UnknownIdError,
    UnmatchedIdWarning,
)
from persona_rec.models import PopularRecommender
from persona_rec.profiles import ActivityBuilder, ProfileBuilder


def shop(**overrides) -> pd.DataFrame:
    base = {
        "user_id": ["u1", "u1", "u2", "u2"],
        "item_id": ["a", "b", "a", "c"],
        "timestamp": ["2024-03-01 10:00", "2024-03-02 11:00", "2024-03-03 12:00",
                      "2024-03-04 13:00"],
        "event": ["view", "purchase", "view", "purchase"],
        "quantity": [np.nan, 2.0, np.nan, 1.0],
        "price": [np.nan, 9.5, np.nan, 3.0],
    }
    base.update(overrides)
    return pd.DataFrame(base)


# ------------------------------------------------------------------- time
def test_dst_offsets_and_local_hours():
    ds = Dataset.from_frames(shop(timestamp=["2024-03-30T10:00+01:00", "2024-04-02T10:00+02:00",
                                             "2024-04-02T10:00+08:00", "2024-04-03T10:00+08:00"]))
    inter = ds.interactions
    assert inter["timestamp"].astype(str).tolist() == ["2024-03-30 09:00:00", "2024-04-02 08:00:00",
                                                       "2024-04-02 02:00:00", "2024-04-03 02:00:00"]
    assert inter["utc_offset_min"].tolist() == [60, 120, 480, 480]
    prof = ProfileBuilder([ActivityBuilder()]).build(ds).frame
    assert prof.loc["u1", "preferred_hour"] == 10 and prof.loc["u2", "preferred_hour"] == 10


def test_shanghai_customer_gets_local_preferred_hour_from_users_timezone():
    """Issue #10: a Shanghai customer shopping at 10:00 local got preferred_hour 2."""
    inter = shop(user_id=["sh"] * 4, timestamp=["2024-03-01 02:00", "2024-03-02 02:10",
                                                 "2024-03-03 02:20", "2024-03-04 03:00"])
    users = pd.DataFrame({"user_id": ["sh", "ny"], "timezone": ["Asia/Shanghai", None]})
    ds = Dataset.from_frames(inter, users=users)
    assert ds.interactions["utc_offset_min"].unique().tolist() == [480]
    prof = ProfileBuilder([ActivityBuilder()]).build(ds).frame
    assert prof.loc["sh", "preferred_hour"] == 10
    from persona_rec.marketing import SendTimeModel

    best = SendTimeModel().fit(ds).predict().set_index("user_id")
    assert best.loc["sh", "best_hour"] == 10


def test_interactions_round_trip_keeps_local_offsets():
    ds = Dataset.from_frames(shop(timestamp=["2024-03-30T10:00+01:00", "2024-04-02T10:00+02:00",
                                             "2024-04-02T10:00+08:00", "2024-04-03T10:00+08:00"]))
    again = Dataset.from_frames(ds.interactions.drop(columns="weight"))
    pd.testing.assert_frame_equal(again.interactions, ds.interactions)
    with pytest.raises(InvalidValueError, match="utc_offset_min must be whole minutes"):
        Dataset.from_frames(shop(utc_offset_min=[0, 60, 30.5, 2000]))


def test_users_timezone_follows_dst():
    inter = shop(user_id=["p"] * 4, timestamp=["2024-01-15 09:00", "2024-07-15 08:00",
                                                "2024-01-16 09:00", "2024-07-16 08:00"])
    ds = Dataset.from_frames(inter, users=pd.DataFrame({"user_id": ["p"],
                                                        "timezone": ["Europe/Paris"]}))
    assert ds.interactions["utc_offset_min"].tolist() == [60, 120, 60, 120]


def test_bad_timezone_is_a_rule():
    users = pd.DataFrame({"user_id": ["u1", "u2"], "timezone": ["Mars/Olympus", "UTC"]})
    with pytest.raises(InvalidValueError, match=r"users: 1 row\(s\) break the rule 'timezone must "
                                                r"be an IANA time-zone name.*'Mars/Olympus'"):
        Dataset.from_frames(shop(), users=users)
    ds = Dataset.from_frames(shop(), users=users, clean=True)
    assert {r.frame: r.removed for r in ds.cleaning_reports}["users"] == {"bad_timezone": 1}


def test_naive_times_get_no_offset_column():
    ds = Dataset.from_frames(shop())
    assert "utc_offset_min" not in ds.interactions.columns


def test_ambiguous_day_month_refused_then_read_with_dayfirst():
    inter = shop(timestamp=["05/03/2024", "25/03/2024", "06/03/2024", "07/03/2024"])
    with pytest.raises(InvalidValueError, match=r"interactions\['timestamp'\] holds day/month "
                                                r"dates that can be read two ways.*'05/03/2024'"):
        Dataset.from_frames(inter)
    ds = Dataset.from_frames(inter, dayfirst=True)
    assert ds.interactions["timestamp"].dt.strftime("%m-%d").tolist() == [
        "03-05", "03-25", "03-06", "03-07"]
    ds2 = Dataset.from_frames(inter, time_format="%d/%m/%Y")
    assert (ds2.interactions["timestamp"] == ds.interactions["timestamp"]).all()


def test_epoch_milliseconds_and_out_of_range_rows():
    ms = shop(timestamp=[1.7e12, 1.7e12 + 1e3, 1.7e12 + 2e3, 1.7e12 + 3e3])
    ds = Dataset.from_frames(ms)
    assert str(ds.time_range[0]) == "2023-11-14 22:13:20"
    far = shop(timestamp=["2024-01-01", "2300-01-01", "2024-01-02", "garbage"])
    with pytest.raises(InvalidValueError, match=r"2 rules are broken: \(1\) .*parseable.*"
                                                r"'garbage'.*\(2\) .*between 1677-09-22 and "
                                                r"2262-04-11.*'2300-01-01'"):
        Dataset.from_frames(far)
    ds = Dataset.from_frames(far, clean=True)
    assert ds.cleaning_reports[0].removed == {"bad_timestamp": 1, "timestamp_out_of_range": 1}
    with pytest.raises(InvalidValueError, match="mixes epoch magnitudes"):
        Dataset.from_frames(shop(timestamp=[1.7e9, 1.7e12, 1.7e9, 1.7e9]))
    ds = Dataset.from_frames(shop(timestamp=[1.7e9, 1.7e12, 1.7e9 + 1, 1.7e9 + 2]),
                             epoch_unit="s", clean=True)
    assert ds.cleaning_reports[0].removed == {"timestamp_out_of_range": 1}


def test_mixed_aware_and_naive_refused():
    with pytest.raises(InvalidValueError, match="mixes times with a UTC offset"):
        Dataset.from_frames(shop(timestamp=["2024-03-01T10:00+01:00", "2024-03-02 10:00",
                                            "2024-03-03 10:00", "2024-03-04 10:00"]))


# --------------------------------------------------------------- cleaning
def test_views_without_quantity_and_price_are_kept():
    """Issue #10: clean=True dropped every view (764 of 1,373 rows)."""
    ds = Dataset.from_frames(shop(), clean=True)
    assert ds.n_interactions == 4 and ds.cleaning_reports[0].n_removed == 0
    # a purchase still needs them
    bad = shop(quantity=[np.nan, np.nan, np.nan, 1.0])
    with pytest.raises(InvalidValueError, match="missing is allowed on non-purchase events"):
        Dataset.from_frames(bad)


def test_exact_duplicates_are_a_cleaning_reason():
    inter = pd.concat([shop(), shop().iloc[[1, 1]]], ignore_index=True)
    with pytest.warns(DuplicateRowWarning, match=r"interactions: 2 row\(s\) repeat an earlier "
                                                 r"row exactly .*first at row 4.*clean=True"):
        kept = Dataset.from_frames(inter)
    assert kept.n_interactions == 6  # strict mode keeps them, and says so
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = Dataset.from_frames(inter, clean=True)
    assert ds.n_interactions == 4
    assert ds.cleaning_reports[0].removed == {"duplicate_row": 2}
    # the same instant written two ways is the same row
    two_ways = shop(timestamp=["2024-03-01T10:00+01:00", "2024-03-01T09:00Z",
                               "2024-03-03T12:00Z", "2024-03-04T13:00Z"],
                    item_id=["a", "a", "a", "c"], event=["view"] * 4,
                    quantity=[np.nan] * 4, price=[np.nan] * 4, user_id=["u1"] * 4)
    assert Dataset.from_frames(two_ways, clean=True).cleaning_reports[0].removed == {
        "duplicate_row": 1}


def test_strict_mode_reports_every_rule_at_once():
    inter = shop(user_id=[None, "u1", "u2", "u2"], timestamp=["2024-03-01", "nope", "2024-03-03",
                                                              "2024-03-04"],
                 quantity=[np.nan, -2.0, np.nan, 1.0], event=["view", "purchase", "oops",
                                                              "purchase"])
    with pytest.raises(InvalidValueError) as info:
        Dataset.from_frames(inter)
    reasons = [v.reason for v in info.value.violations]
    assert reasons == ["missing_user_id", "bad_timestamp", "bad_quantity", "unknown_event"]
    assert str(info.value).startswith("4 rules are broken: (1) interactions: 1 row(s) break")
    # across frames too
    users = pd.DataFrame({"user_id": ["u1", "u1"]})
    with pytest.raises(Exception) as info2:
        Dataset.from_frames(inter, users=users)
    assert [v.reason for v in info2.value.violations][0] == "duplicate_user_id"


def test_event_map_and_columns():
    raw = pd.DataFrame({"customer": ["x", "x", "y"], "sku": [1, 2, 1],
                        "when": ["2024-01-01", "2024-01-02", "2024-01-03"],
                        "action": ["pageview", "add_to_cart", "checkout"]})
    with pytest.raises(InvalidValueError, match="event must be one of the event_weights keys"):
        Dataset.from_frames(raw.rename(columns={"customer": "user_id", "sku": "item_id",
                                                "when": "timestamp", "action": "event"}))
    users = pd.DataFrame({"customer": ["x", "y", "z"], "age": [30, 40, 50]})
    ds = Dataset.from_frames(
        raw, users=users,
        columns={"customer": "user_id", "sku": "item_id", "when": "timestamp", "action": "event"},
        event_map={"pageview": "view", "add_to_cart": "cart", "checkout": "purchase"},
    )
    assert ds.interactions["event"].astype(str).tolist() == ["view", "cart", "purchase"]
    assert ds.interactions["weight"].tolist() == [1.0, 3.0, 5.0]
    assert ds.user_state(["z"]).tolist() == ["warm"]
    with pytest.raises(InvalidParameterError, match=r"columns= names column\(s\) \['nope'\]"):
        Dataset.from_frames(raw, columns={"nope": "user_id"})
    with pytest.raises(InvalidParameterError, match="already has column"):
        Dataset.from_frames(shop(), columns={"event": "user_id"})
    with pytest.raises(InvalidParameterError, match="event_map must map str"):
        Dataset.from_frames(shop(), event_map={"view": 3})


def test_category_column_on_events_becomes_item_attributes():
    inter = shop(category=["Home/Kitchen", "Toys", "Home/Kitchen", None])
    ds = Dataset.from_frames(inter)
    assert ds.item_attributes()["category"].to_dict() == {"a": "Home/Kitchen", "b": "Toys",
                                                          "c": None} or \
        ds.item_attributes()["category"].fillna("-").to_dict() == {"a": "Home/Kitchen",
                                                                   "b": "Toys", "c": "-"}
    with pytest.raises(InvalidValueError, match=r"gives 1 item\(s\) more than one category "
                                                r"\('a': \['Home/Kitchen', 'Garden'\]\)"):
        Dataset.from_frames(shop(category=["Home/Kitchen", "Toys", "Garden", None]))


def test_category_spellings_of_one_path_are_one_category():
    """'Home/Kitchen', 'Home > Kitchen', 'home/kitchen/' were refused as three categories."""
    spellings = ["Home/Kitchen", "Home > Kitchen", "home/kitchen/", " Home / Kitchen "]
    ev = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "item_id": ["mug"] * 4,
                       "timestamp": pd.date_range("2024-01-01", periods=4, freq="D"),
                       "category": spellings})
    for clean in (False, True):
        ds = Dataset.from_frames(ev, clean=clean)
        assert ds.item_attributes()["category"].to_dict() == {"mug": "Home/Kitchen"}  # first kept
    # a different path still conflicts; one spelling per path is shown
    with pytest.raises(InvalidValueError, match=r"\('mug': \['Home/Kitchen', 'Garden'\]\)"):
        Dataset.from_frames(ev.assign(category=spellings[:3] + ["Garden"]))


# -------------------------------------------------------------------- ids
def test_id_kind_mismatch_between_frames():
    """Issue #10: str user ids + int event ids gave 200 warm and 179 attribute-less hot users."""
    inter = shop(user_id=[12583, 12583, 17850, 17850])
    users = pd.DataFrame({"user_id": ["12583", "17850"], "country": ["FR", "UK"]})
    with pytest.raises(InvalidDtypeError, match=r"users\['user_id'\] holds str ids \(e.g. "
                                                r"'12583'\) but interactions\['user_id'\] holds "
                                                r"int ids \(e.g. 12583\)"):
        Dataset.from_frames(inter, users=users)
    items = pd.DataFrame({"item_id": [1, 2, 3]})
    with pytest.raises(InvalidDtypeError, match=r"items\['item_id'\] holds int ids"):
        Dataset.from_frames(shop(), items=items)


@pytest.mark.parametrize("bad, rule", [
    (True, "must be a str or an int"),
    (17850.0, "must be a str or an int"),
    ((1, 2), "must be a str or an int"),
    (b"u9", "must be a str or an int"),
    (None, "must not be missing"),
    (np.nan, "must not be missing"),
])
def test_object_id_elements_are_checked(bad, rule):
    """Issue #10: True merged into user 1, 17850.0 into 17850, tuples passed until save."""
    ids = np.array(["u1", "u1", 1, 17850], dtype=object)
    ids[2] = bad
    with pytest.raises((InvalidValueError, InvalidDtypeError), match=rule):
        Dataset.from_frames(shop(user_id=ids))
    ds = Dataset.from_frames(shop(user_id=ids), clean=True)
    assert ds.n_interactions == 3
    assert ds.cleaning_reports[0].n_removed == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none(), st.booleans(),
                          st.floats(allow_nan=True), st.tuples(st.integers())),
                min_size=1, max_size=20))
def test_ids_never_merge_or_coerce(values):
    """Every kept user id is exactly an input str or int; everything else is reported."""
    n = len(values)
    ids = np.empty(n, dtype=object)
    ids[:] = values
    inter = pd.DataFrame({"user_id": ids, "item_id": np.arange(n),
                          "timestamp": pd.date_range("2024-01-01", periods=n, freq="h")})
    ok = [v for v in values if (isinstance(v, str) and v != "")
          or (isinstance(v, int) and not isinstance(v, bool))]
    try:
        ds = Dataset.from_frames(inter, clean=True)
    except EmptyInputError:
        assert not ok
        return
    out = ds.interactions["user_id"].tolist()
    assert [(type(v), v) for v in out] == [(type(v), v) for v in ok]
    assert ds.cleaning_reports[0].n_removed == n - len(ok)
    if len(ok) < n:
        with pytest.raises((InvalidValueError, InvalidDtypeError)):
            Dataset.from_frames(inter)


def test_nullable_int_ids_with_missing_values():
    ids = pd.array([12583, None, 17850, 17850], dtype="Int64")
    with pytest.raises(InvalidValueError, match="user_id must not be missing"):
        Dataset.from_frames(shop(user_id=ids))
    ds = Dataset.from_frames(shop(user_id=ids), clean=True)
    assert ds.cleaning_reports[0].removed == {"missing_user_id": 1}
    assert sorted(ds.user_map.external_ids.tolist()) == [12583, 17850]


@pytest.mark.skipif(
    int(np.__version__.split(".")[0]) < 2 or int(pd.__version__.split(".")[0]) < 3,
    reason="NUL-terminated ids and exact nullable-string round trips need numpy >= 2 and "
           "pandas >= 3 (docs/data-model.md, 'Ids'); older versions strip the trailing NULs")
def test_trailing_nul_ids_are_preserved_and_distinct():
    """Issue #10: ids ending in NUL lost it (numpy fixed-width strings strip trailing NULs)."""
    ds = Dataset.from_frames(shop(user_id=["u1", "u1\x00", "u2", "u2"]))
    assert ds.n_users == 3
    assert ds.user_map.to_internal(["u1\x00", "u1"]).tolist() == [1, 0]
    assert ds.interactions["user_id"].tolist()[:2] == ["u1", "u1\x00"]
    model = PopularRecommender().fit(ds)
    reco = model.recommend(["u1\x00"], k=1, filter_seen=False)
    assert reco["user_id"].tolist() == ["u1\x00"]


def test_recommend_refuses_missing_and_wrong_kind_ids():
    """Issue #10: recommend(["12583"]) on int ids served popularity; None and NaN were served."""
    inter = shop(user_id=[12583, 12583, 17850, 17850])
    model = PopularRecommender().fit(Dataset.from_frames(inter))
    with pytest.raises(InvalidDtypeError, match=r"1 user_id\(s\) are str ids whose int form is a "
                                                r"known user_id, e.g. '12583' vs 12583"):
        model.recommend(["12583"], k=2)
    # a new customer with a str id is a cold user, not a type error
    assert len(model.recommend(["new-customer-001"], k=2)) == 2
    with pytest.raises(InvalidValueError, match="must not be missing"):
        model.recommend(None, k=2)
    with pytest.raises((InvalidValueError, InvalidDtypeError)):
        model.recommend([np.nan], k=2)
    with pytest.raises(InvalidDtypeError, match="got float values"):
        model.recommend(np.array([12583.0]), k=2)
    with pytest.raises(InvalidDtypeError, match="bool"):
        model.recommend([True], k=2)
    # a genuinely unknown id of the right kind is a cold user, as before
    assert len(model.recommend([99999], k=2)) == 2


# ---------------------------------------------------------------- numbers
def test_weight_that_overflows_float32_is_rejected():
    """Issue #10: weight=1e300 passed 'finite' and became inf in the float32 matrix."""
    inter = shop(weight=[1.0, 1e300, 2.0, 1.0])
    with pytest.raises(InvalidValueError, match="sums stay finite in the float32 matrix"):
        Dataset.from_frames(inter)
    ds = Dataset.from_frames(inter, clean=True)
    assert np.isfinite(ds.get_user_item_matrix().data).all()
    assert ds.cleaning_reports[0].removed == {"bad_weight": 1}


def test_monetary_overflow_is_rejected():
    """Issue #10: quantity=1e308 made monetary inf."""
    inter = shop(quantity=[np.nan, 1e308, np.nan, 10.0], price=[np.nan, 9.5, np.nan, 1e307])
    with pytest.raises(InvalidValueError, match="quantity \\* price must be <="):
        Dataset.from_frames(inter)
    ds = Dataset.from_frames(inter, clean=True)
    assert ds.cleaning_reports[0].removed == {"bad_amount": 2}


def test_duplicate_column_names_are_a_typed_error():
    inter = shop()
    dup = pd.concat([inter, inter[["price"]]], axis=1)
    with pytest.raises(InvalidValueError, match=r"interactions has duplicate column name\(s\) "
                                                r"\['price'\]"):
        Dataset.from_frames(dup)
    users = pd.DataFrame([["u1", 3, 4]], columns=["user_id", "age", "age"])
    with pytest.raises(InvalidValueError, match=r"users has duplicate column name\(s\) \['age'\]"):
        Dataset.from_frames(shop(), users=users)


def test_unknown_item_is_still_a_key_error():
    with pytest.raises(UnknownIdError):
        Dataset.from_frames(shop(), items=pd.DataFrame({"item_id": ["a", "b"]}))


def test_date_attributes_are_read_like_the_timestamps():
    """registration_date / first_seen used to be read by bare pd.to_datetime in the builders:
    epoch seconds became 1970 nanoseconds (account age ~19,800 days, novelty 0)."""
    from persona_rec.profiles import ProfileBuilder

    ev = pd.DataFrame({"user_id": ["a", "b"], "item_id": [1, 2], "event": "purchase",
                       "timestamp": ["2024-03-01", "2024-03-02"], "price": 1.0})
    iso = ["2024-01-01", "2024-02-01"]
    spellings = {
        "ISO": iso,
        "epoch seconds": [1704067200, 1706745600],
        "epoch ms": [1704067200000, 1706745600000],
        "offset": ["2024-01-01T08:00+08:00", "2024-02-01T00:00Z"],
    }
    frames = []
    for name, reg in spellings.items():
        ds = Dataset.from_frames(ev, users=pd.DataFrame({"user_id": ["a", "b"], "registration_date": reg}),
                                 items=pd.DataFrame({"item_id": [1, 2], "first_seen": reg}))
        assert ds.user_attributes()["registration_date"].tolist() == list(pd.to_datetime(iso)), name
        assert ds.item_attributes()["first_seen"].tolist() == list(pd.to_datetime(iso)), name
        frames.append(ProfileBuilder.default().build(ds, as_of="2024-03-10").frame)
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])
    assert frames[0]["account_age_days"].tolist() == [69.0, 38.0]
    # day/month dates follow dayfirst=; blanks stay missing; junk is a typed error
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_date": ["05/01/2024", " "]})
    ds = Dataset.from_frames(ev, users=users, dayfirst=True)
    got = ds.user_attributes()["signup_date"]
    assert got.iloc[0] == pd.Timestamp("2024-01-05") and pd.isna(got.iloc[1])
    with pytest.raises(InvalidValueError, match="day/month"):
        Dataset.from_frames(ev, users=users)
    with pytest.raises(InvalidValueError, match=r"users\['registration_date'\] must hold dates"):
        Dataset.from_frames(ev, users=pd.DataFrame({"user_id": ["a"], "registration_date": ["soon"]}))


# ------------------------------------------------------- pyarrow dtype backend
def test_pyarrow_dtype_backend_reads_like_numpy(tmp_path):
    """ArrowDtype str ids were refused ('must hold str or int ids, got dtype string[pyarrow]')
    and tz-aware ArrowDtype timestamps raised a raw numpy TypeError."""
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "events.csv"
    shop(timestamp=["2024-03-30T10:00+01:00", "2024-03-31T11:00+02:00",
                    "2024-04-01T12:00+02:00", "2024-04-02T13:00+02:00"],
         order_id=[None, 7, None, 8]).to_csv(path, index=False)
    users = pd.DataFrame({"user_id": ["u1", "u2"], "country": ["FR", None]})
    plain = Dataset.from_frames(pd.read_csv(path), users=users)
    arrow_ev = pd.read_csv(path, dtype_backend="pyarrow")
    assert isinstance(arrow_ev["user_id"].dtype, pd.ArrowDtype)
    arrow_ev["timestamp"] = pd.to_datetime(pd.read_csv(path)["timestamp"], utc=True) \
        .dt.tz_convert("Europe/Paris").astype(pd.ArrowDtype(pa.timestamp("us", tz="Europe/Paris")))
    arrow = Dataset.from_frames(arrow_ev, users=users.astype(pd.ArrowDtype(pa.large_string())))
    pd.testing.assert_frame_equal(arrow.interactions.drop(columns="order_id"),
                                  plain.interactions.drop(columns="order_id"))
    assert arrow.interactions["order_id"].astype("Float64").tolist() \
        == plain.interactions["order_id"].astype("Float64").tolist()
    assert arrow.user_map.external_ids.tolist() == ["u1", "u2"]
    assert arrow.users["country"].tolist()[0] == "FR"
    want = ProfileBuilder.default().build(plain).frame
    got = ProfileBuilder.default().build(arrow).frame
    pd.testing.assert_frame_equal(got, want)


# ------------------------------------------------------------ unmatched users
@pytest.mark.parametrize("event_ids,user_ids", [(["7", "7", "42"], ["007", "042"]),
                                                (["17850", "17850", "13047"],
                                                 ["17850.0", "13047.0"])])
def test_users_frame_sharing_no_id_with_events_warns(event_ids, user_ids):
    """A users frame whose ids are spelled differently silently doubled every customer."""
    ev = pd.DataFrame({"user_id": event_ids, "item_id": ["A", "B", "A"],
                       "timestamp": ["2011-01-01", "2011-01-02", "2011-01-03"]})
    users = pd.DataFrame({"user_id": user_ids, "segment_hint": ["vip", "new"]})
    with pytest.warns(UnmatchedIdWarning, match=rf"users: none of its 2 user_id value\(s\) "
                      rf"occurs in interactions \(2 distinct user_id value\(s\)\), e.g. users "
                      rf"'{user_ids[0]}' vs interactions '{event_ids[0]}'.*join mistake"):
        ds = Dataset.from_frames(ev, users=users)
    assert ds.n_users == 4  # still allowed: attribute-only users are valid
    # one shared id is enough: attribute-only users are normal, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frames(ev, users=users.assign(user_id=[event_ids[0], user_ids[1]]))
        Dataset.from_frames(ev, users=users.iloc[:0])


def test_non_numeric_price_names_the_offending_value_and_row():
    """'2,55' gave "must be numeric, got dtype str (e.g. '3')": a valid cell, no row."""
    ev = shop(price=["3", "3.5", "2,55", None])
    with pytest.raises(InvalidDtypeError, match=r"interactions\['price'\] must be numeric, got "
                       r"dtype (object|str): 1 value\(s\) are not numbers, e.g. \['2,55'\] at row "
                       r"position\(s\) \[2\] \(decimal commas\? read the file with decimal=','"):
        Dataset.from_frames(ev)
    with pytest.raises(InvalidDtypeError, match=r"\['x', 'n/a'\] at row position\(s\) \[0, 3\]"
                                                r"\.$"):
        Dataset.from_frames(shop(quantity=["x", "1", "2", "n/a"]))
    with pytest.raises(InvalidDtypeError, match=r"got dtype (object|str) \(e.g. '1' at row "
                                                r"position 0\): the values are numbers stored as "
                                                r"text"):
        Dataset.from_frames(shop(quantity=["1", "2", "1", "1"]))


def test_event_map_int_keys_map_integer_event_codes():
    """Numeric event codes (1=view, 4=purchase) could not be mapped: keys had to be str."""
    ev = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "a", "b"],
                       "timestamp": ["2011-01-01 10:00", "2011-01-01 10:05", "2011-01-02 10:00"],
                       "behavior_type": [1, 4, 1]})
    want = ["view", "purchase", "view"]
    for codes in ([1, 4, 1], [1.0, 4.0, 1.0], np.array([1, 4, 1], dtype=np.int16)):
        ds = Dataset.from_frames(ev.assign(behavior_type=codes), columns={"behavior_type": "event"},
                                 event_map={1: "view", np.int64(4): "purchase"})
        assert ds.interactions["event"].astype(str).tolist() == want
    text = Dataset.from_frames(ev.assign(behavior_type=["1", "4", "1"]),
                               columns={"behavior_type": "event"},
                               event_map={"1": "view", "4": "purchase"})
    assert text.interactions["event"].astype(str).tolist() == want
    with pytest.raises(InvalidParameterError, match=r"event_map has str key\(s\) \['1', '4'\] but "
                       r"interactions\['event'\] holds integer event codes \(e.g. 1\).*"
                       r"use int keys for numeric codes, e.g. \{1: 'view'\}"):
        Dataset.from_frames(ev, columns={"behavior_type": "event"},
                            event_map={"1": "view", "4": "purchase"})
    with pytest.raises(InvalidParameterError, match=r"event_map has int key\(s\) \[1\] but "
                       r"interactions\['event'\] holds no integer event codes \(e.g. '1'\)"):
        Dataset.from_frames(ev.assign(behavior_type=["1", "4", "1"]),
                            columns={"behavior_type": "event"}, event_map={1: "view"})
    with pytest.raises(InvalidParameterError, match=r"event_map must map str \(or int event "
                                                    r"codes\) to non-empty str"):
        Dataset.from_frames(ev, columns={"behavior_type": "event"}, event_map={True: "view"})

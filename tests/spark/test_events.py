"""SparkEvents: the rules and typed errors of Dataset.from_frames, evaluated by Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.exceptions import (
    DuplicateRowWarning,
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.spark import SparkEvents

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")


def _frames():
    inter = pd.DataFrame({
        "user_id": ["u1", "u2", "", None, "u3", "u4", "u5", "u6", "u7"],
        "item_id": ["a", "b", "a", "a", "zz", "b", "a", "b", "a"],
        "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                      "not a date", "2024-01-07", "2024-01-08", "2024-01-09"],
        "event": ["view", "purchase", "view", "view", "cart", "view", "teleport", "view", "cart"],
        "price": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, -3.0, np.nan],
    })
    users = pd.DataFrame({"user_id": ["u1", "u2", "u2", "u9"], "age": [30, 40, 41, 50]})
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "price": [1.0, 2.0, 3.0]})
    return inter, users, items


def test_clean_report_matches_pandas(spark):
    inter, users, items = _frames()
    pd_ds = Dataset.from_frames(inter, users=users, items=items, clean=True)
    ev = SparkEvents.from_frames(spark.createDataFrame(inter), spark.createDataFrame(users),
                                 spark.createDataFrame(items), clean=True)
    want = {r.frame: (r.n_input, r.removed) for r in pd_ds.cleaning_reports}
    got = {r.frame: (r.n_input, r.removed) for r in ev.cleaning_reports}
    assert got == want
    assert [r.frame for r in ev.cleaning_reports] == [r.frame for r in pd_ds.cleaning_reports]
    kept = ev.interactions.toPandas().sort_values("_row")
    assert kept["user_id"].tolist() == pd_ds.interactions["user_id"].tolist()
    assert kept["weight"].tolist() == pd_ds.interactions["weight"].tolist()
    assert ev.sensitive_columns == pd_ds.sensitive_columns == frozenset({"age"})


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda f: f.drop(columns="timestamp"), MissingColumnError,
         r"interactions is missing column\(s\) \['timestamp'\]"),
        (lambda f: f.assign(user_id=[1.5] * len(f)), InvalidDtypeError,
         r"interactions\['user_id'\] must hold str or int ids"),
        (lambda f: f.assign(price=["x"] * len(f)), InvalidDtypeError,
         r"interactions\['price'\] must be numeric"),
        (lambda f: f.assign(price=[1.0, -2.0, 1.0]), InvalidValueError,
         r"1 row\(s\) break the rule 'price must be a finite number >= 0 \(missing is allowed "
         r"on non-purchase events\)' \(first at row 1, e.g. \[-2.0\]\)"),
        (lambda f: f.assign(timestamp=["2024-01-01", "nope", "2024-01-02"]), InvalidValueError,
         r"rule 'timestamp must be a parseable date/time'.*'nope'"),
        (lambda f: f.assign(user_id=["a", "", "b"]), InvalidValueError,
         r"rule 'user_id must not be missing or empty'"),
        (lambda f: f.assign(event=["view", "teleport", "view"]), InvalidValueError,
         r"rule 'event must be one of the event_weights keys"),
    ],
)
def test_same_typed_errors_as_pandas(spark, change, error, match):
    base = pd.DataFrame({"user_id": ["a", "b", "c"], "item_id": [1, 2, 3],
                         "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
                         "event": ["view", "view", "view"], "price": [1.0, 2.0, 3.0]})
    bad = change(base)
    with pytest.raises(error, match=match):
        Dataset.from_frames(bad)
    with pytest.raises(error, match=match):
        SparkEvents.from_frames(spark.createDataFrame(bad))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"dayfirst": "yes"}, r"dayfirst must be True, False or None, got 'yes'\."),
        ({"time_format": "YYYY-MM-DD"}, (r"time_format must be a strftime format such as "
                                         r"'%d/%m/%Y %H:%M', got 'YYYY-MM-DD'\.")),
        ({"epoch_unit": "days"}, (r"epoch_unit must be one of \['s', 'ms', 'us', 'ns'\] or None, "
                                  r"got 'days'\.")),
    ],
)
def test_same_time_option_errors_as_pandas(spark, options, match):
    inter = pd.DataFrame({"user_id": ["a"], "item_id": ["x"], "timestamp": ["2024-01-01"]})
    with pytest.raises(InvalidParameterError, match=match):
        Dataset.from_frames(inter, **options)
    with pytest.raises(InvalidParameterError, match=match):
        SparkEvents.from_frames(spark.createDataFrame(inter), **options)


def test_entity_errors(spark):
    inter = pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    s_inter = spark.createDataFrame(inter)
    with pytest.raises(DuplicateIdError, match=r"users: 1 row\(s\) break the rule 'user_id must "
                                               r"be unique"):
        SparkEvents.from_frames(s_inter, users=spark.createDataFrame(
            pd.DataFrame({"user_id": ["a", "a"]})))
    with pytest.raises(UnknownIdError, match=r"rule 'item_id must be listed in items'.*'y'"):
        SparkEvents.from_frames(s_inter, items=spark.createDataFrame(
            pd.DataFrame({"item_id": ["x"]})))
    with pytest.raises(InvalidDtypeError, match="interactions must be a pyspark.sql.DataFrame"):
        SparkEvents.from_frames(inter)
    with pytest.raises(EmptyInputError, match="interactions is empty"):
        SparkEvents.from_frames(s_inter.limit(0))


def test_numeric_timestamps_are_epoch_seconds(spark):
    inter = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "timestamp": [0, 86_400]})
    ev = SparkEvents.from_frames(spark.createDataFrame(inter))
    got = ev.interactions.toPandas().sort_values("_row")["timestamp"]
    want = Dataset.from_frames(inter).interactions["timestamp"]
    assert got.astype("datetime64[ns]").tolist() == want.tolist()


def _messy_frames():
    """Views without prices, exact duplicates, an out-of-range time, offsets and time zones."""
    inter = pd.DataFrame({
        "user_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u1", "u2", "u3"],
        "item_id": ["a", "a", "b", "b", "a", "b", "a", "b", "a", "a"],
        "timestamp": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02 23:30", "2300-01-01",
                      "2024-01-03 05:00", "2024-01-04 12:00", "2024-01-05", "2024-01-06 01:00",
                      "2024-01-07 02:00", "2024-01-08 03:00"],
        "event": ["view", "view", "purchase", "purchase", "view", "purchase", "cart", "purchase",
                  "view", "view"],
        "price": [np.nan, np.nan, 2.0, 2.0, np.nan, np.nan, np.nan, 3.0, 1.0, np.nan],
        "quantity": [np.nan, np.nan, 1, 2, np.nan, 1, 1, 1e308, 1, np.nan],
        "utc_offset_min": [60, 60, -300, 0, 0, 0, 0, 60, 2000, 330],
    })
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u9"],
                          "timezone": ["Asia/Shanghai", None, "America/New_York", "Not/AZone"]})
    return inter, users


def test_messy_frame_clean_matches_pandas(spark):
    inter, users = _messy_frames()
    pd_ds = Dataset.from_frames(inter, users=users, clean=True)
    ev = SparkEvents.from_frames(spark.createDataFrame(inter), spark.createDataFrame(users),
                                 clean=True)
    want = [(r.frame, r.n_input, r.removed) for r in pd_ds.cleaning_reports]
    got = [(r.frame, r.n_input, r.removed) for r in ev.cleaning_reports]
    assert got == want
    # every reason of the new rules is exercised
    assert {"duplicate_row", "timestamp_out_of_range", "bad_price", "bad_amount",
            "bad_utc_offset"} <= set(want[0][2])
    kept = ev.interactions.toPandas().sort_values("_row")
    mine = pd_ds.interactions
    assert kept["user_id"].tolist() == mine["user_id"].tolist()
    assert kept["timestamp"].astype("datetime64[ns]").tolist() == mine["timestamp"].tolist()
    # local offsets: the users' zones win over the events' own offsets (u3: New York, -300)
    assert kept["utc_offset_min"].tolist() == mine["utc_offset_min"].astype(int).tolist()
    assert np.array_equal(kept["price"].to_numpy(), mine["price"].to_numpy(), equal_nan=True)


def test_strict_errors_list_every_rule_as_pandas(spark):
    inter = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "item_id": [1, 2, 3, 4],
                          "timestamp": ["2024-01-01", "2024-01-02", "2300-01-01", "2024-01-04"],
                          "event": ["view", "purchase", "view", "teleport"],
                          "price": [np.nan, np.nan, 1.0, 1.0]})
    with pytest.raises(InvalidValueError) as want:
        Dataset.from_frames(inter)
    with pytest.raises(InvalidValueError) as got:
        SparkEvents.from_frames(spark.createDataFrame(inter))
    assert str(got.value) == str(want.value)
    assert str(got.value).startswith("3 rules are broken: (1) interactions: 1 row(s) break the "
                                     "rule 'timestamp must lie between")
    assert [v.reason for v in got.value.violations] == \
        ["timestamp_out_of_range", "bad_price", "unknown_event"]


def test_duplicates_warn_in_strict_mode_as_pandas(spark):
    inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "x", "y"],
                          "timestamp": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02"]})
    with pytest.warns(DuplicateRowWarning) as want:
        Dataset.from_frames(inter)
    with pytest.warns(DuplicateRowWarning) as got:
        ev = SparkEvents.from_frames(spark.createDataFrame(inter))
    got = [w for w in got if w.category is DuplicateRowWarning]
    assert [str(w.message) for w in got] == [str(w.message) for w in want
                                             if w.category is DuplicateRowWarning]
    assert ev.count_interactions() == 3


def test_time_strings_with_offsets_as_pandas(spark):
    inter = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["x", "y", "y"],
                          "timestamp": ["2024-03-30T10:00+01:00", "2024-04-02T10:00+02:00",
                                        "2024-04-02T23:30Z"]})
    pd_ds = Dataset.from_frames(inter)
    kept = SparkEvents.from_frames(spark.createDataFrame(inter)).interactions.toPandas()
    kept = kept.sort_values("_row")
    assert kept["timestamp"].astype("datetime64[ns]").tolist() == \
        pd_ds.interactions["timestamp"].tolist()
    assert kept["utc_offset_min"].tolist() == [60, 120, 0]
    mixed = inter.assign(timestamp=["2024-03-30T10:00+01:00", "2024-04-02 10:00", "2024-04-03"])
    match = r"mixes times with a UTC offset \(e.g. \['2024-03-30T10:00\+01:00'\]\) and without"
    with pytest.raises(InvalidValueError, match=match):
        Dataset.from_frames(mixed)
    with pytest.raises(InvalidValueError, match=match):
        SparkEvents.from_frames(spark.createDataFrame(mixed))
    epochs = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "timestamp": [1.7e9, 1.7e12]})
    with pytest.raises(InvalidValueError, match="mixes epoch magnitudes"):
        Dataset.from_frames(epochs)
    with pytest.raises(InvalidValueError, match="mixes epoch magnitudes"):
        SparkEvents.from_frames(spark.createDataFrame(epochs))

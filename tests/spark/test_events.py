"""SparkEvents: the rules and typed errors of Dataset.from_frames, evaluated by Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.exceptions import (
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
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
         r"1 row\(s\) break the rule 'price must be a finite number >= 0'"),
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

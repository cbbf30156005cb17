"""SparkALS: top-k frames with the library's columns, export to ALSRecommender, NDCG parity."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.columns import Columns
from persona_rec.sample_data import load_movielens_100k
from persona_rec.evaluation import NDCG, evaluate, random_split
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError, NotFittedError
from persona_rec.models import ALSRecommender
from persona_rec.spark import SparkALS, SparkEvents

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")


def _ndcg(result: pd.DataFrame) -> float:
    row = result[(result["group"] == "all") & (result["metric"] == "NDCG@10")]
    return float(row["value"].iloc[0])


def test_parameters_and_not_fitted():
    with pytest.raises(InvalidParameterError, match="'factors' parameter of SparkALS"):
        SparkALS(factors=0)
    with pytest.raises(NotFittedError, match="SparkALS is not fitted"):
        SparkALS().recommend(5)
    with pytest.raises(InvalidDtypeError, match="events must be a persona_rec.spark.SparkEvents"):
        SparkALS().fit(pd.DataFrame({"user_id": [1], "item_id": [2]}))


def test_ml100k_warm_ndcg_parity_and_export(spark, ml100k_dir):
    """Protocol of benchmarks/bench_ml100k_warm.py; NDCG@10 within 0.01 of ALSRecommender."""
    ds = load_movielens_100k(ml100k_dir)
    pos = ds.filter_interactions(ds.internal_interactions["weight"].to_numpy() >= 4)
    split = random_split(pos, 0.2, min_interactions=5, random_state=0)
    train = split.train
    ndcg = NDCG(k=10)
    local = _ndcg(evaluate(ALSRecommender(), split, [ndcg]))
    ev = SparkEvents.from_frames(spark.createDataFrame(train.interactions))
    model = SparkALS().fit(ev)
    reco = model.recommend(10)
    assert reco.columns == list(Columns.RECO)
    frame = reco.toPandas()
    assert frame.groupby("user_id")["rank"].apply(lambda r: r.tolist() == list(
        range(1, len(r) + 1))).all()
    test_users = set(split.test["user_id"])
    remote = _ndcg(evaluate(frame[frame["user_id"].isin(test_users)], split, [ndcg]))
    assert abs(remote - local) <= 0.01, (remote, local)
    # the export serves the same lists on one machine
    served = model.to_als_recommender(train)
    some = frame["user_id"].drop_duplicates().head(20).to_numpy()
    mine = served.recommend(some, k=10).sort_values(["user_id", "rank"])
    theirs = frame[frame["user_id"].isin(some)].sort_values(["user_id", "rank"])
    agree = (mine["item_id"].to_numpy() == theirs["item_id"].to_numpy()).mean()
    assert agree >= 0.95, agree

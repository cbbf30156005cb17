"""Benchmark the hybrid persona_rec recommenders on real data (not part of the test run).

Usage::

    PERSONA_REC_DATA=/work/shared/datasets python benchmarks/hybrid_models.py [retail] [cold]

Scenarios (protocols of issue #5):

* ``retail``: Online Retail (``load_online_retail``), train before 2011-11-09,
  test the next 30 days, customers active in both periods, relevant =
  distinct items bought in the window. ``repeat``: repeats allowed
  (``filter_seen=False``), where RepurchaseRecommender is compared with a
  plain buy-again baseline (a customer's past items ranked by number of
  orders, ties by most recent); ``new``: only items the customer never bought.
* ``cold``: MovieLens 100K positives (rating >= 4), 20% of users held out
  entirely, only their demographics known; LightFM / ALS-with-features /
  content serve them as attribute-only users (sensitive demographics allowed
  explicitly, as the protocol is about demographics).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from persona_rec import Columns, Dataset
from persona_rec.evaluation import NDCG, Recall, cold_user_split, evaluate, next_period_split
from persona_rec.models import PopularRecommender
from persona_rec.models.als_features import ALSFeaturesRecommender
from persona_rec.models.association import CoPurchaseRecommender
from persona_rec.models.content import ContentRecommender
from persona_rec.models.lightfm import LightFMRecommender
from persona_rec.models.repurchase import RepurchaseRecommender

DATA = Path(os.environ.get("PERSONA_REC_DATA", "/work/shared/datasets"))
METRICS = [NDCG(k=10), Recall(k=10)]


def buy_again(train: Dataset, users: np.ndarray, k: int = 10) -> pd.DataFrame:
    """Plain buy-again baseline: past items by number of orders, ties by most recent."""
    it = train.interactions
    key = "order_id" if "order_id" in it.columns else Columns.TIMESTAMP
    c = it.groupby([Columns.USER, Columns.ITEM]).agg(
        n=(key, "nunique"), last=(Columns.TIMESTAMP, "max")).reset_index()
    c = c[c[Columns.USER].isin(users)].sort_values(
        [Columns.USER, "n", "last"], ascending=[True, False, False])
    c = c.groupby(Columns.USER).head(k).copy()
    c[Columns.RANK] = c.groupby(Columns.USER).cumcount() + 1
    c[Columns.SCORE] = c["n"].astype(np.float32)
    return c[[Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK]].reset_index(drop=True)


def _run(title: str, models: dict, split, filter_seen: bool | None = None) -> pd.DataFrame:
    print(f"\n## {title}")
    print(f"test users: {split.info.get('n_test_users')}, test rows: {len(split.test)}")
    rows = []
    for name, model in models.items():
        res = evaluate(model, split, METRICS, filter_seen=filter_seen,
                       recommend_kwargs=None if isinstance(model, pd.DataFrame)
                       else {"on_unknown": "fallback"})
        val = res[res["group"] == "all"].set_index("metric")["value"]
        rows.append({"model": name, "NDCG@10": val["NDCG@10"], "Recall@10": val["Recall@10"],
                     "fit_s": res.attrs.get("fit_time_s", 0.0),
                     "recommend_s": res.attrs.get("recommend_time_s", 0.0)})
    table = pd.DataFrame(rows).set_index("model")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    return table


def retail() -> None:
    from persona_rec.sample_data.online_retail import load_online_retail

    ds = load_online_retail(DATA / "online-retail" / "online_retail.csv.gz")
    rep = next_period_split(ds, "2011-11-09", "30D", filter_already_seen=False)
    users = rep.test[Columns.USER].unique()
    models = {
        "buy_again_count (baseline)": buy_again(rep.train, users),
        "repurchase (learned)": RepurchaseRecommender(),
        "repurchase (default weights)": RepurchaseRecommender(learn=False),
        "repurchase fill=none": RepurchaseRecommender(fill="none"),
        "copurchase": CoPurchaseRecommender(),
        "content_tfidf": ContentRecommender(),
        "lightfm": LightFMRecommender(epochs=20),
        "als_features": ALSFeaturesRecommender(),
    }
    _run("Online Retail next 30 days, repeats allowed (filter_seen=False)", models, rep,
         filter_seen=False)
    new = next_period_split(ds, "2011-11-09", "30D", filter_already_seen=True)
    models = {
        "popular_recent_30d": PopularRecommender(window_days=30),
        "copurchase": CoPurchaseRecommender(),
        "content_tfidf": ContentRecommender(),
        "lightfm": LightFMRecommender(epochs=20),
        "lightfm_no_features": LightFMRecommender(epochs=20, user_features="none",
                                                  item_features=False),
        "als_features": ALSFeaturesRecommender(),
    }
    _run("Online Retail next 30 days, new items only", models, new, filter_seen=True)


def cold() -> None:
    from persona_rec.sample_data.movielens import load_movielens_100k

    ds = load_movielens_100k(DATA / "ml-100k")
    pos = ds.filter_interactions((ds.interactions[Columns.WEIGHT] >= 4).to_numpy())
    split = cold_user_split(pos, 0.2, random_state=0)
    models = {
        "popular": PopularRecommender(),
        "lightfm_demographics": LightFMRecommender(epochs=20, include_sensitive=True),
        "als_features_demographics": ALSFeaturesRecommender(include_sensitive=True),
        "content_attr_centroids": ContentRecommender(include_sensitive=True),
    }
    _run("ML-100K cold users (20% held out, demographics only)", models, split)


if __name__ == "__main__":
    todo = sys.argv[1:] or ["retail", "cold"]
    print(f"persona_rec hybrid models benchmark ({time.strftime('%Y-%m-%d')}, "
          f"numpy {np.__version__})")
    for name in todo:
        globals()[name]()

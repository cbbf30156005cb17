"""Benchmark the core persona_rec recommenders on real data (not part of the test run).

Usage::

    PERSONA_REC_DATA=/work/shared/datasets python benchmarks/models_core.py [ml100k] [cold] [retail] [scale]

Scenarios (protocols of issue #5):

* ``ml100k``: MovieLens 100K, ratings >= 4 are positives; per-user random 80/20
  split of positives (users with >= 5 positives); test items unseen in train
  dropped; ranked over all items; NDCG@10.
* ``cold``: MovieLens 100K positives, 20% of users held out entirely; only
  their demographics are known (they are attribute-only users in train).
* ``retail``: Online Retail, train before 2011-11-09, test the next 30 days,
  customers active in both periods; relevant = distinct items bought in the
  window. ``repeat``: repeats allowed (``filter_seen=False``); ``new``: only
  items the customer never bought before.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from persona_rec import Columns
from persona_rec.sample_data.movielens import load_movielens_100k
from persona_rec.evaluation import NDCG, Recall, cold_user_split, evaluate, next_period_split, random_split
from persona_rec.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    SegmentPopularRecommender,
)

DATA = Path(os.environ.get("PERSONA_REC_DATA", "/work/shared/datasets"))
METRICS = [NDCG(k=10), Recall(k=10)]


def _age_band(age: pd.Series) -> pd.Series:
    bins = [0, 18, 25, 35, 45, 55, 65, 200]
    labels = ["<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    return pd.cut(age, bins=bins, labels=labels, right=False).astype(str)


def _run(title: str, models: dict, split, filter_seen: bool | None = None) -> None:
    print(f"\n## {title}")
    print(f"test users: {split.info.get('n_test_users')}, test rows: {len(split.test)}")
    rows = []
    for name, model in models.items():
        res = evaluate(model, split, METRICS, filter_seen=filter_seen,
                       recommend_kwargs={"on_unknown": "fallback"})
        val = res[res["group"] == "all"].set_index("metric")["value"]
        rows.append({"model": name, "NDCG@10": val["NDCG@10"], "Recall@10": val["Recall@10"],
                     "fit_s": res.attrs["fit_time_s"], "recommend_s": res.attrs["recommend_time_s"]})
    table = pd.DataFrame(rows).set_index("model")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))


def ml100k() -> None:
    ds = load_movielens_100k(DATA / "ml-100k")
    pos = ds.filter_interactions((ds.interactions[Columns.WEIGHT] >= 4).to_numpy())
    split = random_split(pos, 0.2, min_interactions=5, random_state=0)
    models = {
        "popular": PopularRecommender(),
        "item_knn_cosine": ItemKNNRecommender("cosine", k_neighbours=100),
        "item_knn_bm25": ItemKNNRecommender("bm25", k_neighbours=100),
        "ease_200": EASERecommender(regularization=200.0),
        "ease_500": EASERecommender(regularization=500.0),
        "als_default": ALSRecommender(),
        "als_16f": ALSRecommender(factors=16),
        "bpr_default": BPRRecommender(),
    }
    _run("ML-100K warm (ratings >= 4, random 80/20 per user)", models, split)


def cold() -> None:
    ds = load_movielens_100k(DATA / "ml-100k")
    pos = ds.filter_interactions((ds.interactions[Columns.WEIGHT] >= 4).to_numpy())
    split = cold_user_split(pos, 0.2, random_state=0)
    users = ds.users.set_index(Columns.USER)
    seg = users["gender"].astype(str) + " | " + _age_band(users["age"])
    models = {
        "popular": PopularRecommender(),
        "segment_gender": SegmentPopularRecommender(["gender"], shrinkage=10.0),
        "segment_gender_ageband": SegmentPopularRecommender(seg, shrinkage=10.0),
        "segment_gender_ageband_s50": SegmentPopularRecommender(seg, shrinkage=50.0),
        "segment_occupation": SegmentPopularRecommender("occupation", shrinkage=10.0),
        "chain_ease_segment_popular": FallbackChain(
            [EASERecommender(200.0), SegmentPopularRecommender(seg, shrinkage=10.0),
             PopularRecommender()]
        ),
    }
    _run("ML-100K cold users (20% held out, demographics only)", models, split)


def retail() -> None:
    from persona_rec.sample_data.online_retail import load_online_retail

    ds = load_online_retail(DATA / "online-retail" / "online_retail.csv.gz")
    rep = next_period_split(ds, "2011-11-09", "30D", filter_already_seen=False)
    models = {
        "popular": PopularRecommender(),
        "popular_recent_30d": PopularRecommender(window_days=30),
        "item_knn_bm25": ItemKNNRecommender("bm25", k_neighbours=100),
        "ease_200": EASERecommender(regularization=200.0, max_memory_gb=6.0),
        "als_default": ALSRecommender(),
    }
    _run("Online Retail next 30 days, repeats allowed (filter_seen=False)", models, rep,
         filter_seen=False)
    new = next_period_split(ds, "2011-11-09", "30D", filter_already_seen=True)
    _run("Online Retail next 30 days, new items only", models, new, filter_seen=True)


def scale(n_users: int = 200_000, n_items: int = 20_000, n_events: int = 3_000_000) -> None:
    """Fit / recommend timings on a large synthetic shop (10,000 users recommended, k=10)."""
    from persona_rec import Dataset
    from persona_rec.sample_data.synthetic import synthetic_frames

    t0 = time.perf_counter()
    inter, users, items, _ = synthetic_frames(n_users=n_users, n_items=n_items,
                                              n_events=n_events, random_state=0)
    ds = Dataset.from_frames(inter, users=users, items=items)
    print(f"\n## scale: {ds} built in {time.perf_counter() - t0:.1f}s; "
          f"active items {int(ds.hot_item_mask().sum())}")
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:10_000]
    models = {
        "popular": PopularRecommender(),
        "segment_popular(city)": SegmentPopularRecommender("city"),
        "item_knn_bm25": ItemKNNRecommender("bm25", k_neighbours=50),
        "als_default": ALSRecommender(),
        "bpr_default": BPRRecommender(),
        "ease_200": EASERecommender(200.0),
    }
    rows = []
    for name, model in models.items():
        t0 = time.perf_counter()
        try:
            model.fit(ds)
        except Exception as exc:  # the EASE memory guard
            rows.append({"model": name, "fit_s": float("nan"), "recommend_10k_s": float("nan"),
                         "note": f"{type(exc).__name__}: {str(exc)[:70]}"})
            continue
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rec = model.recommend(hot, k=10)
        rec_s = time.perf_counter() - t0
        rows.append({"model": name, "fit_s": fit_s, "recommend_10k_s": rec_s,
                     "note": f"{len(rec)} rows"})
    print(pd.DataFrame(rows).set_index("model").to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    todo = sys.argv[1:] or ["ml100k", "cold", "retail", "scale"]
    print(f"persona_rec core models benchmark ({time.strftime('%Y-%m-%d')}, numpy {np.__version__})")
    for name in todo:
        globals()[name]()

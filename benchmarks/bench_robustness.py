"""Robustness suite: PersonaRecommender defaults against plain baselines on varied data shapes.

Generalisation is the bar: on every shape, the defaults must reach at least the
best of ALS / item-kNN / EASE (where it fits) / buy-again / popularity on the
same split, minus 0.002 NDCG@10. Shapes:

* ``ml100k_warm`` -- MovieLens 100K ratings >= 4, per-user random 80/20.
* ``ml100k_ties`` -- the same with every timestamp equal (an export with one date).
* ``retail_counts`` -- Online Retail aggregated to (customer, product, quantity)
  with one timestamp: implicit counts as ``weight``, no time; per-user random 80/20.
* ``retail_repeats`` / ``retail_new`` -- Online Retail, next 30 days after
  2011-11-09, repeats allowed / new items only.
* ``synthetic_50k_items`` -- ``synthetic(20_000 users, 50_000 items, 400_000 events)``,
  next 30 days (a long-tail catalogue; EASE does not fit the bound).
* ``shop_200_users`` -- 200 random Online Retail customers, next 90 days after 2011-09-01,
  repeats allowed.

Usage::

    python benchmarks/bench_robustness.py [--out FILE] [--only NAME[,NAME]]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _peers import DATA, BuyAgainPeer, markdown
from persona_rec import Dataset
from persona_rec.sample_data import load_movielens_100k, load_online_retail, synthetic
from persona_rec.evaluation import NDCG, evaluate, next_period_split, random_split
from persona_rec.models import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularRecommender,
)
from persona_rec.models.persona import PersonaRecommender

TOL = 0.002


def _ml100k() -> Dataset:
    ds = load_movielens_100k(DATA / "ml-100k")
    return ds.filter_interactions(ds.internal_interactions["weight"].to_numpy() >= 4)


def _retail() -> Dataset:
    return load_online_retail(DATA / "online-retail" / "online_retail.csv.gz")


def _same_time(ds: Dataset) -> Dataset:
    inter = ds.interactions
    inter["timestamp"] = pd.Timestamp("2024-01-01")
    return Dataset.from_frames(inter[["user_id", "item_id", "timestamp", "weight"]],
                               items=ds.items)


def shapes() -> dict[str, tuple]:
    """name -> (split factory, filter_seen, repeats-capable)."""
    def ml_warm():
        return random_split(_ml100k(), 0.2, min_interactions=5, random_state=0), True

    def ml_ties():
        return random_split(_same_time(_ml100k()), 0.2, min_interactions=5,
                            random_state=0), True

    def retail_counts():
        inter = _retail().interactions
        agg = inter.groupby(["user_id", "item_id"], as_index=False)["quantity"].sum()
        agg = agg[agg["quantity"] > 0]
        ds = Dataset.from_frames(agg.assign(timestamp=pd.Timestamp("2011-12-01"),
                                            weight=agg["quantity"].astype(float))
                                 [["user_id", "item_id", "timestamp", "weight"]])
        return random_split(ds, 0.2, min_interactions=5, random_state=0), True

    def retail_repeats():
        return next_period_split(_retail(), "2011-11-09", "30D",
                                 filter_already_seen=False), False

    def retail_new():
        return next_period_split(_retail(), "2011-11-09", "30D",
                                 filter_already_seen=True), True

    def syn_50k():
        data = synthetic(n_users=20_000, n_items=50_000, n_events=400_000, random_state=0)
        ds = data.dataset
        end = ds.time_range[1]
        return next_period_split(ds, end - pd.Timedelta(days=30), "30D",
                                 filter_already_seen=True), True

    def shop_200():
        ds = _retail()
        rng = np.random.default_rng(0)
        users = rng.choice(ds.user_map.external_ids, size=200, replace=False)
        small = ds.filter_users(users)
        return next_period_split(small, "2011-09-01", "90D", filter_already_seen=False), False

    return {"ml100k_warm": ml_warm, "ml100k_ties": ml_ties, "retail_counts": retail_counts,
            "retail_repeats": retail_repeats, "retail_new": retail_new,
            "synthetic_50k_items": syn_50k, "shop_200_users": shop_200}


def baselines(split) -> dict:
    n_items = int(split.train.hot_item_mask().sum())
    out = {"ALS (defaults)": ALSRecommender(), "item-kNN (defaults)": ItemKNNRecommender(),
           "popularity": PopularRecommender(), "buy-again": BuyAgainPeer(fill=True)}
    if n_items <= 8000:
        out["EASE (defaults)"] = EASERecommender()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    rows = []
    for name, factory in shapes().items():
        if only and name not in only:
            continue
        split, filter_seen = factory()
        print(f"{name}: {split.info.get('n_test_users', '?')} test users", flush=True)
        scores = {}
        for label, model in {"PersonaRecommender": PersonaRecommender(random_state=0),
                             **baselines(split)}.items():
            t0 = time.perf_counter()
            res = evaluate(model, split, [NDCG(10)], filter_seen=filter_seen)
            scores[label] = float(res.loc[res["group"] == "all", "value"].iloc[0])
            print(f"  {label:<22s} NDCG@10={scores[label]:.4f} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)
            if label == "PersonaRecommender":
                served = model.ranker_.choice_
        best = max((v, k) for k, v in scores.items() if k != "PersonaRecommender")
        rows.append({"shape": name, "PersonaRecommender": scores["PersonaRecommender"],
                     "best baseline": f"{best[1]} {best[0]:.4f}",
                     "margin": scores["PersonaRecommender"] - best[0],
                     "pass (>= best - 0.002)": scores["PersonaRecommender"] >= best[0] - TOL,
                     "served": ", ".join(f"{k}: {v}" for k, v in served.items()),
                     **{k: v for k, v in scores.items() if k != "PersonaRecommender"}})
    table = pd.DataFrame(rows)
    text = markdown(table)
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Ablation: does a social graph lift PersonaRecommender? ("bought by people you follow").

Data: ``synthetic_social(n_users, 300 items, 15 * n_users events, adoption_rate=0.3)``
(planted influencers whose promoted items their followers adopt, plus the
shop's own behaviour). Split: the last 60 days are the test period, new items
only (``filter_seen=True``: adoptions are items new to the follower). Rows:
popularity, ``SocialRecommender`` alone (with popularity after it), the
flagship without the graph, and the flagship with ``fit(..., social_graph=)``.
Columns: NDCG@10 and Recall@10 over every test purchase, and the recall@10 of
the planted adoptions of influencers' promoted items (what the social signal
should find; as in docs/social.md).

Usage::

    python benchmarks/bench_persona_social.py [--seeds 4,5,6] [--users 2000] [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _peers import markdown
from persona_rec import Columns
from persona_rec.sample_data.social import synthetic_social
from persona_rec.evaluation import NDCG, Recall, evaluate, next_period_split
from persona_rec.models import FallbackChain, PopularRecommender, SocialRecommender
from persona_rec.models.persona import PersonaRecommender
from persona_rec.social import SocialGraph


def adoption_recall(reco: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Share of planted (user, item) adoptions in the test window found in the top 10."""
    if not len(truth):
        return float("nan")
    keys = set(zip(reco[Columns.USER], reco[Columns.ITEM]))
    return float(np.mean([(u, i) in keys for u, i in zip(truth["user_id"], truth["item_id"])]))


def run(seed: int, n_users: int) -> list[dict]:
    data = synthetic_social(n_users, 300, 15 * n_users, adoption_rate=0.3, random_state=seed)
    ds = data.dataset
    graph = SocialGraph.from_edges(data.edges)
    cut = ds.time_range[1] - pd.Timedelta(days=60)
    split = next_period_split(ds, cut, "60D", filter_already_seen=True)
    truth = data.social_truth[data.social_truth["timestamp"] >= cut]
    truth = truth[truth["user_id"].isin(split.test_users)]
    influencers = set(data.user_truth.index[data.user_truth["is_influencer"].to_numpy()])
    truth = truth[truth["from_user"].isin(influencers)]  # adoptions of influencers' items
    social = SocialRecommender(half_life_days=30.0)
    models = {
        "popularity (30 days)": (lambda: PopularRecommender(window_days=30).fit(split.train)),
        "SocialRecommender -> popularity": (lambda: FallbackChain(
            [social.fit(split.train, graph=graph),
             PopularRecommender(window_days=30).fit(split.train)], fit_links=False
        ).fit(split.train)),
        "PersonaRecommender": (lambda: PersonaRecommender(random_state=0).fit(split.train)),
        "PersonaRecommender + social_graph": (lambda: PersonaRecommender(random_state=0).fit(
            split.train, social_graph=graph)),
    }
    rows = []
    for name, make in models.items():
        t0 = time.perf_counter()
        model = make()
        fit_s = time.perf_counter() - t0
        reco = model.recommend(split.test_users, k=10, filter_seen=True, on_unknown="skip")
        res = evaluate(reco, split, [NDCG(10), Recall(10)])
        val = res[res["group"] == "all"].set_index("metric")["value"]
        row = {"seed": seed, "model": name, "NDCG@10": float(val["NDCG@10"]),
               "Recall@10": float(val["Recall@10"]),
               "adoptions recall@10": adoption_recall(reco, truth), "fit_s": fit_s}
        if isinstance(model, PersonaRecommender):
            row["served"] = model.ranker_.choice_["new"]
            row["guard (internal)"] = ", ".join(
                f"{k} {v:.3f}" for k, v in model.ranker_.guard_["new"].items())
        rows.append(row)
        print(row, flush=True)
    print(f"seed {seed}: {len(split.test_users)} test users, {len(truth)} planted influencer "
          f"adoptions in the window", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="4,5,6")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows += run(seed, args.users)
    table = pd.DataFrame(rows)
    metrics = ["NDCG@10", "Recall@10", "adoptions recall@10", "fit_s"]
    mean = table.groupby("model", sort=False)[metrics].mean().reset_index()
    for r in rows:
        if "guard (internal)" in r:
            print(f"seed {r['seed']} {r['model']}: internal guard (new items): "
                  f"{r['guard (internal)']}")
    text = markdown(table.drop(columns=["guard (internal)"], errors="ignore")) + \
        "\n\nMean over seeds:\n\n" + markdown(mean)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

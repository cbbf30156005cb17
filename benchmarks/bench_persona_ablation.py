"""Profile ablation of PersonaRecommender: what do profile and tag features add?

Same splits as ``bench_ml100k_warm.py`` (table 1) and ``bench_online_retail.py``
(repeats / new items). Three feature configurations of the reranker:

* ``no profile`` -- history, user and item statistics only;
* ``default`` -- plus ``profile_fit`` (user x item fit from the profiles:
  category-path, brand and price-band affinity, price ratio, novelty x newness);
* ``+ profile + tags`` -- plus the user's full profile block and tag features.

The guard stays on, so a configuration whose reranker does not beat the best
generator serves that generator (``served`` column): the "lift" is then zero by
construction, and the internal guard score (``internal rerank``) shows what the
reranker itself reached.

Usage::

    python benchmarks/bench_persona_ablation.py [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import argparse
import time
from pathlib import Path

import pandas as pd

from _peers import DATA, markdown
from persona_rec.sample_data import load_movielens_100k, load_online_retail
from persona_rec.evaluation import NDCG, evaluate, next_period_split, random_split
from persona_rec.models.persona import PersonaRecommender

CONFIGS = {
    "no profile": ("history", "user", "item"),
    "default": ("history", "user", "item", "profile_fit"),
    "+ profile + tags": ("history", "user", "item", "profile_fit", "profile", "tags"),
}


def protocols() -> dict:
    ml = load_movielens_100k(DATA / "ml-100k")
    pos = ml.filter_interactions(ml.internal_interactions["weight"].to_numpy() >= 4)
    retail = load_online_retail(DATA / "online-retail" / "online_retail.csv.gz")
    return {
        "ML-100K warm": (random_split(pos, 0.2, min_interactions=5, random_state=0), True),
        "Online Retail repeats": (next_period_split(retail, "2011-11-09", "30D",
                                                    filter_already_seen=False), False),
        "Online Retail new items": (next_period_split(retail, "2011-11-09", "30D",
                                                      filter_already_seen=True), True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for proto, (split, filter_seen) in protocols().items():
        for name, sets in CONFIGS.items():
            model = PersonaRecommender(random_state=0, feature_sets=sets)
            t0 = time.perf_counter()
            res = evaluate(model, split, [NDCG(10)], filter_seen=filter_seen)
            task = "new" if filter_seen else "all"
            guard = model.ranker_.guard_[task]
            rows.append({"protocol": proto, "features": name,
                         "NDCG@10": float(res.loc[res["group"] == "all", "value"].iloc[0]),
                         "served": model.ranker_.choice_[task],
                         "internal rerank": guard["rerank"],
                         "internal best generator": max(v for k, v in guard.items()
                                                        if k != "rerank"),
                         "seconds": time.perf_counter() - t0})
            print(rows[-1], flush=True)
    text = markdown(pd.DataFrame(rows))
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

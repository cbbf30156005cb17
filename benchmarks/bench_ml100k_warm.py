"""ML-100K warm-user benchmark: persona_rec models next to raw peers (issue #5, item 6).

Protocol: ratings >= 4 are positives; ``random_split(positives, 0.2,
min_interactions=5, random_state=0)`` (per-user random 80/20 of positives,
users with >= 5 positives; test items without train interactions dropped);
every item ranked, train items filtered (``filter_seen=True``); metrics @10.

Table 2 ("with lower ratings as history") uses the same test rows, but the
train Dataset also holds every rating < 4 (and every other non-test rating):
a watched-but-not-liked movie is known history. Every model gets this same
train set, so the comparison stays fair; it is a different task from table 1.

Usage::

    python benchmarks/bench_ml100k_warm.py [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import time

import numpy as np

from _peers import (
    DATA,
    EASEPeer,
    ImplicitPeer,
    LightFMPeer,
    PopularityPeer,
    emit,
    markdown,
    parse_args,
    run_table,
    split_info_text,
)
from persona_rec.sample_data import load_movielens_100k
from persona_rec.evaluation import Split, random_split
from persona_rec.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    ItemKNNRecommender,
    LightFMRecommender,
    PopularRecommender,
)
from persona_rec.models.persona import PersonaRecommender


def models() -> dict:
    pr = "persona_rec"
    peer = "raw peer"
    return {
        "PersonaRecommender": (pr, "defaults (random_state=0)", PersonaRecommender(random_state=0)),
        "EASERecommender": (pr, "regularization=200", EASERecommender(200.0)),
        "ALSRecommender": (pr, "defaults", ALSRecommender()),
        "BPRRecommender": (pr, "defaults", BPRRecommender()),
        "ItemKNNRecommender": (pr, "bm25, 100 neighbours", ItemKNNRecommender("bm25", 100)),
        "LightFMRecommender": (pr, "defaults", LightFMRecommender()),
        "PopularRecommender": (pr, "defaults", PopularRecommender()),
        "EASE (numpy)": (peer, "", EASEPeer(200.0)),
        "implicit ALS (defaults)": (peer, "", ImplicitPeer(
            "als", factors=100, regularization=0.01, alpha=1.0, iterations=15)),
        "implicit ALS (64f, alpha 10)": (peer, "", ImplicitPeer(
            "als", factors=64, regularization=0.05, alpha=10.0, iterations=15)),
        "implicit BPR": (peer, "", ImplicitPeer(
            "bpr", factors=100, learning_rate=0.01, regularization=0.01, iterations=100)),
        "implicit BM25 item-kNN": (peer, "", ImplicitPeer("bm25", K=100, K1=1.2, B=0.75)),
        "lightfm WARP": (peer, "", LightFMPeer(no_components=64, epochs=30)),
        "popularity": (peer, "", PopularityPeer()),
    }


def with_lower_ratings(ds, split: Split) -> Split:
    """Same test rows; train = every rating of ``ds`` whose (user, item) is not in test."""
    inter = ds.internal_interactions
    test_u = ds.user_map.to_internal(split.test["user_id"].to_numpy())
    test_i = ds.item_map.to_internal(split.test["item_id"].to_numpy())
    test_keys = np.unique(test_u.astype(np.int64) * ds.n_items + test_i)
    keys = inter["user_idx"].to_numpy(np.int64) * ds.n_items + inter["item_idx"].to_numpy()
    train = ds.filter_interactions(~np.isin(keys, test_keys))
    info = dict(split.info)
    info["variant"] = "train also holds every non-test rating (< 4 included)"
    info["n_train_interactions"] = train.n_interactions
    info["n_train_users"] = int(train.hot_user_mask().sum())
    info["n_train_items"] = int(train.hot_item_mask().sum())
    return Split(train=train, test=split.test, info=info, filter_seen=True)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    t0 = time.perf_counter()
    ds = load_movielens_100k(DATA / "ml-100k")
    pos = ds.filter_interactions(ds.internal_interactions["weight"].to_numpy() >= 4)
    split = random_split(pos, 0.2, min_interactions=5, random_state=0)
    print(split)
    print("table 1: positives only")
    t1 = run_table(models(), split)
    split2 = with_lower_ratings(ds, split)
    print("table 2: lower ratings kept as history")
    t2 = run_table(models(), split2)
    emit([
        "### ML-100K warm users: positives only (ratings >= 4)",
        markdown(t1),
        "Split info:\n" + split_info_text(split),
        "### ML-100K warm users: same test, train also holds the ratings < 4 as history",
        "Every model is trained on the same enlarged train set (all non-test ratings, "
        "binary), so the rows are comparable with each other but not with table 1.",
        markdown(t2),
        f"Split info:\n{split_info_text(split2)}",
        f"Total run time {time.perf_counter() - t0:.0f} s.",
    ], args.out)


if __name__ == "__main__":
    main()

"""Online Retail next-30-days benchmark: persona_rec models next to raw peers (issue #5, item 6).

Protocol: ``load_online_retail``; ``next_period_split(ds, "2011-11-09",
"30D")``: train = every purchase before 2011-11-09, test = purchases in
[2011-11-09, 2011-12-09), only customers active in both periods
(``filter_cold_users=True``) and items seen in train; relevant = the distinct
items a customer bought in the window. Two tasks:

* **with repeats** (``filter_already_seen=False``, recommend with
  ``filter_seen=False``): re-buying counts;
* **new items only** (``filter_already_seen=True``, ``filter_seen=True``):
  only items the customer never bought before are relevant and recommended.

Usage::

    python benchmarks/bench_online_retail.py [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import time

from _peers import (
    DATA,
    BuyAgainPeer,
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
from persona_rec.sample_data import load_online_retail
from persona_rec.evaluation import Split, next_period_split
from persona_rec.models import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularRecommender,
    RepurchaseRecommender,
)
from persona_rec.models.persona import PersonaRecommender


def models(repeats: bool) -> dict:
    pr = "persona_rec"
    peer = "raw peer"
    out = {
        "PersonaRecommender": (pr, "defaults (random_state=0)", PersonaRecommender(random_state=0)),
    }
    if repeats:
        out["RepurchaseRecommender"] = (pr, "defaults (random_state=0)",
                                        RepurchaseRecommender(random_state=0))
    out.update({
        "EASERecommender": (pr, "regularization=200", EASERecommender(200.0)),
        "ALSRecommender": (pr, "defaults", ALSRecommender()),
        "ItemKNNRecommender": (pr, "bm25, 100 neighbours", ItemKNNRecommender("bm25", 100)),
        "PopularRecommender": (pr, "defaults", PopularRecommender()),
        "PopularRecommender (30 days)": (pr, "window_days=30", PopularRecommender(window_days=30)),
    })
    if repeats:
        out["buy-again"] = (peer, "", BuyAgainPeer())
        out["buy-again + popular fill"] = (peer, "", BuyAgainPeer(fill=True))
    out.update({
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
        "recent popularity (30 days)": (peer, "", PopularityPeer(window_days=30)),
    })
    return out


def check_active_in_both(split: Split) -> str:
    """Every test customer must have train purchases (active in both periods)."""
    states = split.train.user_state(split.test_users)
    n_hot = int((states == "hot").sum())
    if n_hot != len(split.test_users):
        raise AssertionError(f"{len(split.test_users) - n_hot} test customers have no train "
                             f"purchases")
    return (f"- customers active in both periods: {n_hot} of {len(split.test_users)} test "
            f"customers have train purchases")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    t0 = time.perf_counter()
    ds = load_online_retail(DATA / "online-retail" / "online_retail.csv.gz")
    sections = []
    for repeats in (True, False):
        split = next_period_split(ds, "2011-11-09", "30D", filter_already_seen=not repeats)
        title = ("with repeats (filter_already_seen=False, filter_seen=False)" if repeats
                 else "new items only (filter_already_seen=True, filter_seen=True)")
        print(split, title)
        table = run_table(models(repeats), split, filter_seen=not repeats)
        sections += [f"### Online Retail, next 30 days from 2011-11-09: {title}",
                     markdown(table),
                     "Split info:\n" + split_info_text(split) + "\n" + check_active_in_both(split)]
    sections.append(f"Total run time {time.perf_counter() - t0:.0f} s.")
    emit(sections, args.out)


if __name__ == "__main__":
    main()

"""Offline targeting check on UCI Online Retail.

At the cut-off (default 2011-11-09) choose, for each of a few categories, an
audience of ``--size`` customers, then measure in the following 30 days the
share of the audience that bought in that category. Audiences compared
(same size, same universe = customers with a purchase before the cut-off):

* ``random``            - uniform random sample (seeded);
* ``rfm``               - best RFM score (``rfm_score``, ties by ``monetary``) from
                          ``ProfileBuilder.default().build(dataset, as_of=cutoff)``;
                          category-agnostic;
* ``affinity``          - :func:`persona_rec.marketing.affinity_propensity`
                          (recency-weighted past purchase days in the category, half-life 90 days);
* ``ease``              - :func:`persona_rec.marketing.recommender_propensity` on an
                          ``EASERecommender`` fit on events before the cut-off (sum of the top-20
                          scores inside the category, ``filter_seen=False``);
* ``tags+affinity``     - :func:`persona_rec.marketing.select_audience` with
                          ``"interest/<category> & !churned"`` ranked by the affinity propensity.

Lift = purchase rate / purchase rate of the random audience, with a 95 % Katz
log-ratio interval; "lift vs base rate" divides by the purchase rate of the
whole universe (the expected rate of a random audience, without sampling
noise) (:func:`persona_rec.marketing.proportion_ratio_ci`); the
difference to RFM-only is given with a Newcombe interval. Usage::

    PERSONA_REC_DATA=/work/shared/datasets python benchmarks/bench_targeting.py [--size 400]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from persona_rec.sample_data import load_online_retail
from persona_rec.marketing import (
    AudienceTooSmallError,
    affinity_propensity,
    category_item_mask,
    proportion_diff_ci,
    proportion_ratio_ci,
    recommender_propensity,
    select_audience,
)
from persona_rec.models import EASERecommender
from persona_rec.profiles import ProfileBuilder
from persona_rec.tags import Tagger, Taxonomy

CATEGORIES = ("Kitchen", "Fashion", "Bags", "Toys & Kids", "Garden", "Party")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("PERSONA_REC_DATA", "/work/shared/datasets"))
    ap.add_argument("--cutoff", default="2011-11-09")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--size", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--categories", nargs="*", default=list(CATEGORIES))
    args = ap.parse_args()

    t0 = time.perf_counter()
    ds = load_online_retail(Path(args.data) / "online-retail" / "online_retail.csv.gz")
    cutoff = pd.Timestamp(args.cutoff)
    end = cutoff + pd.Timedelta(days=args.days)
    train = ds.filter_time(end=cutoff)
    universe = np.asarray(ds.user_map.external_ids, dtype=object)[train.hot_user_mask()]
    inter = ds.interactions
    test = inter[(inter["timestamp"] >= cutoff) & (inter["timestamp"] < end)]
    items = ds.item_attributes()
    print(f"loaded {ds} in {time.perf_counter() - t0:.1f}s; universe (buyers before {cutoff.date()}): "
          f"{universe.size}; window {cutoff.date()} .. {end.date()} ({len(test)} purchase lines)")

    t1 = time.perf_counter()
    profiles = ProfileBuilder.default().build(ds, as_of=cutoff)
    user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    frame = profiles.frame.loc[universe]
    rfm_order = frame.sort_values(["rfm_score", "monetary"], ascending=False).index.to_numpy()
    print(f"profiles + tags at cut-off: {time.perf_counter() - t1:.1f}s")
    t2 = time.perf_counter()
    ease = EASERecommender().fit(train)
    print(f"EASE fit on {train.n_interactions} events: {time.perf_counter() - t2:.1f}s")

    rng = np.random.default_rng(args.seed)
    n = args.size
    random_aud = rng.choice(universe, n, replace=False)
    rows = []
    for cat in args.categories:
        in_cat = category_item_mask(items["category"], cat)
        cat_items = items.index[in_cat]
        buyers_cat = set(test.loc[test["item_id"].isin(cat_items), "user_id"])
        base = np.mean([u in buyers_cat for u in universe])
        aff = affinity_propensity(ds, cat, as_of=cutoff).reindex(universe)
        auds = {
            "random": random_aud,
            "rfm": rfm_order[:n],
            "affinity": aff.sort_values(ascending=False, kind="mergesort").index[:n].to_numpy(),
        }
        t3 = time.perf_counter()
        ep = recommender_propensity(ease, universe, category=cat, k=20, filter_seen=False)
        auds["ease"] = ep.sort_values(ascending=False, kind="mergesort").index[:n].to_numpy()
        t_ease = time.perf_counter() - t3
        try:
            tag_aud = select_audience(user_tags, expression=f"interest/{_slug(cat)} & !churned",
                                      propensity=aff, budget=n, candidates=universe, as_of=cutoff)
            auds["tags+affinity"] = tag_aud["user_id"].to_numpy()
        except AudienceTooSmallError as err:
            print(f"  {cat}: tags+affinity skipped: {err}")
        x_r = int(sum(u in buyers_cat for u in random_aud))
        x_rfm = int(sum(u in buyers_cat for u in auds["rfm"]))
        for name, aud in auds.items():
            x = int(sum(u in buyers_cat for u in aud))
            m = len(aud)
            lift, lo, hi = proportion_ratio_ci(x, m, x_r, n)
            d_lo, d_hi = proportion_diff_ci(x, m, x_rfm, n)
            rows.append({
                "category": cat, "audience": name, "n": m, "buyers": x, "rate": x / m,
                "lift_vs_random": lift, "lift_lo": lo, "lift_hi": hi,
                "diff_vs_rfm": x / m - x_rfm / n, "diff_lo": d_lo, "diff_hi": d_hi,
                "base_rate": base,
            })
        print(f"  {cat}: {len(cat_items)} items, universe base rate {base:.3f}, EASE scoring {t_ease:.1f}s")
    res = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print()
    print("| category | audience | n | buyers | rate | lift vs random [95% CI] | lift vs base rate | "
          "vs RFM-only (diff, 95% CI) |")
    print("|---|---|---:|---:|---:|---|---:|---|")
    for r in res.itertuples():
        lift = "-" if r.audience == "random" else f"{r.lift_vs_random:.2f}x [{r.lift_lo:.2f}, {r.lift_hi:.2f}]"
        diff = "-" if r.audience == "rfm" else f"{r.diff_vs_rfm:+.3f} [{r.diff_lo:+.3f}, {r.diff_hi:+.3f}]"
        print(f"| {r.category} | {r.audience} | {r.n} | {r.buyers} | {r.rate:.3f} | {lift} | "
              f"{r.rate / r.base_rate:.2f}x | {diff} |")
    print()
    summary = res.groupby("audience")[["rate", "lift_vs_random"]].mean().sort_values("rate", ascending=False)
    print("mean over categories:")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"total time {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()

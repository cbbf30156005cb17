"""Benchmark: real-time updates on UCI Online Retail.

Usage::

    python benchmarks/bench_realtime.py [path/to/online_retail.csv.gz] [--users 300]

1. Latency of "one new event -> new top-10" for one user:
   ``model.recommend([user], k=10, recent_events=<that event>)`` for ALS,
   item-kNN and the repurchase model fitted on the events before 2011-11-01;
   each of ``--users`` users (hot at fit time) gets their first later event
   on a known item. p50 / p95 / p99 in milliseconds, one call at a time
   (after one warm-up call per model), next to the same call without the
   event.
2. ``Profiles.update`` throughput: profiles (``ProfileBuilder.realtime()``)
   built at the time that leaves the last 100,000 events, then updated with
   them; compared with a full rebuild at the end (best of 3 each) and
   checked equal (max abs difference over numeric columns). Run on Online
   Retail and on a seeded synthetic shop with a longer history
   (``--synthetic-events``, default 2,000,000), where the update's cost,
   which grows with the new events and the number of users but not with the
   history, shows against the rebuild's.

The path defaults to ``$PERSONA_REC_DATA/online-retail/online_retail.csv.gz``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _timing import best, machine
from persona_rec.sample_data import load_online_retail
from persona_rec.models import ALSRecommender, ItemKNNRecommender, RepurchaseRecommender
from persona_rec.profiles import ProfileBuilder

CUT = pd.Timestamp("2011-11-01")
COLS = ["user_id", "item_id", "timestamp", "event", "weight", "quantity", "order_id"]


def latency(ds, n_users: int) -> None:
    train = ds.filter_time(end=CUT)
    full = ds.interactions
    hot = train.user_map.external_ids[train.hot_user_mask()]
    later = full[(full["timestamp"] >= CUT) & full["user_id"].isin(hot)
                 & full["item_id"].isin(train.item_map.external_ids)]
    events = later.drop_duplicates("user_id").head(n_users)[COLS].reset_index(drop=True)
    print(f"fit on {train.n_interactions:,} events before {CUT.date()} "
          f"({train.n_users:,} users, {train.n_items:,} items); {len(events)} users, one new "
          f"event each\n")
    print("| model | fit s | top-10, fitted history: p50 / p95 ms | one new event -> top-10: "
          "p50 / p95 / p99 ms | top-10 changed |")
    print("|---|---|---|---|---|")
    models = [("ALS", ALSRecommender(), True), ("item-kNN", ItemKNNRecommender(), True),
              ("repurchase", RepurchaseRecommender(), False)]
    for name, model, filter_seen in models:
        t0 = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - t0
        model.recommend([events["user_id"][0]], k=10, filter_seen=filter_seen,
                        recent_events=events.iloc[:1])  # warm-up
        plain, fresh, changed = [], [], 0
        for j in range(len(events)):
            ev = events.iloc[j:j + 1]
            user = ev["user_id"].iloc[0]
            t0 = time.perf_counter()
            before = model.recommend([user], k=10, filter_seen=filter_seen)
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            after = model.recommend([user], k=10, filter_seen=filter_seen, recent_events=ev)
            fresh.append(time.perf_counter() - t0)
            changed += before["item_id"].tolist() != after["item_id"].tolist()
        p = np.percentile(np.array(plain) * 1e3, [50, 95])
        q = np.percentile(np.array(fresh) * 1e3, [50, 95, 99])
        print(f"| {name} | {fit_s:.1f} | {p[0]:.1f} / {p[1]:.1f} | {q[0]:.1f} / {q[1]:.1f} / "
              f"{q[2]:.1f} | {changed}/{len(events)} |")


def throughput(ds, n_new: int = 100_000, label: str = "Online Retail") -> None:
    full = ds.interactions
    ts = np.sort(full["timestamp"].to_numpy())
    t0 = pd.Timestamp(ts[-n_new])
    t1 = pd.Timestamp(ts[-1]) + pd.Timedelta(seconds=1)
    new = full[full["timestamp"] >= t0].drop(columns=["raw_row"], errors="ignore")
    builder = ProfileBuilder.realtime()
    base_ds = ds.filter_time(end=t0)
    t_build, prof = best(lambda: builder.build(base_ds, t0, updatable=True), 1)
    t_up, upd = best(lambda: prof.update(new, t1))
    t_full, want = best(lambda: builder.build(ds, t1))
    w = want.frame.reindex(upd.frame.index)
    num = [c for c in w.columns if w[c].dtype.kind in "fiu" and upd.frame[c].dtype.kind in "fiu"]
    diff = np.nanmax(np.abs(upd.frame[num].to_numpy(float) - w[num].to_numpy(float)))
    other = [c for c in w.columns if c not in num]
    same = all(upd.frame[c].astype(object).where(upd.frame[c].notna(), None).tolist()
               == w[c].astype(object).where(w[c].notna(), None).tolist() for c in other)
    print(f"\n{label}: {len(new):,} new events ({t0} .. {t1}) folded into profiles of "
          f"{base_ds.n_interactions:,} events ({prof.n_users:,} -> {upd.n_users:,} users)\n")
    print("| step | seconds (best of 3) | new events / s |")
    print("|---|---|---|")
    print(f"| build(updatable=True) at the cut (once) | {t_build:.2f} | |")
    print(f"| Profiles.update (100k events) | {t_up:.2f} | {len(new) / t_up:,.0f} |")
    print(f"| full rebuild at the end | {t_full:.2f} | |")
    print(f"\nupdate / rebuild time: {t_up / t_full:.2f}; max abs difference over {len(num)} "
          f"numeric columns: {diff:.2e}; other {len(other)} columns identical: {same}")


def main() -> None:
    ap = argparse.ArgumentParser()
    default = Path(os.environ.get("PERSONA_REC_DATA", "data")) / "online-retail" \
        / "online_retail.csv.gz"
    ap.add_argument("path", nargs="?", default=str(default))
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--synthetic-events", type=int, default=2_000_000,
                    help="size of the seeded synthetic shop of the second throughput run "
                         "(0 skips it)")
    args = ap.parse_args()
    print(machine() + "\n")
    ds = load_online_retail(args.path)
    latency(ds, args.users)
    throughput(ds)
    if args.synthetic_events:
        from persona_rec.sample_data import synthetic

        big = synthetic(n_users=100_000, n_items=5000, n_events=args.synthetic_events,
                        random_state=0).dataset
        throughput(big, label=f"synthetic shop ({args.synthetic_events:,} events)")


if __name__ == "__main__":
    main()

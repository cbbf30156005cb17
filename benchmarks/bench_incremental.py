"""Benchmark: IncrementalRFM.update with ~100k new events versus a full RFM + activity rebuild.

Usage::

    python benchmarks/bench_incremental.py [--users 50000 --events 1000000]

A seeded synthetic shop; the state is built at ``end - 30 days`` and the last
30 days of events (about 100k for the defaults) are folded in; the result is
checked against ``ProfileBuilder([RFMBuilder(), ActivityBuilder()]).build`` at
``end`` (max abs difference printed). Best of 3 timings.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from _timing import best
from persona_rec.sample_data import synthetic
from persona_rec.profiles import ActivityBuilder, IncrementalRFM, ProfileBuilder, RFMBuilder
from persona_rec.profiles.incremental import INCREMENTAL_COLUMNS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    data = synthetic(n_users=args.users, n_items=2000, n_events=args.events, random_state=0)
    ds = data.dataset
    t1 = data.end
    t0 = t1 - pd.Timedelta(days=30)
    full = ds.interactions
    new = full[(full["timestamp"] >= t0) & (full["timestamp"] < t1)].reset_index(drop=True)
    state = IncrementalRFM.from_dataset(ds, t0)
    t_up, upd = best(lambda: state.update(new, t1))
    t_frame, got = best(lambda: upd.frame())
    builder = ProfileBuilder([RFMBuilder(), ActivityBuilder()])
    t_full, prof = best(lambda: builder.build(ds, t1))
    want = prof.frame[list(INCREMENTAL_COLUMNS)]
    num = [c for c in INCREMENTAL_COLUMNS if c not in ("first_seen", "last_seen")]
    diff = np.nanmax(np.abs(got[num].to_numpy(float) - want[num].to_numpy(float)))
    same_ts = bool((got[["first_seen", "last_seen"]].fillna(pd.Timestamp(0))
                    == want[["first_seen", "last_seen"]].fillna(pd.Timestamp(0))).all().all())
    print(f"{ds.n_interactions} events, {ds.n_users} users; {len(new)} new events "
          f"({t0.date()} .. {t1.date()})")
    print("| step | seconds (best of 3) | new events / s |")
    print("|---|---|---|")
    print(f"| IncrementalRFM.update | {t_up:.3f} | {len(new) / t_up:,.0f} |")
    print(f"| IncrementalRFM.frame (scores over all users) | {t_frame:.3f} | |")
    print(f"| full rebuild, RFMBuilder + ActivityBuilder | {t_full:.3f} | |")
    print(f"max |difference| of the numeric columns: {diff:.2e}; timestamps equal: {same_ts}")


if __name__ == "__main__":
    main()

"""Benchmark: ProfileBuilder.default().build at scale, and RFM versus lifetimes.

Usage::

    flock /tmp/persona_heavy.lock /tmp/venv/bin/python benchmarks/bench_profiles.py
    /tmp/venv/bin/python benchmarks/bench_profiles.py --users 100000 --events 1000000  # quick

Steps (one process):

1. ``synthetic_frames`` -> ``Dataset.from_frames`` (not timed as profile work);
2. ``ProfileBuilder.default().build(dataset)`` (timed, per builder; the
   resident-set size is sampled every 20 ms while it runs);
3. the RFM part alone (``ProfileBuilder([RFMBuilder()]).build``: order
   codes, R/F/M and scores), (A) on a Dataset of the purchase lines and (B) on
   the full event Dataset (so it also filters the purchases out of all
   events), versus ``lifetimes.utils.summary_data_from_transaction_data`` on
   the purchase lines (a DataFrame prepared beforehand, not timed) (``lifetimes`` is a benchmark-only dependency; if it is missing the
   script compares against an equivalent plain-pandas groupby and says so).

Prints a table; the figures are recorded in ``docs/profiles.md``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import threading
import time

import numpy as np
import pandas as pd

from persona_rec import Dataset
from persona_rec.sample_data import synthetic_frames
from persona_rec.profiles import ProfileBuilder, RFMBuilder


#: Timing repeats of the RFM comparison (the best run counts; the machine is shared).
REPEAT = 3


def rss_gb() -> float:
    """Current resident set size in GB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 1e9


class PeakRSS:
    """Sample the resident set size in a background thread."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.start = rss_gb()
        self.peak = self.start
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_gb())
            time.sleep(self.every)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_gb())


def naive_pandas_rfm(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Plain pandas RFM (the fallback peer when lifetimes is unavailable)."""
    amount = purchases["quantity"] * purchases["price"]
    g = purchases.assign(amount=amount).groupby("user_id")
    return pd.DataFrame({
        "recency_days": (as_of - g["timestamp"].max()) / pd.Timedelta(days=1),
        "frequency": g["order_id"].nunique(),
        "monetary": g["amount"].sum(),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    inter, users, items, _truth = synthetic_frames(
        n_users=args.users, n_items=args.items, n_events=args.events, random_state=args.seed)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = Dataset.from_frames(inter, users=users, items=items)
    t_ds = time.perf_counter() - t0
    del inter, users, items, _truth
    gc.collect()
    print(f"data: {ds} (generate {t_gen:.1f} s, Dataset.from_frames {t_ds:.1f} s, "
          f"RSS {rss_gb():.2f} GB)")

    with PeakRSS() as mem:
        t0 = time.perf_counter()
        prof = ProfileBuilder.default().build(ds)
        t_build = time.perf_counter() - t0
    print(f"\nProfileBuilder.default().build: {t_build:.1f} s; RSS before {mem.start:.2f} GB, "
          f"peak during build {mem.peak:.2f} GB (+{mem.peak - mem.start:.2f} GB); "
          f"process peak so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
    print(f"{'builder':<26}{'seconds':>9}")
    for name, sec in prof.build_info["seconds"].items():
        print(f"{name:<26}{sec:>9.2f}")
    f = prof.frame
    print(f"\nusers {len(f):,}, columns {f.shape[1]}, events used "
          f"{prof.build_info['n_events_used']:,}, category cycles {len(prof.category_cycles):,}")
    print(f["lifecycle_stage"].value_counts().to_string())
    with PeakRSS() as mem_f:
        t0 = time.perf_counter()
        X, names = prof.features()
        t_feat = time.perf_counter() - t0
    print(f"\nProfiles.features(): {X.shape[0]:,} x {X.shape[1]} csr, {X.nnz:,} non-zeros in "
          f"{t_feat:.1f} s (peak RSS {mem_f.peak:.2f} GB)")
    del prof, X
    gc.collect()

    # ---- RFM part versus lifetimes on the same purchases (best of REPEAT runs each)
    t_rfm = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        rfm = ProfileBuilder([RFMBuilder()]).build(ds)
        t_rfm = min(t_rfm, time.perf_counter() - t0)
    as_of = rfm.as_of
    df = ds.interactions
    purchases = df.loc[df["event"] == "purchase",
                       ["user_id", "item_id", "timestamp", "quantity", "price", "order_id"]]
    purchases = purchases.assign(amount=purchases["quantity"] * purchases["price"])
    del df
    gc.collect()
    # the same purchase lines as the peer's input, as a Dataset
    pds = Dataset.from_frames(purchases.drop(columns=["amount"]))
    t_rfm_p = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        rfm_p = ProfileBuilder([RFMBuilder()]).build(pds, as_of=as_of)
        t_rfm_p = min(t_rfm_p, time.perf_counter() - t0)
    assert np.allclose(rfm_p.frame["monetary"].to_numpy(),
                       rfm.frame.loc[rfm_p.frame.index, "monetary"].to_numpy())
    try:
        from lifetimes.utils import summary_data_from_transaction_data

        peer = "lifetimes.utils.summary_data_from_transaction_data (freq='D')"
        t_peer = np.inf
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            summary = summary_data_from_transaction_data(
                purchases, "user_id", "timestamp", monetary_value_col="amount",
                observation_period_end=as_of, freq="D")
            t_peer = min(t_peer, time.perf_counter() - t0)
        n_peer = len(summary)
    except ImportError:
        peer = "naive pandas groupby (lifetimes not installed)"
        t0 = time.perf_counter()
        n_peer = len(naive_pandas_rfm(purchases, as_of))
        t_peer = time.perf_counter() - t0
    t_naive = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        naive = naive_pandas_rfm(purchases, as_of)
        t_naive = min(t_naive, time.perf_counter() - t0)
    buyers = rfm.frame["frequency"].notna()
    assert np.allclose(rfm.frame.loc[naive.index, "monetary"], naive["monetary"])
    print(f"\nRFM on {len(purchases):,} purchase lines, {int(buyers.sum()):,} buyers")
    print(f"speed-up = peer seconds / persona_rec seconds on the same input (best of {REPEAT})")
    print(f"{'implementation':<70}{'seconds':>9}{'speed-up':>10}")
    print(f"{'A. persona_rec RFMBuilder on the purchase lines (orders, R/F/M, scores)':<70}"
          f"{t_rfm_p:>9.2f}{'':>10}")
    print(f"{'B. persona_rec RFMBuilder on all events (+ filtering out non-purchases)':<70}"
          f"{t_rfm:>9.2f}{'':>10}")
    print(f"{peer:<70}{t_peer:>9.2f}{t_peer / t_rfm_p:>9.1f}x (vs A) "
          f"{t_peer / t_rfm:.1f}x (vs B)")
    print(f"{'plain pandas groupby (R, F, M only, no scores)':<70}{t_naive:>9.2f}"
          f"{t_naive / t_rfm_p:>9.1f}x (vs A)")
    print(f"(peer rows: {n_peer:,})")


if __name__ == "__main__":
    main()

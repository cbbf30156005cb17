"""Benchmark: profiles with Spark local[2] versus pandas on synthetic events (issue #12).

Usage::

    nice python benchmarks/bench_spark.py --events 1000000 3000000 [--users-per-event 0.1]

For each size, in one process:

1. ``synthetic_frames(n_users, n_items, n_events)`` is written to Parquet
   (not timed), as a warehouse table would be;
2. **pandas**: read the Parquet files, ``Dataset.from_frames``,
   ``ProfileBuilder.default().build`` (timed together);
3. **Spark local[2]**: ``spark.read.parquet``, ``SparkEvents.from_frames``,
   ``build_profiles`` and a write of the profile frame to Parquet (timed
   together; no collect of events or profiles).

Peak memory: the Python process's resident set for pandas; for Spark, the
driver, i.e. the Python process plus the JVM (sampled every 50 ms), also
reported apart (the Python part keeps what the process held before, e.g. the
pandas run of the same size; run with ``--skip-pandas`` for a clean figure). With
``local[2]`` the executors live inside the driver JVM, so the JVM figure is an
upper bound of what a cluster driver holds; ``--driver-memory`` caps its heap.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path



def _rss(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 1e9
    except OSError:
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().split()[3]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


class Peak:
    """Peak resident set of this process and (optionally) its child processes (the JVM)."""

    def __init__(self, with_children: bool) -> None:
        self.with_children = with_children
        self.peak = 0.0
        self.peak_self = 0.0  # the Python process
        self.peak_children = 0.0  # the JVM (driver + local executors)
        self._stop = threading.Event()

    def _sample(self) -> float:
        me = os.getpid()
        own = _rss(me)
        kids = sum(_rss(c) for c in _children(me)) if self.with_children else 0.0
        self.peak_self = max(self.peak_self, own)
        self.peak_children = max(self.peak_children, kids)
        return own + kids

    def __enter__(self) -> Peak:
        self.peak = self._sample()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._sample())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._sample())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--users-per-event", type=float, default=0.1)
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--skip-spark", action="store_true")
    args = ap.parse_args()

    import pandas as pd

    from persona_rec import Dataset
    from persona_rec.sample_data import synthetic_frames
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.spark import SparkEvents, build_profiles, local_session

    spark = None if args.skip_spark else local_session("local[2]", shuffle_partitions=8, driver_memory=args.driver_memory,
                          conf={"spark.sql.adaptive.enabled": "false"})
    rows = []
    for n in args.events:
        tmp = Path(tempfile.mkdtemp(prefix="persona_rec_bench_spark_"))
        inter, users, items, _ = synthetic_frames(int(n * args.users_per_event), 5_000, n,
                                                  random_state=0)
        # Spark reads microsecond timestamps (pandas writes nanoseconds by default)
        opts = {"coerce_timestamps": "us", "allow_truncated_timestamps": True}
        inter.to_parquet(tmp / "events.parquet", **opts)
        users.to_parquet(tmp / "users.parquet", **opts)
        items.to_parquet(tmp / "items.parquet", **opts)
        n_users = len(users)
        del inter, users, items
        gc.collect()
        if not args.skip_pandas:
            with Peak(with_children=False) as peak:
                t0 = time.perf_counter()
                ds = Dataset.from_frames(pd.read_parquet(tmp / "events.parquet"),
                                         users=pd.read_parquet(tmp / "users.parquet"),
                                         items=pd.read_parquet(tmp / "items.parquet"))
                prof = ProfileBuilder.default().build(ds)
                t_pd = time.perf_counter() - t0
            rows.append((n, n_users, "pandas", t_pd, peak.peak, prof.frame.shape[0], "", ""))
            print(rows[-1], flush=True)
            del ds, prof
            gc.collect()
        if args.skip_spark:
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        with Peak(with_children=True) as peak:
            t0 = time.perf_counter()
            ev = SparkEvents.from_frames(spark.read.parquet(str(tmp / "events.parquet")),
                                         users=spark.read.parquet(str(tmp / "users.parquet")),
                                         items=spark.read.parquet(str(tmp / "items.parquet")))
            sp = build_profiles(ev)
            sp.frame.write.mode("overwrite").parquet(str(tmp / "profiles.parquet"))
            t_sp = time.perf_counter() - t0
        n_rows = spark.read.parquet(str(tmp / "profiles.parquet")).count()
        sp.unpersist()
        rows.append((n, n_users, "spark local[2]", t_sp, peak.peak, n_rows,
                     f"{peak.peak_self:.2f}", f"{peak.peak_children:.2f}"))
        print(rows[-1], flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| events | users | backend | wall time (s) | peak memory (GB) | of which Python | "
          "of which JVM | profile rows |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for n, u, backend, t, mem, nr, py, jvm in rows:
        print(f"| {n:,} | {u:,} | {backend} | {t:.1f} | {mem:.2f} | {py} | {jvm} | {nr:,} |")
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()

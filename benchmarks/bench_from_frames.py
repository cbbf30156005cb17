"""Benchmark ``Dataset.from_frames`` on 10M synthetic interactions.

Each measurement runs in a fresh subprocess so that peak memory is clean:

1. ``generate``: ``synthetic_frames(...)`` alone (time, peak RSS); the frames
   are pickled to a temporary file.
2. ``from_frames``: a new process unpickles the frames, then times
   ``Dataset.from_frames(inter, users, items)`` and ``get_user_item_matrix()``.
   Its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) covers the
   input frames plus everything ``from_frames`` and the matrix allocate, and
   nothing of the generator.

Usage::

    flock /tmp/persona_heavy.lock python benchmarks/bench_from_frames.py [n_events] [--profile] [--str-ids]

``--str-ids`` turns user and item ids into Python strings (``"u123"``, ``"i45"``,
object dtype) before the call, the costlier case of external ids.

Targets (issue 2): from_frames under 15 s and under 3 GB peak for 10M events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

N_EVENTS = 10_000_000

_CHILD = r"""
import json, pickle, resource, sys, time
from persona_rec.sample_data import synthetic_frames
from persona_rec.dataset import Dataset

def rss_gb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e9

n_events, stage, profile, path = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4]
str_ids = sys.argv[5] == "1"
n_users, n_items = n_events // 50, max(1000, n_events // 500)
out = {"n_events": n_events, "n_users": n_users, "n_items": n_items}
if stage == "generate":
    t = time.perf_counter()
    inter, users, items, _ = synthetic_frames(n_users, n_items, n_events, random_state=0)
    out["generate_s"] = time.perf_counter() - t
    if str_ids:
        import numpy as np
        for frame, col, prefix in ((inter, "user_id", "u"), (users, "user_id", "u"),
                                   (inter, "item_id", "i"), (items, "item_id", "i")):
            codes, uniq = frame[col].factorize()
            names = np.array([f"{prefix}{v}" for v in uniq], dtype=object)
            frame[col] = names[codes]
    with open(path, "wb") as f:
        pickle.dump((inter, users, items), f, protocol=5)
else:
    with open(path, "rb") as f:
        inter, users, items = pickle.load(f)
    out["rss_before_gb"] = rss_gb()
    if profile:
        import cProfile, pstats
        pr = cProfile.Profile(); pr.enable()
    t = time.perf_counter()
    ds = Dataset.from_frames(inter, users=users, items=items)
    out["from_frames_s"] = time.perf_counter() - t
    t = time.perf_counter()
    m = ds.get_user_item_matrix()
    out["matrix_s"] = time.perf_counter() - t
    out["nnz"] = int(m.nnz)
    if profile:
        pr.disable()
        pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps(out))
"""


def run(stage: str, n_events: int, profile: bool, path: str, str_ids: bool) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n_events), stage, "1" if profile else "0", path,
         "1" if str_ids else "0"],
        capture_output=True, text=True, check=True,
    )
    if profile:
        print(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n_events = int(args[0]) if args else N_EVENTS
    profile = "--profile" in sys.argv
    str_ids = "--str-ids" in sys.argv
    t = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "frames.pkl")
        gen = run("generate", n_events, False, path, str_ids)
        ff = run("from_frames", n_events, profile, path, str_ids)
    ids = "str ids (object dtype)" if str_ids else "int ids"
    print(f"bench_from_frames  ({t}; {ids}; peak memory = ru_maxrss of a fresh subprocess)")
    print(f"{'step':<34}{'time (s)':>10}{'peak RSS (GB)':>15}")
    print(f"{'synthetic_frames ' + format(gen['n_events'], ','):<34}{gen['generate_s']:>10.1f}"
          f"{gen['peak_rss_gb']:>15.2f}")
    print(f"{'Dataset.from_frames (+ matrix)':<34}{ff['from_frames_s']:>10.1f}{ff['peak_rss_gb']:>15.2f}")
    print(f"{'get_user_item_matrix':<34}{ff['matrix_s']:>10.1f}")
    print(f"users {ff['n_users']:,}, items {ff['n_items']:,}, matrix nnz {ff['nnz']:,}; "
          f"RSS with the input frames loaded {ff['rss_before_gb']:.2f} GB")
    ok = ff["from_frames_s"] < 15 and ff["peak_rss_gb"] < 3
    print("targets (< 15 s, < 3 GB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()

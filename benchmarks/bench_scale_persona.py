"""Scale of PersonaRecommender: fit time, peak memory and batched top-10 on synthetic shops.

Each size runs in its own process (so peak RSS is that size's alone):
``synthetic(n_users, n_items, n_events)``; fit with defaults; then top-10 for
every user in batches of 50,000 (or ``--recommend-users`` of them). Peak RSS is
the process's maximum resident set size (``resource.getrusage``). CPU seconds
(``time.process_time``, all threads) are printed beside wall seconds: on a shared
machine the wall time depends on the other jobs, the CPU time much less.

Usage::

    python benchmarks/bench_scale_persona.py [--sizes 200000x30000x3000000,...]
        [--recommend-users N] [--n-jobs 2] [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SIZES = "200000x30000x3000000"


def run_one(n_users: int, n_items: int, n_events: int, recommend_users: int | None,
            n_jobs: int = 1) -> dict:
    import numpy as np

    from persona_rec.sample_data import synthetic
    from persona_rec.models.persona import PersonaRecommender

    t0 = time.perf_counter()
    ds = synthetic(n_users=n_users, n_items=n_items, n_events=n_events, random_state=0).dataset
    gen_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    model = PersonaRecommender(random_state=0, n_jobs=n_jobs).fit(ds)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    fit_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    users = ds.user_map.external_ids
    if recommend_users is not None:
        users = users[:recommend_users]
    t0, c0 = time.perf_counter(), time.process_time()
    n_rows = 0
    for start in range(0, len(users), 50_000):
        n_rows += len(model.recommend(users[start:start + 50_000], k=10,
                                      on_unknown="fallback"))
    rec_s, rec_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"users": n_users, "items": n_items, "events": n_events,
            "generate_s": round(gen_s, 1), "fit_s": round(fit_s, 1),
            "fit_cpu_s": round(fit_cpu, 1),
            "peak_rss_gb_after_fit": round(fit_rss, 2),
            "recommended_users": int(len(users)), "recommend_s": round(rec_s, 1),
            "recommend_cpu_s": round(rec_cpu, 1),
            "load_average": round(os.getloadavg()[0], 1),
            "rows": n_rows, "peak_rss_gb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
            "generators": list(model.ranker_.generator_names_),
            "served": model.ranker_.choice_,
            "label_users": model.ranker_.validation_["label_users"],
            "candidates_per_task": {k: v["candidates"]
                                    for k, v in model.ranker_.validation_["tasks"].items()},
            "n_jobs": n_jobs, "n_threads_note": "2 cores",
            "np": np.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--recommend-users", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="PersonaRecommender(n_jobs=...): threads scoring batches of users")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.one:
        u, i, e = (int(x) for x in args.one.split("x"))
        print(json.dumps(run_one(u, i, e, args.recommend_users, args.n_jobs)))
        return
    rows = []
    for size in args.sizes.split(","):
        cmd = [sys.executable, __file__, "--one", size]
        if args.recommend_users is not None:
            cmd += ["--recommend-users", str(args.recommend_users)]
        cmd += ["--n-jobs", str(args.n_jobs)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(row, flush=True)
        rows.append(row)
    lines = ["| users | items | events | fit s (CPU s) | peak RSS after fit GB | "
             "recommended users | recommend s (CPU s) | peak RSS GB | served | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['users']:,} | {r['items']:,} | {r['events']:,} | {r['fit_s']} "
                     f"({r['fit_cpu_s']}) | {r['peak_rss_gb_after_fit']} | "
                     f"{r['recommended_users']:,} | {r['recommend_s']} ({r['recommend_cpu_s']}) "
                     f"| {r['peak_rss_gb']} | {r['served']} | {r['load_average']} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

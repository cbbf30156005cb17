"""Benchmark: social features and seeding on a large planted follow graph.

Generates N users in N/1000 planted communities with N/1000 planted
influencers, each user following ~10 accounts (90% inside its community), so
N = 1,000,000 gives about 10M edges. Times ``SocialGraph.from_edges`` and each
feature of ``social_features`` (degree, PageRank, k-core, 2-hop reach, Leiden),
then reports planted-influencer precision@k and community ARI, and the time of
``select_seeds`` (k=50, 20,000 RR sets).

Run niced: ``nice python benchmarks/bench_social.py [n_users]`` (default 1,000,000).
"""

from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from persona_rec.sample_data.social import _follow_edges
from persona_rec.social import SocialGraph, select_seeds


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    n_comm = max(n // 1000, 2)
    community = rng.integers(n_comm, size=n)
    influencer = np.zeros(n, dtype=bool)
    influencer[rng.choice(n, size=max(n // 1000, 1), replace=False)] = True
    fame = np.exp(rng.normal(0.0, 0.5, size=n))
    fame[influencer] = 40.0
    src, dst = _follow_edges(rng, community, fame, 10.0, 0.1)
    edges = pd.DataFrame({"source": src, "target": dst, "weight": 1.0 + rng.poisson(1.0, src.size)})
    print(f"graph: {n:,} users, {len(edges):,} edges; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name, fn):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times[name], cpu[name] = time.perf_counter() - t, time.process_time() - c
        print(f"  {name:<24} {times[name]:7.1f} s wall {cpu[name]:7.1f} s CPU", flush=True)
        return out

    g = timed("from_edges", lambda: SocialGraph.from_edges(edges, users=np.arange(n)))
    timed("degree", lambda: (g.followers(), g.following()))
    pr = timed("pagerank", g.pagerank)
    ig_graph = timed("igraph graph build", g._igraph)
    timed("k-core (igraph)", lambda: g.core_number(ig_graph))
    timed("reach 2 hops", lambda: g.reach(2))
    comm = timed("Leiden (igraph)", lambda: g.communities(graph=ig_graph, random_state=0))
    total, total_cpu = sum(times.values()), sum(cpu.values())
    rows = g.index_of(np.arange(n))
    k = int(influencer.sum())
    top = np.argsort(-pr)[:k]
    prec = influencer[np.asarray(g.user_ids)[top].astype(np.int64)].mean()
    ari = adjusted_rand_score(community, comm[rows])
    print(f"  {'features total':<24} {total:7.1f} s wall {total_cpu:7.1f} s CPU "
          f"(load average now {os.getloadavg()[0]:.1f})")
    print(f"planted influencers precision@{k}: {prec:.3f}; planted communities ARI: {ari:.3f}")
    timed("select_seeds k=50", lambda: select_seeds(g, 50, n_sets=20_000, random_state=0))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.1f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)

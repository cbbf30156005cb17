"""Scale check for persona_rec.segments on synthetic data.

Builds synthetic logs with ``n_users`` users and 10 events per user, the
default profiles and tags, then times the default RFM segment map, k-means
on category affinities (k by silhouette in 2..10, silhouette on a 5,000-user
sample) and rule-based segments; prints a table and the ARI against the
planted segments. Usage::

    flock /tmp/persona_heavy.lock python benchmarks/segments_scale.py 100000 1000000
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score

from persona_rec.sample_data import synthetic
from persona_rec.profiles import ProfileBuilder
from persona_rec.segments import KMeansSegmenter, RuleSegmenter, rfm_segments
from persona_rec.tags import Tagger, Taxonomy


def run(n_users: int) -> dict[str, float]:
    data = synthetic(n_users, max(500, n_users // 20), 10 * n_users, random_state=0)
    profiles = ProfileBuilder.default().build(data.dataset)
    user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    truth = data.user_truth["segment"].reindex(profiles.frame.index).to_numpy()
    out: dict[str, float] = {"users": n_users}
    t = time.perf_counter()
    rfm = rfm_segments(profiles)
    out["rfm_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rfm.describe(profiles, user_tags)
    out["describe_s"] = time.perf_counter() - t
    t = time.perf_counter()
    km = KMeansSegmenter(random_state=0).fit(profiles)
    out["kmeans_auto_k_s"] = time.perf_counter() - t
    out["k"] = km.k_
    labels = km.segmentation_.labels
    active = (labels != "inactive").to_numpy()
    out["ari_active"] = adjusted_rand_score(truth[active], labels[active].astype(str))
    t = time.perf_counter()
    RuleSegmenter([("vip", "high_value & !churned"), ("bargain", "price_sensitive")]).assign(user_tags)
    out["rules_s"] = time.perf_counter() - t
    return out


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [20_000, 100_000]
    rows = [run(n) for n in sizes]
    cols = list(rows[0])
    print(" | ".join(f"{c:>15}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]:>15.3f}" if isinstance(r[c], float) else f"{r[c]:>15}" for c in cols))


if __name__ == "__main__":
    main(sys.argv[1:])

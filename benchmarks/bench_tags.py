"""Benchmark: tagging speed of the default taxonomy at scale.

Builds a profile look-alike (the contract columns, random values; category
affinities with 10 level-1 and 40 level-2 categories, about 4 non-zeros per
user per level) for N users, then times ``Taxonomy.default`` +
``Tagger.assign``, a tag expression, ``UserTags.counts`` and ``diff`` between
two runs. Profile building itself is benchmarked by the profiles module.

Run: ``flock /tmp/persona_heavy.lock python benchmarks/bench_tags.py [n_users ...]``
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_rec.tags import Tagger, Taxonomy, diff


@dataclass
class FakeProfiles:
    frame: pd.DataFrame
    affinities: dict[str, Any]
    sensitive_columns: frozenset = field(default_factory=lambda: frozenset({"age", "gender", "age_band"}))


def _affinity(rng: np.random.Generator, n: int, k: int, per_user: int) -> sp.csr_matrix:
    rows = np.repeat(np.arange(n), per_user)
    cols = rng.integers(0, k, size=n * per_user)
    m = sp.csr_matrix((rng.random(n * per_user), (rows, cols)), shape=(n, k), dtype=np.float32)
    m.sum_duplicates()
    s = np.asarray(m.sum(axis=1)).ravel()
    return sp.diags(1 / np.maximum(s, 1e-12)).dot(m).tocsr().astype(np.float32)


def make_profiles(n: int, seed: int = 0) -> FakeProfiles:
    rng = np.random.default_rng(seed)
    u = rng.random

    def with_nan(x: np.ndarray, p: float = 0.2) -> np.ndarray:
        return np.where(u(n) < p, np.nan, x)

    stages = np.array(["prospect", "new", "active", "at_risk", "churned", "reactivated"])
    bands = np.array(["<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"])
    frame = pd.DataFrame({
        "age": rng.integers(15, 80, n).astype(float),
        "gender": rng.choice(np.array(["F", "M"], dtype=object), n),
        "age_band": rng.choice(bands.astype(object), n),
        "country": rng.choice(np.array(["UK", "FR", "DE", "ES", "IT"], dtype=object), n),
        "recency_days": with_nan(u(n) * 400), "frequency": rng.integers(0, 20, n).astype(float),
        "monetary": with_nan(rng.lognormal(5, 1, n)), "avg_order_value": with_nan(rng.lognormal(3, 1, n)),
        "r_score": with_nan(rng.integers(1, 6, n).astype(float)),
        "f_score": with_nan(rng.integers(1, 6, n).astype(float)),
        "m_score": with_nan(rng.integers(1, 6, n).astype(float)),
        "rfm_score": with_nan(rng.integers(3, 16, n).astype(float)),
        "n_events": rng.integers(0, 300, n), "tenure_days": with_nan(u(n) * 700),
        "preferred_hour": with_nan(rng.integers(0, 24, n).astype(float)),
        "preferred_weekday": with_nan(rng.integers(0, 7, n).astype(float)),
        "cart_to_purchase": with_nan(u(n) * 1.5, 0.5),
        "top_price_band": rng.choice(np.array(["low", "mid", "high"], dtype=object), n),
        "brand_loyalty": with_nan(u(n)), "category_diversity": with_nan(u(n)),
        "price_sensitivity": with_nan(u(n)), "discount_share": with_nan(u(n)),
        "novelty_seeking": with_nan(u(n)),
        "lifecycle_stage": pd.Categorical(rng.choice(stages, n), categories=list(stages)),
        "expected_interval_days": with_nan(u(n) * 60 + 5),
    }, index=pd.Index(np.arange(n), name="user_id"))
    l1 = [f"cat{i}" for i in range(10)]
    l2 = [f"cat{i}/sub{j}" for i in range(10) for j in range(4)]
    affinities = {
        "category_l1": (_affinity(rng, n, 10, 4), l1),
        "category_l2": (_affinity(rng, n, 40, 4), l2),
        "price_band": (_affinity(rng, n, 3, 2), ["low", "mid", "high"]),
    }
    return FakeProfiles(frame, affinities)


def main(sizes: list[int]) -> None:
    print(f"{'users':>10} {'tags':>5} {'assign_s':>9} {'nnz':>11} {'expr_s':>7} {'counts_s':>9} "
          f"{'diff_s':>7} {'peak_MB':>8}")
    for n in sizes:
        prof = make_profiles(n)
        tax = Taxonomy.default(prof)
        t0 = time.perf_counter()
        ut = Tagger(tax).assign(prof)
        t_assign = time.perf_counter() - t0
        t0 = time.perf_counter()
        ut.mask("interest/cat1 & price_sensitive & !churned | high_value & !lifecycle/prospect")
        t_expr = time.perf_counter() - t0
        t0 = time.perf_counter()
        ut.counts()
        ut.counts("layer")
        t_counts = time.perf_counter() - t0
        prof.frame["price_sensitivity"] = prof.frame["price_sensitivity"] * 0.9
        ut2 = Tagger(tax).assign(prof)
        t0 = time.perf_counter()
        diff(ut, ut2)
        t_diff = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>10,} {len(tax):>5} {t_assign:>9.2f} {ut.matrix.nnz:>11,} {t_expr:>7.3f} "
              f"{t_counts:>9.3f} {t_diff:>7.2f} {peak:>8.0f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])

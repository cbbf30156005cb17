"""Fixtures for the segmentation tests: small hand-built profile/tag objects."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp


@dataclass
class FakeProfiles:
    """Duck-typed stand-in for ``persona_rec.profiles.Profiles``."""

    frame: pd.DataFrame
    affinities: dict = field(default_factory=dict)
    sensitive_columns: frozenset = frozenset()

    def features(self, include_sensitive: bool = False):
        cols = [
            c
            for c in self.frame.columns
            if pd.api.types.is_numeric_dtype(self.frame[c])
            and (include_sensitive or c not in self.sensitive_columns)
        ]
        blocks = [sp.csr_matrix(self.frame[cols].fillna(0.0).to_numpy(dtype=np.float32))]
        names = list(cols)
        for kind, (mat, values) in self.affinities.items():
            blocks.append(sp.csr_matrix(mat, dtype=np.float32))
            names += [f"{kind}:{v}" for v in values]
        return sp.hstack(blocks, format="csr", dtype=np.float32), names


@dataclass
class FakeUserTags:
    """Duck-typed stand-in for ``persona_rec.tags.UserTags``."""

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    tag_ids: list


def planted_profiles(n_per_segment=(300, 200, 150, 100), n_cats=12, seed=0) -> tuple[FakeProfiles, np.ndarray]:
    """Profiles whose category affinities carry planted segments.

    Segment ``s`` prefers categories ``3s..3s+2`` (Dirichlet mix with 25%
    noise mass on all categories); RFM-like columns are pure noise. 20
    attribute-only users (no events, zero affinities) are appended.
    """
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(n_per_segment)), n_per_segment)
    n = len(truth)
    own = np.zeros((n, n_cats))
    for s in range(len(n_per_segment)):
        rows = truth == s
        own[np.ix_(rows, np.arange(3 * s, 3 * s + 3))] = rng.dirichlet(np.ones(3), rows.sum())
    noise = rng.dirichlet(np.ones(n_cats) * 0.5, n)
    aff = 0.75 * own + 0.25 * noise
    n_cold = 20
    aff = np.vstack([aff, np.zeros((n_cold, n_cats))])
    ids = pd.Index([f"u{i}" for i in range(n + n_cold)], name="user_id")
    frame = pd.DataFrame(
        {
            "recency_days": np.r_[rng.exponential(60, n), np.full(n_cold, np.nan)],
            "frequency": np.r_[rng.poisson(3, n) + 1, np.zeros(n_cold)],
            "monetary": np.r_[rng.lognormal(4, 1, n), np.zeros(n_cold)],
            "n_events": np.r_[rng.poisson(20, n) + 1, np.zeros(n_cold)],
        },
        index=ids,
    )
    names = [f"cat{j}" for j in range(n_cats)]
    profiles = FakeProfiles(frame, {"category_l1": (sp.csr_matrix(aff, dtype=np.float32), names)})
    return profiles, np.r_[truth, np.full(n_cold, -1)]


@pytest.fixture
def planted():
    return planted_profiles()

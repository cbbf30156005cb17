"""A small hand-built Profiles look-alike with the contract columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp


@dataclass
class FakeProfiles:
    """Exposes exactly what persona_rec.tags relies on (duck typing)."""

    frame: pd.DataFrame
    affinities: dict[str, Any]
    sensitive_columns: frozenset = field(default_factory=frozenset)
    as_of: pd.Timestamp = pd.Timestamp("2024-01-01")


def make_profiles() -> FakeProfiles:
    users = pd.Index(["u1", "u2", "u3", "u4", "u5", "u6"], name="user_id")
    nan = np.nan
    frame = pd.DataFrame(
        {
            "age": [17, 22, 30, 41, 70, nan],
            "gender": ["F", "M", "F", "M", None, "F"],
            "age_band": ["<18", "18-24", "25-34", "35-44", "65+", None],
            "country": ["UK", "France", "UK", "UK", "Germany", None],
            "recency_days": [3.0, 40.0, 200.0, 10.0, nan, 95.0],
            "frequency": [5.0, 2.0, 1.0, 8.0, 0.0, 3.0],
            "monetary": [500.0, 80.0, 20.0, 2000.0, 0.0, 150.0],
            "avg_order_value": [100.0, 40.0, 20.0, 250.0, nan, 50.0],
            "r_score": [5.0, 3.0, 1.0, 4.0, nan, 2.0],
            "f_score": [4.0, 2.0, 1.0, 5.0, nan, 3.0],
            "m_score": [4.0, 2.0, 1.0, 5.0, nan, 3.0],
            "rfm_score": [13.0, 7.0, 3.0, 14.0, nan, 8.0],
            "n_events": [50, 12, 3, 120, 6, 30],
            "tenure_days": [300.0, 20.0, 400.0, 500.0, 5.0, 200.0],
            "preferred_hour": [8.0, 13.0, 19.0, 23.0, 2.0, nan],
            "preferred_weekday": [0.0, 5.0, 6.0, 2.0, 3.0, nan],
            "cart_to_purchase": [0.9, 0.2, nan, 1.0, nan, 0.4],
            "top_category": ["home", "toys", "home", "books", None, "toys"],
            "top_price_band": ["low", "high", "mid", "high", None, "low"],
            "brand_loyalty": [0.8, 0.3, 1.0, 0.7, nan, 0.1],
            "category_diversity": [0.1, 0.9, 0.0, 0.5, nan, 0.75],
            "price_sensitivity": [0.9, 0.1, 0.6, 0.0, nan, 0.65],
            "discount_share": [0.7, 0.0, 0.5, 0.1, nan, 0.2],
            "novelty_seeking": [0.0, 0.8, 0.2, 0.35, nan, 0.0],
            "lifecycle_stage": pd.Categorical(
                ["active", "new", "churned", "active", "prospect", "at_risk"],
                categories=["prospect", "new", "active", "at_risk", "churned", "reactivated"],
            ),
            "expected_interval_days": [5.0, 30.0, 30.0, 8.0, nan, 40.0],
            "days_to_next_purchase": [2.0, -10.0, -170.0, -2.0, nan, -55.0],
        },
        index=users,
    )
    l1 = np.array(
        [[0.7, 0.3, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0, 0, 0], [0.5, 0.5, 0.0]],
        dtype=np.float32,
    )
    l2 = np.array(
        [[0.6, 0.1, 0.3, 0.0], [0.0, 0.0, 1.0, 0.0], [0.1, 0.9, 0.0, 0.0], [0.05, 0.05, 0.1, 0.8],
         [0, 0, 0, 0], [0.25, 0.25, 0.5, 0.0]],
        dtype=np.float32,
    )
    bands = np.array(
        [[0.6, 0.3, 0.1], [0.0, 0.2, 0.8], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0, 0, 0], [0.5, 0.4, 0.1]],
        dtype=np.float32,
    )
    affinities = {
        "category_l1": (sp.csr_matrix(l1), ["home", "toys", "books"]),
        "category_l2": (sp.csr_matrix(l2), ["home/kitchen", "home/decor", "toys/games", "books/fiction"]),
        "category_l3": (sp.csr_matrix((6, 0), dtype=np.float32), []),
        "brand": (sp.csr_matrix((6, 0), dtype=np.float32), []),
        "price_band": (sp.csr_matrix(bands), ["low", "mid", "high"]),
    }
    return FakeProfiles(frame, affinities, frozenset({"age", "gender", "age_band"}))


@pytest.fixture
def profiles() -> FakeProfiles:
    """Six users with hand-chosen profile values (see make_profiles)."""
    return make_profiles()

"""A small, realistic shop built here for the evaluation tests.

300 registered users (40 of them never interacted), 120 items in a category
tree with brands, 90 days of view / cart / purchase events with repeats, and
two user groups with different tastes (a planted signal models can learn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset


def build_shop(seed: int = 7, n_users: int = 300, n_items: int = 120,
               n_events: int = 6000) -> Dataset:
    rng = np.random.default_rng(seed)
    l1 = np.array(["Home", "Sports", "Beauty", "Toys"])
    item_l1 = rng.integers(0, 4, n_items)
    item_l2 = rng.integers(0, 3, n_items)
    items = pd.DataFrame({
        "item_id": [f"i{j:03d}" for j in range(n_items)],
        "category": [f"{l1[a]} > {l1[a]}-{b}" for a, b in zip(item_l1, item_l2)],
        "brand": rng.choice(["acme", "zen", "nova", "orbit", "lumen"], n_items),
        "price": rng.gamma(2.0, 15.0, n_items).round(2),
    })
    users = pd.DataFrame({
        "user_id": np.arange(1, n_users + 1),
        "age": rng.integers(18, 70, n_users),
        "city": rng.choice(["Berlin", "Paris", "Rome"], n_users),
        "tier": rng.choice(["gold", "silver"], n_users, p=[0.3, 0.7]),
    })
    active = n_users - 40
    user = rng.integers(1, active + 1, n_events)
    taste = (user % 2) * 2  # odd users like Home/Sports (0, 1), even users Beauty/Toys (2, 3)
    pref_l1 = taste + rng.integers(0, 2, n_events)
    follow = rng.random(n_events) < 0.8
    by_l1 = [np.flatnonzero(item_l1 == a) for a in range(4)]
    pick = np.empty(n_events, dtype=np.int64)
    for a in range(4):  # loop over 4 categories, not over events
        sel = follow & (pref_l1 == a)
        pick[sel] = rng.choice(by_l1[a], int(sel.sum()))
    pick[~follow] = rng.integers(0, n_items, int((~follow).sum()))
    start = pd.Timestamp("2024-01-01")
    ts = start + pd.to_timedelta(rng.uniform(0, 90 * 86400, n_events), unit="s")
    event = rng.choice(["view", "cart", "purchase"], n_events, p=[0.6, 0.25, 0.15])
    inter = pd.DataFrame({
        "user_id": user,
        "item_id": items["item_id"].to_numpy()[pick],
        "timestamp": ts,
        "event": event,
    })
    return Dataset.from_frames(inter, users=users, items=items)


@pytest.fixture(scope="session")
def shop() -> Dataset:
    """The synthetic shop Dataset (session-scoped: Datasets are immutable)."""
    return build_shop()

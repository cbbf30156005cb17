"""Purchase-based models decide 'purchases or all events' once per log, not per time window."""

from __future__ import annotations

import pandas as pd

from persona_rec.dataset import Dataset
from persona_rec.models._features import purchase_rows
from persona_rec.models.repurchase import repurchase_features


def _log() -> Dataset:
    inter = pd.DataFrame({
        "user_id": ["a", "a", "a", "a"],
        "item_id": ["x", "x", "x", "x"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01", "2024-03-01"]),
        "event": ["view", "view", "purchase", "purchase"],
    })
    return Dataset.from_frames(inter)


def test_views_before_the_first_purchase_are_not_repurchase_candidates() -> None:
    inter = _log().internal_interactions
    # before 2024-01-10 the user only viewed: no purchase history, no candidate
    pu, pi, X = repurchase_features(inter, 1, pd.Timestamp("2024-01-10"))
    assert len(pu) == 0 and X.shape[0] == 0
    pu, _, _ = repurchase_features(inter, 1, pd.Timestamp("2024-02-10"))
    assert pu.tolist() == [0]


def test_purchase_rows() -> None:
    inter = _log().internal_interactions
    assert purchase_rows(inter).tolist() == [False, False, True, True]
    assert purchase_rows(inter, use_purchases=False).all()
    assert purchase_rows(inter.iloc[:2]).all()  # a log without purchases: every event counts

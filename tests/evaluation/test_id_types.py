"""Ranking metrics warn when reco and test spell the same ids with different types."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.evaluation import NDCG, Recall, evaluate, temporal_split

RECO = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 11, 10], "rank": [1, 2, 1]})


def test_metrics_warn_when_ids_differ_only_by_type():
    text = pd.DataFrame({"user_id": ["1", "2"], "item_id": ["10", "10"]})
    with pytest.warns(UserWarning) as caught:
        assert NDCG(2).calc(RECO, text) == 0.0
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and all("check that the id types match" in m for m in messages)
    assert messages[0].startswith("recommendations and test share no user_id: recommendations "
                                  "hold integer ids (e.g. [1, 2]), test holds string ids")
    assert "share no item_id" in messages[1]
    assert all(w.filename == __file__ for w in caught)  # points at the caller
    users_ok = pd.DataFrame({"user_id": [1, 2], "item_id": ["10", "10"]})
    with pytest.warns(UserWarning, match="share no item_id"):
        NDCG(2).calc(RECO, users_ok)


def test_no_warning_when_ids_match_or_types_agree():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert NDCG(2).calc(RECO, RECO[["user_id", "item_id"]].astype(int)) == 1.0
        # disjoint but of the same type: a legitimate (if poor) result, no warning
        assert NDCG(2).calc(RECO, pd.DataFrame({"user_id": [7], "item_id": [99]})) == 0.0


def test_evaluate_warns_for_a_reco_frame_with_other_id_types():
    rng = np.random.default_rng(0)
    ev = pd.DataFrame({"user_id": rng.integers(0, 50, 1000), "item_id": rng.integers(0, 30, 1000),
                       "timestamp": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(rng.integers(0, 10**7, 1000), unit="s")})
    split = temporal_split(Dataset.from_frames(ev), test_fraction=0.3, filter_already_seen=False)
    good = split.test[["user_id", "item_id"]].drop_duplicates()
    good = good.assign(rank=good.groupby("user_id").cumcount() + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate(good, split, [Recall(10)])["value"].iloc[0] == 1.0
    with pytest.warns(UserWarning, match="share no user_id.*check that the id types match"):
        evaluate(good.astype({"user_id": str, "item_id": str}), split, [Recall(10)])

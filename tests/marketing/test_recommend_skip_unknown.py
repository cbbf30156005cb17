"""recommend_skip_unknown passes on_unknown only to models that take it, and never retries on errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidDtypeError
from persona_rec.marketing.propensity import recommend_skip_unknown, recommender_propensity
from persona_rec.models import PopularRecommender


class _Counting:
    """Duck type without on_unknown that fails inside recommend."""

    def __init__(self) -> None:
        self.calls = 0

    def recommend(self, user_ids, k=10, filter_seen=True):
        self.calls += 1
        raise InvalidDtypeError("user_ids must be ids, got a float NaN.")


class _Kwargs:
    def __init__(self) -> None:
        self.seen: dict = {}

    def recommend(self, user_ids, **kwargs):
        self.seen = kwargs
        return pd.DataFrame({"user_id": list(user_ids), "item_id": "x", "score": 1.0, "rank": 1})


def test_errors_inside_recommend_surface_once() -> None:
    model = _Counting()
    with pytest.raises(InvalidDtypeError, match="float NaN"):
        recommender_propensity(model, ["a"], k=2)
    assert model.calls == 1  # a TypeError subclass is not taken for a missing option


def test_on_unknown_only_where_accepted() -> None:
    kw = _Kwargs()
    recommend_skip_unknown(kw, np.array(["a"], dtype=object), k=3)
    assert kw.seen == {"k": 3, "on_unknown": "skip"}
    inter = pd.DataFrame({"user_id": ["a", "b"], "item_id": ["i", "j"],
                          "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    model = PopularRecommender().fit(Dataset.from_frames(inter))
    out = recommend_skip_unknown(model, np.array(["a", "stranger"], dtype=object), k=1,
                                 filter_seen=False)
    assert set(out["user_id"]) <= {"a", "stranger"} and "a" in set(out["user_id"])

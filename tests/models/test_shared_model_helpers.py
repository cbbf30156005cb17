"""Helpers shared by several models: explain's top names, cosine similar items, fit-time inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset
from persona_rec.models import PopularRecommender
from persona_rec.models._features import cosine_similar, top_names_per_row


def test_top_names_per_row_keeps_the_n_largest_in_order() -> None:
    rows = np.array([1, 0, 1, 1, 0])
    cols = np.array([0, 1, 1, 2, 2])
    vals = np.array([0.2, 0.5, 0.9, 0.2, 0.7])
    names = np.array(["a", "b", "c"], dtype=object)
    out = top_names_per_row(rows, cols, vals, names, n=2, n_rows=3)
    # row 1: b (0.9) first, then the tie a/c (0.2) in input order: a
    assert out.tolist() == ["c; b", "b; a", ""]
    assert top_names_per_row(rows[:0], cols[:0], vals[:0], names, n=2, n_rows=2).tolist() == ["", ""]


def test_cosine_similar_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(size=(6, 3)).astype(np.float32)
    f[4] = 0.0
    served = np.array([True, True, False, True, True, True])
    got = cosine_similar(f, np.array([0, 3]), served)
    x = f.astype(np.float64)
    want = np.zeros((2, 6))
    for r, i in enumerate([0, 3]):
        for j in range(6):
            n = np.linalg.norm(x[i]) * np.linalg.norm(x[j])
            want[r, j] = x[i] @ x[j] / n if n else 0.0
    want[:, ~served] = -np.inf
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert np.all(got[:, 4] == 0.0)


def test_fit_holding_removes_the_inputs_also_when_fit_fails() -> None:
    inter = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"],
                          "timestamp": pd.date_range("2024-01-01", periods=2)})
    model = PopularRecommender()
    model._fit_holding(Dataset.from_frames(inter), None, _extra_input=1)
    assert model.is_fitted and not hasattr(model, "_extra_input")
    with pytest.raises(TypeError):
        PopularRecommender()._fit_holding("not a dataset", None, _extra_input=1)
    failed = PopularRecommender()
    with pytest.raises(TypeError):
        failed._fit_holding("not a dataset", None, _extra_input=1)
    assert not hasattr(failed, "_extra_input") and not failed.is_fitted

"""Recommender base class: argument validation, config, output conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import scipy.sparse as sp

from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    UnknownIdError,
)
from persona_rec.models._topk import topk
from persona_rec.models import (
    ALSRecommender,
    EASERecommender,
    PopularRecommender,
    Recommender,
    SegmentPopularRecommender,
)


def test_recommend_argument_errors(block_dataset: Dataset) -> None:
    model = PopularRecommender().fit(block_dataset)
    with pytest.raises(InvalidParameterError,
                       match=r"'k' parameter of PopularRecommender.recommend must be an int >= 1, "
                             r"got 0"):
        model.recommend(["u0_0"], k=0)
    with pytest.raises(InvalidParameterError, match="'on_unknown'.*one of .*got 'ignore'"):
        model.recommend(["u0_0"], on_unknown="ignore")
    with pytest.raises(InvalidParameterError, match="'filter_seen'.*bool, got 'yes'"):
        model.recommend(["u0_0"], filter_seen="yes")
    with pytest.raises(InvalidDtypeError, match="'dataset' parameter.*got DataFrame"):
        model.recommend(["u0_0"], dataset=pd.DataFrame())
    with pytest.raises(InvalidDtypeError, match="dataset must be a persona_rec Dataset"):
        PopularRecommender().fit(block_dataset.interactions)


def test_unknown_users_message(block_dataset: Dataset) -> None:
    model = EASERecommender(10.0).fit(block_dataset)
    with pytest.raises(UnknownIdError,
                       match=r"cannot serve 2 user\(s\) in state\(s\) \['cold', 'warm'\].*"
                             r"e.g. \['w0_0', 'nobody'\]"):
        model.recommend(["u0_0", "w0_0", "nobody"])
    with pytest.raises(KeyError):  # UnknownIdError is a KeyError
        model.recommend(["nobody"])


def test_config_api(block_dataset: Dataset) -> None:
    model = ALSRecommender(factors=8, iterations=2)
    params = model.get_params()
    assert params["factors"] == 8 and params["random_state"] == 0
    assert model.get_config() == {"class": "ALSRecommender", "params": params}
    assert repr(model).startswith("ALSRecommender(factors=8, ")
    rebuilt = Recommender.from_config(model.get_config())
    assert isinstance(rebuilt, ALSRecommender) and rebuilt.get_params() == params
    assert ALSRecommender.from_config({"factors": 3}).factors == 3
    with pytest.raises(InvalidParameterError, match=r"has no parameter\(s\) \['factor'\]"):
        ALSRecommender.from_config({"factor": 3})
    with pytest.raises(InvalidParameterError, match="registered subclass of EASERecommender"):
        EASERecommender.from_config(model.get_config())
    # __init__ stores configuration only
    assert not any(k.endswith("_") for k in vars(model))
    model.fit(block_dataset)
    clone = model.clone()
    assert not clone.is_fitted and clone.get_params() == params


def test_similar_items_not_supported(block_dataset: Dataset) -> None:
    model = PopularRecommender().fit(block_dataset)
    with pytest.raises(NotImplementedError, match="does not support similar_items"):
        model.similar_items(["i0_0"])


def test_int_user_ids_keep_dtype(rng: np.random.Generator) -> None:
    inter = pd.DataFrame({"user_id": rng.integers(0, 20, 200), "item_id": rng.integers(0, 30, 200),
                          "timestamp": pd.Timestamp("2024-01-01")})
    ds = Dataset.from_frames(inter)
    rec = EASERecommender(5.0).fit(ds).recommend(np.arange(20), k=3)
    assert rec[Columns.USER].dtype == np.int64 and rec[Columns.ITEM].dtype == np.int64
    assert rec[Columns.USER].unique().tolist() == list(range(20))
    # scores decrease within a user
    for _, g in rec.groupby(Columns.USER):
        assert (np.diff(g[Columns.SCORE].to_numpy()) <= 0).all()


def test_warm_users_with_segment_model_and_newer_dataset(block_dataset: Dataset) -> None:
    model = SegmentPopularRecommender("region", shrinkage=0).fit(block_dataset)
    rec = model.recommend(["w3_2"], k=5)
    assert rec[Columns.ITEM].str.startswith("i3_").all()


def test_fit_on_empty_dataset(block_dataset: Dataset) -> None:
    empty = block_dataset.filter_time(end="2000-01-01")
    with pytest.raises(EmptyInputError, match="EASERecommender.fit: dataset has no interactions"):
        EASERecommender().fit(empty)


@settings(max_examples=80, deadline=None)
@given(
    scores=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 60)),
                      elements=st.sampled_from([-np.inf, np.nan, 0.0, 0.5, 1.0, 2.0, -1.0])),
    k=st.integers(1, 12),
    seen_density=st.floats(0, 1),
    mask_seed=st.integers(0, 2**16),
)
def test_topk_matches_naive_sort(scores, k, seen_density, mask_seed) -> None:
    """Vectorised top-k equals a per-row stable sort on (-score, item)."""
    rng = np.random.default_rng(mask_seed)
    n, m = scores.shape
    seen = sp.csr_matrix((rng.random((n, m)) < seen_density).astype(np.float32))
    mask = rng.random(m) < 0.8
    rows, items, vals = topk(scores.copy(), seen, k, mask)
    dense_seen = seen.toarray() > 0
    for r in range(n):
        cand = [(-scores[r, j], j) for j in range(m)
                if mask[j] and not dense_seen[r, j] and np.isfinite(scores[r, j])]
        want = [j for _, j in sorted(cand)][:k]
        assert items[rows == r].tolist() == want
        assert vals[rows == r].tolist() == [scores[r, j] for j in want]


def test_shared_vector_fast_path_equals_dense_path(block_dataset: Dataset, monkeypatch) -> None:
    """Popularity ranks a short candidate list per user; same result as full score rows."""
    model = PopularRecommender(by="weight").fit(block_dataset)
    users = list(block_dataset.user_map.external_ids) + ["cold1"]
    kwargs = dict(k=12, item_filter={"in_stock": True}, exclude=["i0_3"])
    fast = model.recommend(users, **kwargs)
    monkeypatch.setattr(PopularRecommender, "_shared_scores", lambda self: None)
    dense = model.recommend(users, **kwargs)
    pd.testing.assert_frame_equal(fast, dense)
    seg = SegmentPopularRecommender("region", shrinkage=1.0).fit(block_dataset)
    grouped = seg.recommend(users, **kwargs)
    monkeypatch.setattr(SegmentPopularRecommender, "_grouped_scores", lambda self, u, d: None)
    pd.testing.assert_frame_equal(grouped, seg.recommend(users, **kwargs))
    fb_fast = EASERecommender(10.0).fit(block_dataset).recommend(
        users, k=30, on_unknown="fallback")
    assert (fb_fast.groupby(Columns.USER).size() == 30).all()

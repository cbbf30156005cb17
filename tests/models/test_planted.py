"""Planted structure: each user's top items come from the user's own block / segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    SegmentPopularRecommender,
)


def _block(ids: pd.Series) -> np.ndarray:
    return np.array([int(str(x)[1:].split("_")[0]) for x in ids])


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ItemKNNRecommender("cosine", k_neighbours=20),
        lambda: ItemKNNRecommender("bm25", k_neighbours=20),
        lambda: EASERecommender(regularization=10.0),
        lambda: ALSRecommender(factors=8, iterations=10, random_state=0),
        lambda: BPRRecommender(factors=8, iterations=100, learning_rate=0.05, random_state=0),
        lambda: SegmentPopularRecommender("region", shrinkage=0),
    ],
    ids=["knn_cosine", "knn_bm25", "ease", "als", "bpr", "segment_popular"],
)
def test_top_item_is_from_own_block(block_dataset: Dataset, factory) -> None:
    model = factory().fit(block_dataset)
    hot = [u for u in block_dataset.user_map.external_ids if str(u).startswith("u")]
    rec = model.recommend(hot, k=3)
    top = rec[rec[Columns.RANK] == 1]
    assert len(top) == len(hot)
    share = (_block(top[Columns.USER]) == _block(top[Columns.ITEM])).mean()
    assert share >= 0.95, share


def test_block_structure_popularity_baseline_fails(block_dataset: Dataset) -> None:
    """Control: global popularity cannot recover the blocks (so the test above can fail)."""
    hot = [u for u in block_dataset.user_map.external_ids if str(u).startswith("u")]
    rec = PopularRecommender().fit(block_dataset).recommend(hot, k=3)
    top = rec[rec[Columns.RANK] == 1]
    assert (_block(top[Columns.USER]) == _block(top[Columns.ITEM])).mean() < 0.6


def test_synthetic_planted_segments() -> None:
    """On the synthetic shop, recommendations follow each user's planted segment."""
    from persona_rec.sample_data.synthetic import synthetic

    data = synthetic(n_users=600, n_items=160, n_events=15_000, random_state=1)
    ds = data.dataset
    truth_user = data.user_truth["segment"]
    truth_item = data.item_truth["segment_affinity"]
    hot = ds.user_map.external_ids[ds.hot_user_mask()]
    chance = truth_item.value_counts(normalize=True).max()
    models = {
        "ease": EASERecommender(regularization=50.0),
        "als": ALSRecommender(factors=16, iterations=10, random_state=0),
        "knn": ItemKNNRecommender("bm25", k_neighbours=50),
        "segment": SegmentPopularRecommender(truth_user, shrinkage=5.0),
    }
    for name, model in models.items():
        rec = model.fit(ds).recommend(hot, k=10)
        match = (truth_user.reindex(rec[Columns.USER]).to_numpy()
                 == truth_item.reindex(rec[Columns.ITEM]).to_numpy()).mean()
        assert match > max(0.6, 2 * chance), (name, match, chance)
    # attribute-only users are served through the chain by their segment
    warm = ds.user_map.external_ids[~ds.hot_user_mask()]
    assert len(warm) > 0
    chain = FallbackChain([EASERecommender(50.0), SegmentPopularRecommender(truth_user),
                           PopularRecommender()]).fit(ds)
    rec = chain.recommend(warm, k=10)
    assert (rec[Columns.SOURCE] == "segment_popular").all()
    match = (truth_user.reindex(rec[Columns.USER]).to_numpy()
             == truth_item.reindex(rec[Columns.ITEM]).to_numpy()).mean()
    assert match > max(0.6, 2 * chance), match

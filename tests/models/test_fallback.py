"""FallbackChain: ordered composition, per-row source, filling to k."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    NotFittedError,
    UnknownIdError,
)
from persona_rec.models import (
    EASERecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    Recommender,
    SegmentPopularRecommender,
)


def _chain() -> FallbackChain:
    return FallbackChain(
        [
            ItemKNNRecommender("cosine", k_neighbours=3),
            ("by_region", SegmentPopularRecommender("region", shrinkage=0)),
            PopularRecommender(),
        ]
    )


def test_chain_serves_each_state_by_the_right_link(block_dataset: Dataset) -> None:
    chain = _chain().fit(block_dataset)
    assert chain.serves_hot and chain.serves_warm and chain.serves_cold
    rec = chain.recommend(["u0_0", "w1_0", "stranger"], k=20)
    assert rec.groupby(Columns.USER).size().to_dict() == {"u0_0": 20, "w1_0": 20, "stranger": 20}
    src = rec.groupby(Columns.USER)[Columns.SOURCE].apply(lambda s: list(dict.fromkeys(s)))
    # the hot user starts with kNN rows; with only 3 neighbours per item kNN runs short
    assert src["u0_0"][0] == "item_knn"
    assert "by_region" in src["u0_0"]
    # the warm user is served by segment popularity first (kNN cannot serve it)
    assert src["w1_0"][0] == "by_region"
    # the stranger: kNN cannot, segment popularity serves cold users with global shares
    assert src["stranger"] == ["by_region"]
    # ranks continue across links, no item twice
    for _, g in rec.groupby(Columns.USER):
        assert g[Columns.RANK].tolist() == list(range(1, 21))
        assert g[Columns.ITEM].is_unique
    # the warm user of region r1 gets block-1 items first
    first = rec[(rec[Columns.USER] == "w1_0") & (rec[Columns.RANK] <= 5)]
    assert first[Columns.ITEM].str.startswith("i1_").all()


def test_segment_link_without_global_fallback_passes_cold_users_on(block_dataset: Dataset) -> None:
    chain = FallbackChain([
        ItemKNNRecommender("cosine"),
        SegmentPopularRecommender("region", global_fallback=False),
        PopularRecommender(),
    ]).fit(block_dataset)
    rec = chain.recommend(["w1_0", "stranger"], k=5)
    src = rec.groupby(Columns.USER)[Columns.SOURCE].unique()
    assert src["w1_0"].tolist() == ["segment_popular"]
    assert src["stranger"].tolist() == ["popular"]


def test_rows_of_stronger_link_come_first(block_dataset: Dataset) -> None:
    knn = ItemKNNRecommender("cosine", k_neighbours=3).fit(block_dataset)
    alone = knn.recommend(["u2_4"], k=50)
    pop = PopularRecommender().fit(block_dataset)
    chain = FallbackChain([knn, pop], fit_links=False).fit(block_dataset)
    rec = chain.recommend(["u2_4"], k=50)
    n = len(alone)
    assert rec[Columns.ITEM].iloc[:n].tolist() == alone[Columns.ITEM].tolist()
    assert (rec[Columns.SOURCE].iloc[:n] == "item_knn").all()
    assert (rec[Columns.SOURCE].iloc[n:] == "popular").all()


def test_chain_unknown_policies(block_dataset: Dataset) -> None:
    chain = FallbackChain([EASERecommender(10.0)]).fit(block_dataset)
    with pytest.raises(UnknownIdError, match="no link of the FallbackChain serves 1 user"):
        chain.recommend(["u0_1", "zzz"], k=3)
    skipped = chain.recommend(["u0_1", "zzz"], k=3, on_unknown="skip")
    assert set(skipped[Columns.USER]) == {"u0_1"}
    assert skipped.attrs["unserved"] == ["zzz"]
    filled = chain.recommend(["u0_1", "zzz"], k=3, on_unknown="fallback")
    assert (filled.loc[filled[Columns.USER] == "zzz", Columns.SOURCE] == "fallback_popular").all()


def test_chain_filters_apply_to_every_link(block_dataset: Dataset) -> None:
    chain = _chain().fit(block_dataset)
    rec = chain.recommend(["u0_0", "w1_0", "x"], k=10, item_filter={"categories": "Block3"})
    assert rec[Columns.ITEM].str.startswith("i3_").all()
    assert len(rec) > 0


def test_chain_config_and_errors(block_dataset: Dataset, tmp_path) -> None:
    with pytest.raises(InvalidParameterError, match="non-empty list"):
        FallbackChain([])
    with pytest.raises(InvalidDtypeError, match=r"models\[1\]"):
        FallbackChain([PopularRecommender(), "popular"])
    with pytest.raises(InvalidParameterError, match="duplicated: \\['popular'\\]"):
        FallbackChain([PopularRecommender(), PopularRecommender(window_days=3)])
    with pytest.raises(NotFittedError, match="link 'popular' is not fitted"):
        FallbackChain([PopularRecommender()], fit_links=False).fit(block_dataset)
    chain = _chain()
    chain.fit(block_dataset)
    # the passed models are not modified when fit_links=True
    assert not chain.models[0].is_fitted
    loaded = Recommender.load(chain.save(tmp_path / "chain"))
    assert loaded.link_names_ == ["item_knn", "by_region", "popular"]
    ids = ["u0_0", "w1_0", "x"]
    pd.testing.assert_frame_equal(loaded.recommend(ids, k=12), chain.recommend(ids, k=12))


def test_chain_similar_items_from_first_capable_link(block_dataset: Dataset) -> None:
    chain = FallbackChain([PopularRecommender(), EASERecommender(10.0)]).fit(block_dataset)
    pd.testing.assert_frame_equal(chain.similar_items(["i2_0"], k=4),
                                  chain.links_[1].similar_items(["i2_0"], k=4))
    with pytest.raises(NotImplementedError, match="no link"):
        FallbackChain([PopularRecommender()]).fit(block_dataset).similar_items(["i2_0"])

"""One fill mechanism: ``fill_down`` serves FallbackChain links and a model's own fill.

The references below are the algorithms the fills used before they were
consolidated (a dense score row with the fill under the model's own scores;
the chain's pandas merge of its links' frames), so the lists are proved the
same on the bundled sample and on Online Retail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec import Columns
from persona_rec.sample_data import load_online_retail, load_sample
from persona_rec.models import (
    BuyAgainRecommender,
    FallbackChain,
    ItemKNNRecommender,
    PopularRecommender,
    Recommender,
    RepurchaseRecommender,
)
from persona_rec.models._request import RecommendRequest
from persona_rec.models.base import fill_down


# ------------------------------------------------------------------ fill_down itself
def _fill_down_reference(parts, k):
    """Plain Python: per user, rows of the parts in order, new items only, at most k."""
    out: dict[int, list] = {}
    for pos, items, scores, source in parts:
        for p, i, s in zip(pos, items, scores):
            rows = out.setdefault(int(p), [])
            if len(rows) < k and i not in [r[0] for r in rows]:
                rows.append((i, s, source))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=12),
                min_size=0, max_size=4), st.integers(1, 5))
def test_fill_down_equals_the_plain_reference(raw_parts, k):
    parts = []
    for j, rows in enumerate(raw_parts):
        rows = sorted(set(rows), key=lambda r: r[0])  # one row per (user, item); users grouped
        pos = np.array([r[0] for r in rows], dtype=np.int64)
        items = np.array([f"i{r[1]}" for r in rows], dtype=object)
        parts.append((pos, items, np.arange(len(rows), dtype=float), f"link{j}"))
    (pos, items, scores, source), counts = fill_down(parts, 5, k)
    want = _fill_down_reference(parts, k)
    got: dict[int, list] = {}
    for p, i, s, src in zip(pos, items, scores, source):
        got.setdefault(int(p), []).append((i, s, src))
    assert got == {p: rows for p, rows in want.items() if rows}
    assert counts.tolist() == [len(want.get(p, [])) for p in range(5)]
    assert (np.diff(pos) >= 0).all()


# -------------------------------------------------- a model's own fill, before and after
def _dense_fill_reference(model: Recommender, users, k: int, filter_seen: bool,
                          items=None) -> pd.DataFrame:
    """The pre-consolidation algorithm: one dense row per user, own scores over the fill."""
    idx = model.user_map_.to_internal(np.asarray(users, dtype=object))
    request = RecommendRequest(filter_seen=filter_seen)
    own = model._sparse_scores(idx, request).toarray()
    stored = model._sparse_scores(idx, request).toarray() != 0
    scores = np.where(stored, own, model._fill_scores(request)[None, :])
    if filter_seen:
        scores[model._history(idx, request).toarray() > 0] = -np.inf
    if items is not None:
        allowed = np.isin(model.item_map_.external_ids, items)
        scores[:, ~allowed] = -np.inf
    rows = []
    for u, row in zip(users, scores):
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        order = order[np.isfinite(row[order])]
        rows += [(u, model.item_map_.to_external(order[r:r + 1])[0], np.float32(row[o]), r + 1)
                 for r, o in enumerate(order)]
    return pd.DataFrame(rows, columns=[Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK])


def _check_fill(ds, users, models):
    some = list(ds.item_map.external_ids[::3])
    for model in models:
        model.fit(ds)
        for filter_seen in (False, True):
            for items in (None, some):
                got = model.recommend(users, k=10, filter_seen=filter_seen, items=items)
                want = _dense_fill_reference(model, users, 10, filter_seen, items)
                assert (got[Columns.SOURCE] == model.name).all()
                assert got[Columns.USER].tolist() == want[Columns.USER].tolist()
                assert got[Columns.ITEM].tolist() == want[Columns.ITEM].tolist()
                np.testing.assert_array_equal(got[Columns.SCORE].to_numpy(),
                                              want[Columns.SCORE].to_numpy(dtype=np.float32))
                assert got[Columns.RANK].tolist() == want[Columns.RANK].tolist()


def test_model_fill_equals_the_dense_fill_on_the_sample():
    ds = load_sample()
    users = list(ds.user_map.external_ids[ds.hot_user_mask()][:300])
    _check_fill(ds, users, [BuyAgainRecommender(fill="popular"),
                            BuyAgainRecommender(tie_break="recency", fill="popular"),
                            RepurchaseRecommender(random_state=0)])


@pytest.mark.filterwarnings("ignore::persona_rec.exceptions.DuplicateRowWarning")
def test_model_fill_equals_the_dense_fill_on_online_retail(online_retail_csv):
    ds = load_online_retail(online_retail_csv)
    rng = np.random.default_rng(0)
    users = list(rng.choice(ds.user_map.external_ids[ds.hot_user_mask()], 400, replace=False))
    _check_fill(ds, users, [BuyAgainRecommender(fill="popular"),
                            RepurchaseRecommender(random_state=0)])


# ----------------------------------------------------------- the chain, before and after
def _chain_reference(chain: FallbackChain, users, k: int, **kwargs) -> pd.DataFrame:
    """The pre-consolidation merge: links' frames concatenated, de-duplicated, re-ranked."""
    ids = pd.Index(pd.unique(np.asarray(users, dtype=object)))
    pieces, counts = [], np.zeros(len(ids), dtype=np.int64)
    for li, (name, model) in enumerate(zip(chain.link_names_, chain.links_)):
        needy = np.flatnonzero(counts < k)
        if not len(needy):
            break
        rec = model.recommend(ids[needy], k=k, on_unknown="skip", **kwargs)
        rec[Columns.SOURCE] = np.where(rec[Columns.SOURCE] == model.name, name,
                                       rec[Columns.SOURCE])
        pieces.append(rec.assign(_link=li))
        df = pd.concat(pieces, ignore_index=True)
        df["_pos"] = ids.get_indexer(df[Columns.USER])
        df = df.drop_duplicates([Columns.USER, Columns.ITEM], keep="first")
        df = df.sort_values(["_pos", "_link", Columns.RANK], kind="stable")
        df[Columns.RANK] = df.groupby("_pos", sort=False).cumcount().to_numpy() + 1
        df = df.loc[df[Columns.RANK] <= k]
        counts = np.bincount(df["_pos"], minlength=len(ids))
    cols = [Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK, Columns.SOURCE]
    return df[cols].reset_index(drop=True)


def test_chain_equals_the_pandas_merge_on_the_sample():
    ds = load_sample()
    chain = FallbackChain([RepurchaseRecommender(fill="none", random_state=0),
                           ItemKNNRecommender(), ("pop30", PopularRecommender(window_days=30)),
                           PopularRecommender()]).fit(ds)
    hot = list(ds.user_map.external_ids[ds.hot_user_mask()][:300])
    warm = list(ds.user_map.external_ids[~ds.hot_user_mask()][:20])
    for kwargs in ({"filter_seen": False}, {"filter_seen": True},
                   {"items": list(ds.item_map.external_ids[::4])}):
        got = chain.recommend(hot + warm + ["nobody"], k=10, **kwargs)
        want = _chain_reference(chain, hot + warm + ["nobody"], 10, **kwargs)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        own = {"repurchase"} if kwargs.get("filter_seen") is False else set()  # own items: seen
        assert set(got[Columns.SOURCE]) >= own | {"item_knn", "pop30"}
        assert got.attrs == {}  # the links' frame attributes do not leak into the chain's


def test_fallback_chain_is_a_recommender_back_half():
    # the chain serves through Recommender.recommend (one front half) and overrides _recommend
    assert "recommend" not in vars(FallbackChain) and "_recommend" in vars(FallbackChain)

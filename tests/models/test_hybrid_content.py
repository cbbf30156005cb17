"""ContentRecommender: new items, time decay, warm users, planted segments, real sample."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from persona_rec import Columns, Dataset
from persona_rec.sample_data import load_sample, synthetic
from persona_rec.exceptions import InvalidParameterError
from persona_rec.models.content import ContentRecommender

T0 = pd.Timestamp("2024-01-01")


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": ["mug1", "mug2", "mug_new", "car1", "car2", "car_new", "lamp"],
        "category": ["Home > Kitchen > Mugs"] * 3 + ["Toys > Vehicles > Cars"] * 3
        + ["Home > Decor > Lamps"],
        "brand": ["Acme", "Acme", "Acme", "Zoom", "Zoom", "Zoom", "Lux"],
        "price": [5.0, 6.0, 5.5, 20.0, 25.0, 22.0, 40.0],
        "title": ["blue ceramic mug", "red ceramic mug", "green ceramic mug with lid",
                  "red race car", "blue police car", "yellow race car", "desk lamp"],
    })


def _interactions() -> pd.DataFrame:
    rows = [("mug_fan", "mug1", T0), ("mug_fan", "mug2", T0 + pd.Timedelta(days=1)),
            ("car_fan", "car1", T0), ("car_fan", "car2", T0 + pd.Timedelta(days=2)),
            ("switcher", "car1", T0), ("switcher", "car2", T0 + pd.Timedelta(days=1)),
            ("switcher", "mug1", T0 + pd.Timedelta(days=200))]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def test_new_items_without_interactions_are_recommended() -> None:
    ds = Dataset.from_frames(_interactions(), items=_catalogue())
    assert not ds.hot_item_mask()[ds.item_map.to_internal(["mug_new"])][0]
    model = ContentRecommender().fit(ds)
    rec = model.recommend(["mug_fan", "car_fan"], k=1)
    assert dict(zip(rec[Columns.USER], rec[Columns.ITEM])) == {
        "mug_fan": "mug_new", "car_fan": "car_new"}
    # the new mug is most similar to the other mugs
    sim = model.similar_items(["mug_new"], k=2)
    assert set(sim["similar_item_id"]) == {"mug1", "mug2"}


def test_explain_names_shared_terms() -> None:
    ds = Dataset.from_frames(_interactions(), items=_catalogue())
    model = ContentRecommender().fit(ds)
    exp = model.explain(model.recommend(["mug_fan"], k=1), n_terms=2)
    terms = exp["top_terms"].iloc[0].split("; ")
    assert len(terms) == 2
    assert set(terms) <= {"mug", "ceramic", "category_l3=home/kitchen/mugs",
                          "category_l2=home/kitchen", "category_l1=home", "brand=acme"}


def test_time_decay_favours_recent_interest() -> None:
    ds = Dataset.from_frames(_interactions(), items=_catalogue())
    decayed = ContentRecommender(half_life_days=30).fit(ds)
    flat = ContentRecommender(half_life_days=None).fit(ds)
    top_decayed = decayed.recommend(["switcher"], k=1)[Columns.ITEM].iloc[0]
    top_flat = flat.recommend(["switcher"], k=1)[Columns.ITEM].iloc[0]
    assert top_decayed in {"mug2", "mug_new"}  # the recent mug purchase dominates
    assert top_flat == "car_new"  # two cars outweigh one mug without decay


def test_warm_users_served_from_attribute_centroids(block_dataset: Dataset) -> None:
    from .conftest import block_of  # type: ignore[import-not-found]

    model = ContentRecommender().fit(block_dataset)
    warm = [f"w{b}_{j}" for b in range(4) for j in range(3)]
    rec = model.recommend(warm, k=5)
    assert set(rec[Columns.USER]) == set(warm)
    share = (block_of(rec[Columns.USER]) == block_of(rec[Columns.ITEM])).mean()
    assert share > 0.9


def test_user_vectors_live_in_term_space() -> None:
    ds = Dataset.from_frames(_interactions(), items=_catalogue())
    model = ContentRecommender().fit(ds)
    vecs, terms = model.user_vectors(["mug_fan"])
    row = vecs.toarray()[0]
    top_terms = set(terms[np.argsort(-row)[:6]])
    assert "attr:category_l3=home/kitchen/mugs" in top_terms
    assert np.isclose(np.linalg.norm(row), 1.0)


def test_planted_segments_on_synthetic() -> None:
    sd = synthetic(n_users=400, n_items=200, n_events=20_000, random_state=0)
    ds = sd.dataset
    hot = ds.user_map.external_ids[ds.hot_user_mask()][:150]
    rec = ContentRecommender().fit(ds).recommend(hot, k=10)
    seg_u = sd.user_truth.loc[rec[Columns.USER], "segment"].to_numpy()
    seg_i = sd.item_truth.loc[rec[Columns.ITEM], "segment_affinity"].to_numpy()
    assert (seg_u == seg_i).mean() > 0.8  # chance is about 0.25


def test_real_sample_descriptions() -> None:
    """On the Online Retail sample, item text drives similarity (real descriptions)."""
    ds = load_sample()
    model = ContentRecommender().fit(ds)
    items = ds.item_attributes()
    mugs = items.index[items["description"].str.contains("ALARM CLOCK BAKELIKE", na=False)]
    sim = model.similar_items([mugs[0]], k=3)
    descr = items.loc[sim["similar_item_id"], "description"]
    assert descr.str.contains("ALARM CLOCK").all()


def test_no_text_or_attributes_warns() -> None:
    inter = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"],
                          "timestamp": [T0] * 3})
    with pytest.warns(UserWarning, match="no text or attribute columns"):
        model = ContentRecommender().fit(Dataset.from_frames(inter))
    rec = model.recommend([2], k=2, filter_seen=False)
    assert rec[Columns.ITEM].tolist() == ["a"]


def test_bad_parameters() -> None:
    with pytest.raises(InvalidParameterError, match="text_weight > 0 or attribute_weight > 0"):
        ContentRecommender(text_weight=0, attribute_weight=0)
    with pytest.raises(InvalidParameterError, match="'half_life_days'"):
        ContentRecommender(half_life_days=0)
    with pytest.raises(InvalidParameterError, match="'min_df'"):
        ContentRecommender(min_df=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ContentRecommender(max_features=10)

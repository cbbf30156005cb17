"""LightFMRecommender: identity/normalisation trap, warm users, new items, feature sources."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

# the [lightfm] extra; the minimum-versions environment of .ci/run runs without it
pytest.importorskip("lightfm", reason="rectools-lightfm (persona-rec[lightfm]) not installed")

from persona_rec import Columns, Dataset  # noqa: E402
from persona_rec.sample_data import synthetic  # noqa: E402
from persona_rec.exceptions import InvalidParameterError  # noqa: E402
from persona_rec.models.lightfm import LightFMRecommender  # noqa: E402

from .conftest import block_of  # type: ignore[import-not-found]  # noqa: E402


def _recall(model: Any, test: pd.DataFrame, k: int = 10) -> float:
    users = test[Columns.USER].unique()
    rec = model.recommend(users, k=k)
    truth = test[[Columns.USER, Columns.ITEM]].drop_duplicates()
    hits = rec.merge(truth, on=[Columns.USER, Columns.ITEM]).groupby(Columns.USER).size()
    n = truth.groupby(Columns.USER).size()
    return float((hits.reindex(n.index, fill_value=0) / np.minimum(n, k)).mean())


@pytest.fixture(scope="module")
def synthetic_split() -> tuple[Dataset, pd.DataFrame]:
    """Synthetic shop, last 60 days held out (new user-item pairs of known users)."""
    ds = synthetic(n_users=600, n_items=300, n_events=30_000, random_state=0).dataset
    cut = ds.time_range[1] - pd.Timedelta(days=60)
    train = ds.filter_time(end=cut)
    test = ds.interactions
    test = test[test[Columns.TIMESTAMP] >= cut]
    seen = train.interactions[[Columns.USER, Columns.ITEM]].drop_duplicates()
    test = test.merge(seen, how="left", indicator=True)
    test = test[test["_merge"] == "left_only"]
    hot = train.user_map.external_ids[train.hot_user_mask()]
    return train, test[test[Columns.USER].isin(hot)]


def test_identity_and_normalisation_avoid_the_feature_trap(
    synthetic_split: tuple[Dataset, pd.DataFrame],
) -> None:
    train, test = synthetic_split
    default = _recall(LightFMRecommender(epochs=20).fit(train), test)
    no_identity = _recall(
        LightFMRecommender(epochs=20, user_identity=False, item_identity=False).fit(train), test)
    no_norm = _recall(LightFMRecommender(epochs=20, normalize=False).fit(train), test)
    pure_cf = _recall(
        LightFMRecommender(epochs=20, user_features="none", item_features=False).fit(train), test)
    # features alone (no identity) lose the collaborative signal
    assert default > no_identity + 0.05, (default, no_identity)
    # unnormalised rows let the many feature columns drown the identity column
    assert default > no_norm + 0.03, (default, no_norm)
    # with identity + normalisation, side features help rather than hurt
    assert default > pure_cf, (default, pure_cf)


def test_feature_layout(block_dataset: Dataset) -> None:
    model = LightFMRecommender(no_components=8, epochs=3).fit(block_dataset)
    names = model.user_feature_names_.tolist()
    n_hot = int(block_dataset.hot_user_mask().sum())
    ident = [n for n in names if n.startswith("user_id=")]
    assert len(ident) == n_hot  # attribute-only users get no (untrained) identity column
    assert "user_id=w0_0" not in names and "user_id=u0_0" in names
    assert "region=r0" in names and not any(n.startswith("age=") for n in names)  # sensitive
    assert "category_l1=block0" in model.item_feature_names_.tolist()
    assert model.user_repr_.shape == (block_dataset.n_users, 8)
    sens = LightFMRecommender(no_components=8, epochs=3, include_sensitive=True).fit(block_dataset)
    assert any(n.startswith("age=") for n in sens.user_feature_names_.tolist())


def test_warm_users_served_by_features(block_dataset: Dataset) -> None:
    model = LightFMRecommender(no_components=16, epochs=30, random_state=1).fit(block_dataset)
    warm = [f"w{b}_{j}" for b in range(4) for j in range(3)]
    assert set(block_dataset.user_state(warm)) == {"warm"}
    rec = model.recommend(warm, k=5)
    assert set(rec[Columns.USER]) == set(warm)
    share = (block_of(rec[Columns.USER]) == block_of(rec[Columns.ITEM])).mean()
    assert share > 0.8


def test_new_items_served_by_attributes(block_frames: Any) -> None:
    inter, users, items = block_frames
    new = pd.DataFrame({"item_id": ["new_b2"], "category": ["Block2 > Sub0"],
                        "brand": ["brand0"], "price": [10.0], "in_stock": [True]})
    ds = Dataset.from_frames(inter, users=users, items=pd.concat([items, new]))
    model = LightFMRecommender(no_components=16, epochs=30, random_state=1).fit(ds)
    assert "item_id=new_b2" not in model.item_feature_names_.tolist()
    block2 = [f"u2_{j}" for j in range(20)]
    rec = model.recommend(block2, k=15, items=["new_b2", "i0_0", "i1_0", "i3_0"])
    firsts = rec[rec[Columns.RANK] == 1][Columns.ITEM]
    assert (firsts == "new_b2").mean() > 0.8
    plain = LightFMRecommender(no_components=16, epochs=5, item_features=False).fit(ds)
    assert "new_b2" not in set(plain.recommend(block2, k=100)[Columns.ITEM])


def test_profile_and_tag_features(block_dataset: Dataset, block_profiles: Any) -> None:
    model = LightFMRecommender(no_components=8, epochs=5,
                               user_features=["profile", "tags"]).fit(block_dataset,
                                                                      block_profiles)
    names = model.user_feature_names_.tolist()
    assert any(n.startswith("profile:") for n in names)
    assert any(n.startswith("tag:") for n in names)
    assert not any(n.startswith("tag:basic/age") for n in names)  # sensitive tags left out
    auto = LightFMRecommender(no_components=8, epochs=3).fit(block_dataset, block_profiles)
    assert any(n.startswith("profile:") for n in auto.user_feature_names_.tolist())
    with pytest.raises(InvalidParameterError, match="needs profiles"):
        LightFMRecommender(user_features=["tags"]).fit(block_dataset)


def test_seed_controls_training(block_dataset: Dataset) -> None:
    a = LightFMRecommender(no_components=8, epochs=3, random_state=5).fit(block_dataset)
    b = LightFMRecommender(no_components=8, epochs=3, random_state=5).fit(block_dataset)
    c = LightFMRecommender(no_components=8, epochs=3, random_state=6).fit(block_dataset)
    np.testing.assert_array_equal(a.user_repr_, b.user_repr_)
    assert not np.allclose(a.user_repr_, c.user_repr_)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"loss": "hinge"}, "'loss'.*one of"),
        ({"user_features": "demographics"}, "'user_features'"),
        ({"user_features": ["profile", "wishes"]}, "'user_features'"),
        ({"no_components": 0}, "'no_components'.*>= 1"),
        ({"normalize": 1}, "'normalize'.*bool"),
    ],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        LightFMRecommender(**kwargs)


def test_explain_names_profile_features(block_dataset: Dataset, block_profiles: Any) -> None:
    model = LightFMRecommender(no_components=16, epochs=30, user_features=["profile", "tags"],
                               random_state=1).fit(block_dataset, block_profiles)
    users = [f"u{b}_{j}" for b in range(4) for j in range(3)] + ["w2_0"]
    exp = model.explain(model.recommend(users, k=2), n_features=3)
    assert list(exp.columns[-1:]) == ["top_features"]
    hot = exp[exp[Columns.USER].str.startswith("u")]
    own_block = [f"block{b}" in t for b, t in zip(block_of(hot[Columns.USER]), hot["top_features"])]
    assert np.mean(own_block) > 0.8  # the user's own category interest drives the row
    assert not exp["top_features"].str.contains("user_id=").any()
    warm = exp[exp[Columns.USER] == "w2_0"]["top_features"]
    assert warm.str.contains("region").all()  # attribute-only: served by region


def test_missing_lightfm_is_a_typed_error(monkeypatch: pytest.MonkeyPatch,
                                          block_dataset: Dataset) -> None:
    import sys

    from persona_rec.exceptions import MissingDependencyError

    monkeypatch.setitem(sys.modules, "lightfm", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"persona-rec\[lightfm\]"):
        LightFMRecommender(no_components=4, epochs=1).fit(block_dataset)
    with pytest.raises(ImportError):  # subclasses the builtin
        LightFMRecommender(no_components=4, epochs=1).fit(block_dataset)


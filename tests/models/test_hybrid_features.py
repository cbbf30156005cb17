"""Shared feature helpers of the hybrid models (persona_rec.models._features)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec import Dataset
from persona_rec.exceptions import InvalidParameterError
from persona_rec.models._features import (
    category_levels,
    item_attribute_features,
    item_documents,
    normalize_rows,
    price_band_labels,
    resolve_user_sources,
    slug,
    user_attribute_features,
    user_side_features,
    with_identity,
)
from persona_rec.profiles._context import slugify


@pytest.mark.parametrize("text", ["Home & Garden", "  Mugs ", "Kids' Toys/Games", "A--B"])
def test_slug_matches_profiles(text: str) -> None:
    assert slug(text) == slugify(text)


def test_category_levels_and_price_bands() -> None:
    lv = category_levels(pd.Series(["Home > Kitchen > Mugs", "Home > Decor", None, "Toys"]))
    assert lv[0].tolist() == ["home", "home", None, "toys"]
    assert lv[1].tolist() == ["home/kitchen", "home/decor", None, None]
    assert lv[2].tolist() == ["home/kitchen/mugs", None, None, None]
    bands = price_band_labels(pd.Series(np.arange(1.0, 11.0)), n_bands=5)
    assert bands.tolist() == ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4", "p5", "p5"]


def test_item_features_and_documents(block_dataset: Dataset) -> None:
    X, names = item_attribute_features(block_dataset)
    assert X.shape == (block_dataset.n_items, len(names))
    # every item: one l1, one l2, one brand, one price band
    np.testing.assert_array_equal(np.asarray(X.sum(axis=1)).ravel(), 4.0)
    text, tokens = item_documents(block_dataset)
    i = block_dataset.item_map.to_internal(["i2_4"])[0]
    assert "category_l1=block2" in tokens[i] and "category_l2=block2/sub1" in tokens[i]
    assert text[i] == ""  # the block items have no title


def test_user_attribute_features_respect_sensitivity(block_dataset: Dataset) -> None:
    X, names = user_attribute_features(block_dataset)
    assert names == ["region=r0", "region=r1", "region=r2", "region=r3"]
    Xs, names_s = user_attribute_features(block_dataset, include_sensitive=True)
    ages = [n for n in names_s if n.startswith("age=")]
    assert 1 < len(ages) <= 5  # a numeric column with many values is cut into quantile bins
    np.testing.assert_array_equal(np.asarray(Xs.sum(axis=1)).ravel(), 2.0)


def test_identity_and_normalisation() -> None:
    X = sp.csr_matrix(np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    out, names = with_identity(X, ["f=a", "f=b"], np.array([True, False, True]), "user_id",
                               np.array(["x", "y", "z"], dtype=object))
    assert names == ["user_id=x", "user_id=z", "f=a", "f=b"]
    assert out.toarray().tolist() == [[1, 0, 1, 1], [0, 0, 0, 0], [0, 1, 0, 3]]
    l1 = normalize_rows(out, "l1").toarray()
    np.testing.assert_allclose(l1.sum(axis=1), [1.0, 0.0, 1.0])
    l2 = normalize_rows(out, "l2").toarray()
    np.testing.assert_allclose(np.linalg.norm(l2, axis=1), [1.0, 0.0, 1.0], rtol=1e-6)
    with pytest.raises(InvalidParameterError, match="'norm'.*'l1', 'l2' or None"):
        normalize_rows(out, "max")


def test_user_side_features_align_with_profiles(block_dataset: Dataset,
                                                block_profiles: Any) -> None:
    X, names = user_side_features(block_dataset, block_profiles, sources=("profile",))
    P, pnames = block_profiles.features()
    assert names == [f"profile:{n}" for n in pnames]
    # rows follow the Dataset's user order, whatever the order of the profile frame
    for uid in ("u3_5", "w1_2"):
        i = block_dataset.user_map.to_internal([uid])[0]
        j = block_profiles.frame.index.get_loc(uid)
        np.testing.assert_allclose(X[i].toarray(), P[j].toarray())
    A, anames = user_side_features(block_dataset, block_profiles, sources=("affinities",))
    assert "category_l1=block0" in anames
    i = block_dataset.user_map.to_internal(["u0_0"])[0]
    row = dict(zip(anames, A[i].toarray()[0]))
    assert max((v, k) for k, v in row.items() if k.startswith("category_l1="))[1] \
        == "category_l1=block0"


def test_resolve_user_sources() -> None:
    assert resolve_user_sources("auto", None) == ("attributes",)
    assert resolve_user_sources("auto", object()) == ("profile",)
    assert resolve_user_sources("none", None) == ()
    assert resolve_user_sources(["tags", "attributes"], None) == ("tags", "attributes")
    with pytest.raises(InvalidParameterError, match="'user_features'.*got 'x'"):
        resolve_user_sources("x", None)

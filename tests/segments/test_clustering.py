"""k-means segments: determinism, silhouette-chosen k, planted segment recovery, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
    NotFittedError,
)
from persona_rec.segments import KMeansSegmenter, kmeans_segments

from .conftest import FakeProfiles, planted_profiles


def blobs(k, n_per=60, dim=3, seed=0, spread=0.5):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 10, (k, dim))
    X = np.vstack([c + rng.normal(0, spread, (n_per, dim)) for c in centers])
    truth = np.repeat(np.arange(k), n_per)
    cols = [f"f{j}" for j in range(dim)]
    frame = pd.DataFrame(X, columns=cols, index=pd.Index(np.arange(len(X)) * 7, name="user_id"))
    return frame, truth, cols


@pytest.mark.parametrize("k", [3, 5])
def test_auto_k_picks_planted_k(k):
    frame, truth, cols = blobs(k, seed=k)
    seg = KMeansSegmenter(features=cols, users="all", k_range=(2, 8), log1p=False).fit(frame)
    assert seg.k_ == k
    assert max(seg.silhouette_, key=seg.silhouette_.get) == k
    assert set(seg.silhouette_) == set(range(2, 9))
    assert adjusted_rand_score(truth, seg.segmentation_.labels.astype(str)) == pytest.approx(1.0)


def test_determinism_with_random_state(planted):
    profiles, _ = planted
    a = KMeansSegmenter(n_clusters=5, random_state=3).fit_assign(profiles)
    b = KMeansSegmenter(n_clusters=5, random_state=3).fit_assign(profiles)
    assert a.labels.equals(b.labels)
    # clusters are named by size, largest first
    sizes = a.sizes().drop("inactive")
    assert list(sizes.index) == [f"cluster_{i}" for i in range(1, 6)]
    assert sizes.is_monotonic_decreasing


def test_recovers_planted_affinity_segments_with_defaults(planted):
    profiles, truth = planted
    seg = kmeans_segments(profiles)
    active = truth >= 0
    assert seg.info["k"] == 4
    ari = adjusted_rand_score(truth[active], seg.labels.to_numpy()[active].astype(str))
    assert ari >= 0.8
    # users without events are not clustered: they form the "inactive" segment
    assert (seg.labels[~active] == "inactive").all()
    assert seg.info["n_left_out"] == 20


def test_users_all_and_no_inactive_label(planted):
    profiles, truth = planted
    seg = KMeansSegmenter(n_clusters=4, inactive_label=None).fit_assign(profiles)
    assert seg.labels[truth < 0].isna().all()
    seg = KMeansSegmenter(n_clusters=5, users="all").fit_assign(profiles)
    assert seg.labels.notna().all() and "inactive" not in seg.segments


def test_features_all_and_svd(planted):
    profiles, truth = planted
    active = truth >= 0
    seg = KMeansSegmenter(features="all", svd_components=8, k_range=(2, 6)).fit_assign(profiles)
    assert adjusted_rand_score(truth[active], seg.labels.to_numpy()[active].astype(str)) >= 0.8


def test_predict_on_refreshed_profiles(planted):
    profiles, _ = planted
    model = KMeansSegmenter(n_clusters=4).fit(profiles)
    again = model.predict(profiles)
    assert again.labels.equals(model.segmentation_.labels)
    with pytest.raises(NotFittedError, match="call fit"):
        KMeansSegmenter().predict(profiles)


def test_frame_columns_with_nan_imputed(planted):
    profiles, _ = planted
    seg = KMeansSegmenter(features=["recency_days", "frequency"], n_clusters=3).fit(profiles)
    assert seg.info_["n_imputed"] == 0  # users with NaN recency have no events: not clustered
    seg = KMeansSegmenter(features=["recency_days", "frequency"], n_clusters=3, users="all").fit(profiles)
    assert seg.info_["n_imputed"] == 20


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"k_range": (1, 5)}, InvalidParameterError, r"'k_range' parameter of KMeansSegmenter must be a pair"),
        ({"k_range": (6, 3)}, InvalidParameterError, r"2 <= k_min <= k_max, got \(6, 3\)"),
        ({"k_range": (2.0, 3)}, InvalidParameterError, "k_range"),
        ({"n_clusters": 1}, InvalidParameterError, r"'n_clusters' parameter of KMeansSegmenter must be an int >= 2, got 1"),
        ({"features": "rfm"}, InvalidParameterError, r"'features' parameter of KMeansSegmenter must be one of"),
        ({"features": []}, InvalidParameterError, "non-empty list of profile column names"),
        ({"scaling": "minmax"}, InvalidParameterError, r"'scaling' parameter"),
        ({"users": "hot"}, InvalidParameterError, r"'users' parameter"),
        ({"svd_components": 0}, InvalidParameterError, r"'svd_components'"),
        ({"features": ["nope"]}, MissingColumnError, r"\['nope'\]"),
        ({"n_clusters": 2000}, InvalidParameterError, r"750 user\(s\) to cluster"),
    ],
)
def test_bad_configuration(planted, params, error, match):
    profiles, _ = planted
    with pytest.raises(error, match=match):
        KMeansSegmenter(**params).fit(profiles)


def test_bad_profiles(planted):
    profiles, _ = planted
    with pytest.raises(InvalidDtypeError, match="needs a Profiles object with .affinities"):
        KMeansSegmenter().fit(profiles.frame)
    empty = FakeProfiles(profiles.frame, {"brand": profiles.affinities["category_l1"]})
    with pytest.raises(EmptyInputError, match=r"none of affinity_kinds=\['category_l1', 'category_l2'\]"):
        KMeansSegmenter().fit(empty)
    sens = FakeProfiles(profiles.frame, sensitive_columns=frozenset({"monetary"}))
    with pytest.raises(InvalidParameterError, match=r"sensitive column\(s\) \['monetary'\]"):
        KMeansSegmenter(features=["monetary"]).fit(sens)


def test_get_params_round_trip():
    model = KMeansSegmenter(n_clusters=3, features=["a"], random_state=5)
    assert KMeansSegmenter(**model.get_params()).get_params() == model.get_params()
    assert not hasattr(model, "k_")


def test_k_search_on_a_sample_then_refit_on_all(planted):
    profiles, truth = planted
    model = KMeansSegmenter(k_sample_size=300, k_range=(2, 6)).fit(profiles)
    assert model.info_["k_searched_on"] == 300
    assert model.k_ == 4
    active = truth >= 0
    labels = model.segmentation_.labels.to_numpy()
    assert adjusted_rand_score(truth[active], labels[active].astype(str)) >= 0.8
    again = KMeansSegmenter(k_sample_size=300, k_range=(2, 6)).fit(profiles)
    assert again.segmentation_.labels.equals(model.segmentation_.labels)
    with pytest.raises(InvalidParameterError, match=r"'k_sample_size' parameter of KMeansSegmenter must be an int >= 100"):
        KMeansSegmenter(k_sample_size=5).fit(profiles)

"""Segmentation on real Profiles/UserTags: the synthetic generator and Online Retail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from persona_rec.sample_data import load_online_retail, synthetic
from persona_rec.profiles import ProfileBuilder
from persona_rec.segments import (
    SUPPRESSED,
    KMeansSegmenter,
    RFMSegmentMap,
    RuleSegmenter,
    kmeans_segments,
    rfm_segments,
)
from persona_rec.demo.segments import segments_section
from persona_rec.tags import Tagger, Taxonomy


@pytest.fixture(scope="module")
def syn():
    data = synthetic(random_state=0)
    profiles = ProfileBuilder.default().build(data.dataset)
    user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    truth = data.user_truth["segment"].reindex(profiles.frame.index).to_numpy()
    return profiles, user_tags, truth


@pytest.mark.parametrize(("n_segments", "seed"), [(4, 0), (6, 1)])
def test_kmeans_defaults_recover_planted_segments(n_segments, seed):
    data = synthetic(n_segments=n_segments, random_state=seed)
    profiles = ProfileBuilder.default().build(data.dataset)
    truth = data.user_truth["segment"].reindex(profiles.frame.index).to_numpy()
    seg = kmeans_segments(profiles)  # defaults: category affinities, k by silhouette in 2..10
    assert seg.info["k"] == n_segments
    # users with events are clustered; attribute-only users have no behaviour to cluster
    active = (seg.labels != "inactive").to_numpy()
    assert active.sum() == (profiles.frame["n_events"] > 0).sum()
    ari = adjusted_rand_score(truth[active], seg.labels[active].astype(str))
    assert ari >= 0.8


def test_kmeans_on_all_features_with_svd(syn):
    profiles, _, truth = syn
    seg = KMeansSegmenter(features="all", svd_components=20, k_range=(2, 8)).fit_assign(profiles)
    active = (seg.labels != "inactive").to_numpy()
    assert seg.info["k"] == 4
    assert adjusted_rand_score(truth[active], seg.labels[active].astype(str)) >= 0.8


def test_rfm_on_real_profiles_matches_grid_lookup(syn):
    profiles, _, _ = syn
    frame = profiles.frame
    seg = rfm_segments(profiles)
    grid = RFMSegmentMap().grid()
    # independent lookup: FM = floor((f + m) / 2 + 0.5)
    bought = frame["r_score"].notna()
    fm = np.floor((frame["f_score"] + frame["m_score"]) / 2 + 0.5)
    expected = pd.Series("prospect", index=frame.index, dtype=object)
    expected[bought] = [grid.loc[int(r), int(x)] for r, x in zip(frame["r_score"][bought], fm[bought])]
    assert (seg.labels.astype(object) == expected).all()
    assert seg.sizes()["prospect"] == int(frame["frequency"].isna().sum() + (frame["frequency"] == 0).sum())
    # champions bought more recently and more often than the population
    table = seg.feature_means(profiles, ["recency_days", "frequency"])
    assert table.loc["champions", "recency_days"] < table.loc["overall", "recency_days"]
    assert table.loc["champions", "frequency"] > table.loc["lost", "frequency"]


def test_rules_on_real_user_tags(syn):
    profiles, user_tags, _ = syn
    rules = [
        ("save_vips", "high_value & (churn_risk | churned)"),
        ("vips", "high_value"),
        ("bargain", "price_sensitive & !high_value"),
        ("newcomers", "new_user | lifecycle/prospect"),
    ]
    seg = RuleSegmenter(rules).assign(user_tags)
    masks = [user_tags.mask(expr) for _, expr in rules]
    taken = np.zeros(len(masks[0]), dtype=bool)
    for (name, _), mask in zip(rules, masks):
        mine = mask & ~taken
        assert (seg.labels.to_numpy()[mine] == name).all()
        taken |= mask
    assert (seg.labels.to_numpy()[~taken] == "other").all()
    table = seg.describe(profiles, user_tags, min_size=10).set_index("segment")
    # price-sensitive rule segment: the price_sensitivity feature stands out
    feats = [c for c, _, _ in table.loc["bargain", "top_features"]]
    assert "price_sensitivity" in feats or "discount_share" in feats
    # sensitive tags (gender, age band) are never named by default
    named = {t for tags in table["top_tags"] for t, _, _ in tags}
    assert not named & user_tags.sensitive_ids


def test_demo_section(syn, tmp_path):
    profiles, user_tags, _ = syn
    text = segments_section(profiles, user_tags, plot_path=tmp_path / "seg.png")
    assert "RFM segments" in text and "champions" in text
    assert "k-means" in text and "cluster_1" in text
    assert (tmp_path / "seg.png").read_bytes()[:4] == b"\x89PNG"


def test_online_retail(online_retail_csv, tmp_path):
    ds = load_online_retail(online_retail_csv)
    profiles = ProfileBuilder.default().build(ds)
    user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    seg = rfm_segments(profiles)
    sizes = seg.sizes()
    assert int(sizes.sum()) == ds.n_users
    # every Online Retail customer in the cleaned data has a purchase: no prospects
    assert sizes["prospect"] == int(profiles.frame["r_score"].isna().sum())
    table = seg.describe(profiles, user_tags).set_index("segment")
    means = seg.feature_means(profiles, ["recency_days", "frequency", "monetary"])
    # the grid's ordering shows in the data
    assert means.loc["champions", "recency_days"] < means.loc["at_risk", "recency_days"]
    assert means.loc["champions", "monetary"] > means.loc["lost", "monetary"]
    assert table.loc["new", "size"] > 0 and "new_user" in [t for t, _, _ in table.loc["new", "top_tags"]]
    km = KMeansSegmenter(k_range=(2, 6)).fit(profiles)
    assert 2 <= km.k_ <= 6
    km.segmentation_.plot(tmp_path / "or.png", profiles)
    assert (tmp_path / "or.png").stat().st_size > 10_000
    small = km.segmentation_.describe(profiles, user_tags, min_size=ds.n_users)
    assert small["segment"].tolist() == [SUPPRESSED]

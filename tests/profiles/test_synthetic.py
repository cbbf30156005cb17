"""Planted signals of the synthetic generator are recovered by the profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.sample_data import synthetic
from persona_rec.profiles import ProfileBuilder


@pytest.fixture(scope="module", params=[0, 2])
def planted(request):
    data = synthetic(random_state=request.param)
    prof = ProfileBuilder.default().build(data.dataset)
    truth = data.user_truth.reindex(prof.frame.index)
    return prof, truth


def precision_recall(pred: pd.Series, truth: pd.Series) -> tuple[float, float]:
    tp = int((pred & truth).sum())
    return tp / max(int(pred.sum()), 1), tp / max(int(truth.sum()), 1)


def test_planted_price_sensitive_users_recovered(planted):
    prof, truth = planted
    f = prof.frame
    buyers = f["price_sensitivity"].notna()  # users with at least one purchase
    pred = (f["price_sensitivity"] >= 0.6) & buyers
    p, r = precision_recall(pred, truth["price_sensitive"].astype(bool) & buyers)
    assert p >= 0.9 and r >= 0.9, (p, r)


def test_planted_novelty_seekers_and_churners(planted):
    prof, truth = planted
    f = prof.frame
    buyers = f["frequency"].notna()
    nov = f.loc[buyers].groupby(truth.loc[buyers, "novelty_seeker"])["novelty_seeking"].mean()
    assert nov[True] > 0.4 > 0.05 > nov[False]
    pred = (f["lifecycle_stage"] == "churned") & buyers
    p, r = precision_recall(pred, truth["is_churned"].astype(bool) & buyers)
    assert p >= 0.9 and r >= 0.8, (p, r)


def test_repurchase_interval_tracks_planted_cycle(planted):
    prof, truth = planted
    both = pd.DataFrame({"est": prof.frame["repurchase_interval_days"],
                         "cycle": truth["cycle_days"]}).dropna()
    assert len(both) > 300
    assert both.corr(method="spearman").iloc[0, 1] > 0.85


def test_affinity_follows_planted_segment_categories(planted):
    prof, truth = planted
    l1, names = prof.affinities["category_l1"]
    hot = prof.frame["n_events"].to_numpy() > 0
    seg = truth["segment"].to_numpy()
    # users of one planted segment share their top level-1 categories
    mean_aff = np.vstack([np.asarray(l1[hot & (seg == s)].mean(axis=0)).ravel()
                          for s in np.unique(seg[hot])])
    top = mean_aff.argmax(axis=1)
    assert len(set(top.tolist())) == len(top)  # each segment has its own favourite category
    assert (mean_aff.max(axis=1) > 2 * np.median(mean_aff, axis=1)).all()

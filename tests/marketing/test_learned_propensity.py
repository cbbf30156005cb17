"""LearnedPropensity: time-respecting, calibrated purchase propensity from profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from persona_rec.sample_data import synthetic
from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    NotFittedError,
)
from persona_rec.marketing import LearnedPropensity, select_audience


@pytest.fixture(scope="module")
def data():
    return synthetic(n_users=800, n_items=150, n_events=30_000, random_state=0)


def _future_buyers(data, as_of, days, category=None):
    inter = data.dataset.interactions
    f = inter[(inter["timestamp"] >= as_of) & (inter["timestamp"] < as_of + pd.Timedelta(days=days))
              & (inter["event"] == "purchase")]
    if category is not None:
        cats = data.dataset.items.set_index("item_id")["category"]
        f = f[f["item_id"].map(cats).str.startswith(category)]
    return set(f["user_id"])


def test_predicts_next_window_purchases_on_planted_data(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    lp = LearnedPropensity(60).fit(data.dataset, as_of)
    assert lp.train_as_of_ == as_of - pd.Timedelta(days=60)
    p = lp.predict(data.dataset, as_of)
    assert p.name == "propensity" and p.between(0, 1).all() and p.index.is_unique
    y = p.index.isin(list(_future_buyers(data, as_of, 60)))
    assert roc_auc_score(y, p) > 0.75
    # calibrated: the mean probability is close to the realised purchase rate
    assert p.mean() == pytest.approx(y.mean(), abs=0.08)
    # planted churners get lower propensity
    churned = data.user_truth["is_churned"].reindex(p.index).to_numpy()
    assert p[churned].mean() < p[~churned].mean()


def test_category_propensity(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    lp = LearnedPropensity(60, category="Home").fit(data.dataset, as_of)
    p = lp.predict(data.dataset, as_of)
    y = p.index.isin(list(_future_buyers(data, as_of, 60, "Home")))
    assert roc_auc_score(y, p) > 0.8
    assert p.mean() < 0.2  # a category purchase is rarer than any purchase


def test_no_leakage_from_after_as_of(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    full = LearnedPropensity(60).fit(data.dataset, as_of).predict(data.dataset, as_of)
    cut = data.dataset.filter_time(end=as_of)
    past = LearnedPropensity(60).fit(cut, as_of).predict(cut, as_of)
    common = full.index.intersection(past.index)
    assert len(common) == len(past)
    np.testing.assert_allclose(full.loc[common], past.loc[common], rtol=1e-9, atol=1e-12)


def test_feeds_select_audience(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    p = LearnedPropensity(60).fit(data.dataset, as_of).predict(data.dataset, as_of)
    aud = select_audience(propensity=p, budget=100, min_audience_size=10)
    assert len(aud) == 100
    chosen = p.loc[aud["user_id"]]
    assert chosen.min() >= p.sort_values(ascending=False).iloc[99] - 1e-12


def test_errors(data) -> None:
    with pytest.raises(InvalidParameterError, match="'window_days' parameter of LearnedPropensity"):
        LearnedPropensity(0)
    with pytest.raises(InvalidParameterError, match="'calibration' parameter"):
        LearnedPropensity(calibration="platt")
    with pytest.raises(InvalidDtypeError, match="builder of LearnedPropensity"):
        LearnedPropensity(builder="default")
    with pytest.raises(NotFittedError, match="not fitted"):
        LearnedPropensity().predict(data.dataset)
    with pytest.raises(EmptyInputError, match="no user has an event before the feature date"):
        LearnedPropensity(60).fit(data.dataset, data.start + pd.Timedelta(days=10))
    with pytest.raises(InvalidValueError, match="each class needs at least cv=3"):
        LearnedPropensity(1).fit(data.dataset, data.start + pd.Timedelta(days=3, hours=1))

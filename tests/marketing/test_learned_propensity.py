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


def test_stacked_snapshots(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    one = LearnedPropensity(60, n_snapshots=1).fit(data.dataset, as_of)
    three = LearnedPropensity(60, n_snapshots=3, snapshot_step_days=30).fit(data.dataset, as_of)
    assert one.snapshots_ == [as_of - pd.Timedelta(days=60)]
    assert three.snapshots_ == [as_of - pd.Timedelta(days=d) for d in (60, 90, 120)]
    assert three.train_as_of_ == one.train_as_of_
    inter = data.dataset.interactions
    n_rows = sum(inter.loc[inter["timestamp"] < d, "user_id"].nunique() for d in three.snapshots_)
    assert one.n_train_ == inter.loc[inter["timestamp"] < one.snapshots_[0], "user_id"].nunique()
    assert three.n_train_ == n_rows
    # more label windows: the planted next-window buyers are ranked better
    aucs = []
    for lp in (one, three):
        p = lp.predict(data.dataset, as_of)
        y = p.index.isin(list(_future_buyers(data, as_of, 60)))
        aucs.append(roc_auc_score(y, p))
    assert aucs[1] > 0.8 and aucs[1] > aucs[0]


def test_snapshots_before_the_data_are_left_out_and_logged(data, caplog) -> None:
    as_of = data.start + pd.Timedelta(days=100)  # feature dates: +40 d, +10 d, -20 d
    with caplog.at_level("WARNING", logger="persona_rec"):
        lp = LearnedPropensity(60, n_snapshots=3).fit(data.dataset, as_of)
    assert lp.snapshots_ == [as_of - pd.Timedelta(days=60), as_of - pd.Timedelta(days=90)]
    assert "training snapshots 3-3 of n_snapshots=3" in caplog.text


def test_sigmoid_calibration_keeps_the_classifier_ranking(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    lp = LearnedPropensity(60).fit(data.dataset, as_of)
    x, names, _ = lp._features(data.dataset, as_of)
    cc = lp.model_.calibrated_classifiers_[0]
    clf = getattr(cc, "estimator", None) or cc.base_estimator  # renamed in scikit-learn 1.2
    score = clf.decision_function(lp._align(x, names))
    p = lp.predict(data.dataset, as_of).to_numpy()
    assert len(lp.model_.calibrated_classifiers_) == 1  # one classifier fitted on all rows
    order = np.argsort(score, kind="stable")
    assert (np.diff(p[order]) >= -1e-12).all()


def test_future_events_do_not_change_the_model(data) -> None:
    """Appending events at or after as_of changes neither training nor scores."""
    from persona_rec import Dataset

    ds = data.dataset
    as_of = data.end - pd.Timedelta(days=100)
    inter = ds.interactions
    later = inter[inter["timestamp"] < as_of].sample(2000, random_state=1)
    later = later.assign(timestamp=as_of + pd.to_timedelta(np.arange(2000) % 90, unit="D"))
    base = ds.filter_time(end=as_of)
    more = Dataset.from_frames(pd.concat([base.interactions, later], ignore_index=True),
                               users=base.users, items=base.items)
    p0 = LearnedPropensity(60).fit(base, as_of).predict(base, as_of)
    p1 = LearnedPropensity(60).fit(more, as_of).predict(more, as_of)
    pd.testing.assert_series_equal(p1.loc[p0.index], p0, rtol=1e-9, atol=1e-12)


def test_timing_features_switch(data) -> None:
    as_of = data.end - pd.Timedelta(days=60)
    on = LearnedPropensity(60, n_snapshots=1).fit(data.dataset, as_of)
    off = LearnedPropensity(60, n_snapshots=1, timing_features=False).fit(data.dataset, as_of)
    assert any(n.startswith("timing:") for n in on.feature_names_)
    assert not any(n.startswith("timing:") for n in off.feature_names_)
    params = on.get_params()
    assert params["n_snapshots"] == 1 and params["timing_features"] is True
    assert params["snapshot_step_days"] == 30.0
    assert "n_snapshots=1" in repr(on)


def test_new_parameter_errors() -> None:
    with pytest.raises(InvalidParameterError, match="'n_snapshots' parameter of LearnedPropensity"):
        LearnedPropensity(n_snapshots=0)
    with pytest.raises(InvalidParameterError, match="'n_snapshots'"):
        LearnedPropensity(n_snapshots=2.5)
    with pytest.raises(InvalidParameterError,
                       match="'snapshot_step_days' parameter of LearnedPropensity"):
        LearnedPropensity(snapshot_step_days=0)
    with pytest.raises(InvalidParameterError, match="'timing_features'"):
        LearnedPropensity(timing_features=1)

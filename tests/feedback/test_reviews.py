from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from persona_rec.sample_data.social import ISSUE_TOPICS, synthetic_social
from persona_rec.exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidValueError,
    MissingColumnError,
    NotFittedError,
)
from persona_rec.feedback import (
    SentimentModel,
    check_reviews,
    feedback_features,
    feedback_taxonomy_tags,
    issue_topics,
)
from persona_rec.marketing import Playbook
from persona_rec.tags import Tagger, Taxonomy, UserTags


@pytest.fixture(scope="module")
def data():
    return synthetic_social(2000, 300, 30_000, random_state=1)


def _r(**kw):
    base = {"user_id": ["a", "b"], "item_id": [1, 2], "timestamp": ["2024-01-01", "2024-01-02"],
            "text": ["ok", "bad"], "stars": [4, 2]}
    base.update(kw)
    return pd.DataFrame(base)


@pytest.mark.parametrize("frame, err, match", [
    (_r().drop(columns="text"), MissingColumnError, "missing column"),
    (_r(stars=[0, 3]), InvalidValueError, "'stars' must hold numbers in \\[1, 5\\]"),
    (_r(stars=["five", 3]), InvalidValueError, "'stars'"),
    (_r(timestamp=["2024-01-01", "soon"]), InvalidValueError, "unparseable"),
    (_r(user_id=["a", None]), InvalidValueError, "'user_id' must not hold missing"),
    (_r(text=["ok", 3]), InvalidDtypeError, "'text' must hold strings"),
])
def test_bad_reviews_raise_typed_errors(frame, err, match):
    with pytest.raises(err, match=match):
        check_reviews(frame)


def test_missing_stars_are_kept_as_nan_and_need_a_model():
    r = _r(stars=[4, None])
    assert np.isnan(check_reviews(r)["stars"].iloc[1])
    with pytest.raises(InvalidValueError, match="no stars; pass a fitted sentiment_model"):
        feedback_features(r)
    with pytest.raises(NotFittedError):
        SentimentModel().predict_proba(["x"])
    with pytest.raises(EmptyInputError, match="positive .* and negative"):
        SentimentModel().fit(_r(stars=[5, 4]))


def test_sentiment_model_recovers_planted_sentiment(data):
    r = data.reviews
    train = r[r["timestamp"] < data.start + pd.Timedelta(days=240)]
    test = r.drop(train.index)
    model = SentimentModel().fit(train)
    auc = roc_auc_score(test["positive"], model.predict_proba(test["text"]))
    assert auc >= 0.9
    terms = model.top_terms(20)
    assert "great" in set(terms["positive"]) and "positive" in terms.columns


def test_features_separate_planted_detractors_and_promoters(data):
    r = data.reviews.copy()
    # half of the stars are hidden: the sentiment model fills them in
    hide = np.random.default_rng(0).random(len(r)) < 0.5
    model = SentimentModel().fit(r[~hide])
    r.loc[hide, "stars"] = np.nan
    f = feedback_features(r, sentiment_model=model)
    truth = data.user_truth.reindex(f.index)["satisfaction"]
    means = f.groupby(truth)["feedback_satisfaction"].mean()
    assert means["detractor"] < 0.35 < 0.5 < means["passive"] < means["promoter"]
    ut = Tagger(Taxonomy(feedback_taxonomy_tags())).assign(f)
    det = ut.users_with("feedback/detractor")
    pro = ut.users_with("feedback/promoter")
    assert len(det) > 20 and (data.user_truth.loc[det, "satisfaction"] == "detractor").mean() >= 0.8
    assert len(pro) > 20 and (data.user_truth.loc[pro, "satisfaction"] == "detractor").mean() == 0


def test_issue_topics_recover_planted_item_issues(data):
    it = issue_topics(data.reviews, n_topics=len(ISSUE_TOPICS), random_state=0)
    main = it.main_topic()
    truth = data.item_truth["issue"].reindex(main.index)
    known = truth.notna()
    table = pd.crosstab(truth[known], main[known])
    purity = table.max(axis=1).sum() / table.to_numpy().sum()
    assert purity >= 0.9
    assert table.idxmax(axis=1).nunique() == len(ISSUE_TOPICS)  # one topic per planted issue
    battery_topic = table.loc["battery"].idxmax()
    assert any("battery" in t for t in it.topics.loc[battery_topic, "top_terms"])
    shares = it.item_topics.groupby("item_id")["share"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0, rtol=1e-6)


def test_playbook_gives_detractors_service_recovery_not_a_discount():
    tags = ["feedback/detractor", "price_sensitive", "high_value", "churned", "churn_risk", "new_user",
            "brand_loyal", "novelty_seeker"]
    m = np.zeros((3, len(tags)))
    m[0, [0, 1, 3]] = 1  # a churned, price-sensitive detractor
    m[1, 1] = 1
    m[2, 2] = 1
    ut = UserTags(sp.csr_matrix(m), ["d", "p", "h"], tags)
    pb = Playbook.default(feedback=True)
    tactics = pb.assign(ut, min_confidence=0.0).set_index("user_id")["tactic"]
    assert tactics.to_dict() == {"d": "service_recovery", "p": "discount", "h": "membership_perks"}
    assert Playbook.from_dict(pb.to_dict()).rules[0].tactic == "service_recovery"
    assert Playbook.default().rules[0].tactic == "win_back_offer"  # unchanged without feedback


@pytest.mark.parametrize("times", [
    [1704067200, 1704412800],  # epoch seconds: 2024-01-01, 2024-01-05
    [1704067200000, 1704412800000],  # epoch milliseconds
    ["2024-01-01T01:00+01:00", "2024-01-05T01:00+01:00"],
])
def test_feedback_times_are_read_like_the_dataset(times: list) -> None:
    r = pd.DataFrame({"user_id": ["a", "a"], "item_id": [1, 2], "timestamp": times,
                      "text": ["", ""], "stars": [5, 1]})
    assert check_reviews(r)["timestamp"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-05"]))
    f = feedback_features(r, as_of="2024-01-04")
    assert f["feedback_n_reviews"].to_dict() == {"a": 1}  # the 2024-01-05 review is in the future
    aware = feedback_features(r, as_of=pd.Timestamp("2024-01-04 01:00", tz="Europe/Paris"))
    pd.testing.assert_frame_equal(aware, f)

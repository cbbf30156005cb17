"""Customer feedback: reviews -> satisfaction features, issue topics, a sentiment model and tags.

* :func:`check_reviews` validates a review frame (typed errors);
* :class:`SentimentModel` learns P(positive) from the text of reviews *with*
  stars (TF-IDF + logistic regression) and scores reviews without stars;
* :func:`feedback_features` turns reviews into per-user profile columns
  (satisfaction, complaint share, review counts, recency);
* :func:`issue_topics` finds what customers complain about, per item (NMF over
  TF-IDF of negative reviews);
* :func:`feedback_taxonomy_tags` gives ``feedback/detractor`` and
  ``feedback/promoter`` tags over those columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._progress import get_logger
from .._validation import (
    as_timestamp,
    as_timestamps,
    check_frame,
    check_int,
    check_number,
    example_values,
)
from ..columns import Columns
from ..exceptions import EmptyInputError, InvalidDtypeError, InvalidValueError, NotFittedError
from ..tags.taxonomy import Tag

__all__ = [
    "IssueTopics",
    "SentimentModel",
    "check_reviews",
    "feedback_features",
    "feedback_taxonomy_tags",
    "issue_topics",
]

_log = get_logger(__name__)


def check_reviews(reviews: pd.DataFrame, *, require_stars: bool = False) -> pd.DataFrame:
    """Validate a review frame and return a clean copy.

    Parameters
    ----------
    reviews : pandas.DataFrame
        ``user_id, item_id, timestamp, text`` and optionally ``stars``
        (1-5; missing = a review without a rating).
    require_stars : bool, default False
        Whether every row needs a star rating.

    Returns
    -------
    pandas.DataFrame
        The same rows with ``timestamp`` as naive UTC datetime (read like
        :meth:`~persona_rec.Dataset.from_frames` reads times: epoch numbers by
        magnitude, offsets converted to UTC), ``text`` as str (a
        missing text becomes ``""``) and ``stars`` as float (NaN = none).

    Raises
    ------
    MissingColumnError, EmptyInputError
        A required column is absent; no rows.
    InvalidValueError
        A missing id, an unparseable time, a star rating outside 1-5.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1], "item_id": [2], "timestamp": ["2024-01-01"],
    ...                   "text": ["great"], "stars": [6]})
    >>> check_reviews(r)
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidValueError: reviews column 'stars' must hold numbers in [1, 5] (or be missing); got [6].
    """
    cols = [Columns.USER, Columns.ITEM, Columns.TIMESTAMP, "text"] + (["stars"] if require_stars else [])
    check_frame(reviews, "reviews", cols)
    out = reviews.copy()
    for col in (Columns.USER, Columns.ITEM):
        if out[col].isna().any():
            rows = np.flatnonzero(out[col].isna().to_numpy())
            raise InvalidValueError(
                f"reviews column {col!r} must not hold missing ids; rows {example_values(rows)} do."
            )
    # the Dataset's parser: epoch numbers by magnitude, offsets converted to UTC
    out[Columns.TIMESTAMP] = as_timestamps(out[Columns.TIMESTAMP], "reviews column 'timestamp'")
    text = out["text"]
    not_str = text.notna() & ~text.map(lambda v: isinstance(v, str))
    if not_str.any():
        raise InvalidDtypeError(
            f"reviews column 'text' must hold strings; got {example_values(text[not_str])}."
        )
    out["text"] = text.fillna("").astype(str)
    if "stars" in out.columns:
        stars = pd.to_numeric(out["stars"], errors="coerce")
        bad = (out["stars"].notna() & stars.isna()) | (stars.notna() & ((stars < 1) | (stars > 5)))
        if bad.any():
            raise InvalidValueError(
                "reviews column 'stars' must hold numbers in [1, 5] (or be missing); got "
                f"{example_values(out['stars'][bad])}."
            )
        if require_stars and stars.isna().any():
            raise InvalidValueError(f"reviews column 'stars' has {int(stars.isna().sum())} missing value(s).")
        out["stars"] = stars.astype(float)
    else:
        out["stars"] = np.nan
    return out


class SentimentModel:
    """Rating-supervised review sentiment: TF-IDF (1-2 grams) + logistic regression.

    Trained on reviews that have stars: 4-5 stars = positive, 1-2 = negative,
    3 stars are left out of the classifier (ambiguous; the count is logged).
    Scores any text with P(positive) (:meth:`predict_proba`) and with the
    expected ``(stars - 1) / 4`` (:meth:`predict_score`, a ridge regression on
    the same features, used for reviews without stars).

    Parameters
    ----------
    min_df : int, default 2
        Minimum document frequency of an n-gram.
    C : float, default 4.0
        Inverse regularisation of the logistic regression.
    max_features : int or None, default 50_000

    Attributes
    ----------
    vectorizer_ : sklearn TfidfVectorizer
    classifier_ : sklearn LogisticRegression
    regressor_ : sklearn Ridge

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"text": ["love it", "great, love it", "broken, awful", "awful quality"] * 5,
    ...                   "stars": [5, 4, 1, 2] * 5})
    >>> m = SentimentModel(min_df=1).fit(r)
    >>> (m.predict_proba(["love it", "awful"]) > 0.5).tolist()
    [True, False]
    """

    def __init__(self, *, min_df: int = 2, C: float = 4.0, max_features: int | None = 50_000) -> None:
        self.min_df = check_int(min_df, "min_df", minimum=1, owner="SentimentModel")
        self.C = check_number(C, "C", low=0, low_inclusive=False, owner="SentimentModel")
        if max_features is not None:
            check_int(max_features, "max_features", minimum=1, owner="SentimentModel")
        self.max_features = max_features

    def fit(self, reviews: pd.DataFrame) -> SentimentModel:
        """Fit on the ``text`` and ``stars`` columns (rows without stars are ignored).

        Raises
        ------
        MissingColumnError
            No ``text`` or ``stars`` column.
        EmptyInputError
            Fewer than one positive and one negative review with stars.
        """
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        check_frame(reviews, "reviews", ["text", "stars"])
        stars = pd.to_numeric(reviews["stars"], errors="coerce")
        label = np.where(stars >= 4, 1, np.where(stars <= 2, 0, -1))
        use = label >= 0
        _log.info("SentimentModel.fit: %d reviews used, %d with 3 stars and %d without stars left out",
                  int(use.sum()), int((stars == 3).sum()), int(stars.isna().sum()))
        if len(np.unique(label[use])) < 2:
            raise EmptyInputError(
                "SentimentModel.fit needs positive (4-5 stars) and negative (1-2 stars) reviews; "
                f"got {int((label == 1).sum())} positive and {int((label == 0).sum())} negative."
            )
        from sklearn.linear_model import Ridge

        rated = stars.notna().to_numpy()
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True,
                              max_features=self.max_features)
        x = vec.fit_transform(reviews["text"].fillna("").astype(str).to_numpy()[rated])
        clf = LogisticRegression(C=self.C, max_iter=1000)
        clf.fit(x[use[rated]], label[use])
        reg = Ridge(alpha=1.0)
        reg.fit(x, ((stars[rated] - 1) / 4).to_numpy())
        self.vectorizer_ = vec
        self.classifier_ = clf
        self.regressor_ = reg
        return self

    def predict_score(self, texts: Any) -> np.ndarray:
        """Expected satisfaction ``(stars - 1) / 4`` in [0, 1] for each text (ridge on the same TF-IDF).

        On the scale of rated reviews, so it can stand in for missing stars
        (P(positive) is not: a mildly negative 2-star text gets P close to 0).
        """
        if not hasattr(self, "regressor_"):
            raise NotFittedError("SentimentModel is not fitted; call fit(reviews) first.")
        arr = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
        x = self.vectorizer_.transform(arr.fillna("").astype(str).to_numpy())
        return np.clip(self.regressor_.predict(x), 0.0, 1.0)

    def predict_proba(self, texts: Any) -> np.ndarray:
        """P(positive) for each text."""
        if not hasattr(self, "classifier_"):
            raise NotFittedError("SentimentModel is not fitted; call fit(reviews) first.")
        arr = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
        x = self.vectorizer_.transform(arr.fillna("").astype(str).to_numpy())
        return self.classifier_.predict_proba(x)[:, 1]

    def top_terms(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` most positive and most negative n-grams with their weights."""
        if not hasattr(self, "classifier_"):
            raise NotFittedError("SentimentModel is not fitted; call fit(reviews) first.")
        n = check_int(n, "n", minimum=1, owner="SentimentModel.top_terms")
        coef = self.classifier_.coef_[0]
        terms = self.vectorizer_.get_feature_names_out()
        order = np.argsort(coef)
        neg, pos = order[:n], order[::-1][:n]
        return pd.DataFrame({"positive": terms[pos], "positive_weight": coef[pos],
                             "negative": terms[neg], "negative_weight": coef[neg]})


def _scores(r: pd.DataFrame, model: SentimentModel | None) -> np.ndarray:
    """Per review satisfaction in [0, 1]: (stars - 1) / 4, else the model's predicted score."""
    score = np.array((r["stars"] - 1) / 4, dtype=float)  # a writable copy
    missing = np.isnan(score)
    if missing.any():
        if model is None:
            raise InvalidValueError(
                f"{int(missing.sum())} review(s) have no stars; pass a fitted sentiment_model to score them."
            )
        score[missing] = model.predict_score(r["text"].to_numpy()[missing])
    return score


def feedback_features(
    reviews: pd.DataFrame,
    *,
    sentiment_model: SentimentModel | None = None,
    as_of: Any = None,
    complaint_below: float = 0.4,
) -> pd.DataFrame:
    """Per-user satisfaction and complaint features from reviews (profile columns).

    Parameters
    ----------
    reviews : pandas.DataFrame
        See :func:`check_reviews`.
    sentiment_model : SentimentModel, optional
        Scores reviews without stars (required when there are some).
    as_of : timestamp-like, optional
        Only reviews at or before this time count (default: all; recency is
        measured from the latest review). Naive times are UTC, aware ones
        are converted.
    complaint_below : float, default 0.4
        A review whose score is below this is a complaint (2 stars = 0.25,
        3 stars = 0.5).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``user_id``: ``feedback_n_reviews``, ``feedback_satisfaction``
        (mean score in [0, 1]), ``feedback_min_score``, ``feedback_complaints``,
        ``feedback_complaint_share``, ``feedback_mean_stars`` (rated reviews
        only; NaN without any), ``feedback_days_since_review``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": [1, 2, 1],
    ...                   "timestamp": ["2024-01-01", "2024-01-05", "2024-01-03"],
    ...                   "text": ["", "", ""], "stars": [5, 1, 4]})
    >>> feedback_features(r)[["feedback_n_reviews", "feedback_satisfaction", "feedback_complaints"]]
             feedback_n_reviews  feedback_satisfaction  feedback_complaints
    user_id
    a                         2                   0.50                    1
    b                         1                   0.75                    0
    """
    r = check_reviews(reviews)
    below = check_number(complaint_below, "complaint_below", low=0, high=1, owner="feedback_features")
    if as_of is not None:
        ref = as_timestamp(as_of, "as_of")
        r = r[r[Columns.TIMESTAMP] <= ref]
        if r.empty:
            raise EmptyInputError(f"No review is at or before as_of={ref}.")
    else:
        ref = r[Columns.TIMESTAMP].max()
    score = _scores(r, sentiment_model)
    frame = pd.DataFrame({Columns.USER: r[Columns.USER].to_numpy(), "score": score,
                          "complaint": score < below, "stars": r["stars"].to_numpy(),
                          "age": (ref - r[Columns.TIMESTAMP]).dt.total_seconds().to_numpy() / 86_400.0})
    g = frame.groupby(Columns.USER, sort=False)
    out = pd.DataFrame({
        "feedback_n_reviews": g.size(),
        "feedback_satisfaction": g["score"].mean(),
        "feedback_min_score": g["score"].min(),
        "feedback_complaints": g["complaint"].sum().astype(np.int64),
        "feedback_complaint_share": g["complaint"].mean(),
        "feedback_mean_stars": g["stars"].mean(),
        "feedback_days_since_review": g["age"].min(),
    })
    out.index.name = Columns.USER
    return out


@dataclass(frozen=True)
class IssueTopics:
    """Complaint topics and their share per item (output of :func:`issue_topics`).

    Attributes
    ----------
    topics : pandas.DataFrame
        ``topic`` (int), ``top_terms`` (list of str, strongest first),
        ``n_items`` (items whose main complaint it is).
    item_topics : pandas.DataFrame
        ``item_id, topic, share`` (the item's NMF weights normalised to sum
        to 1) and ``n_reviews`` (negative reviews of the item); one row per
        item and topic with a share > 0, largest first within an item.
    """

    topics: pd.DataFrame
    item_topics: pd.DataFrame

    def main_topic(self) -> pd.Series:
        """The dominant complaint topic of each item (index ``item_id``)."""
        first = self.item_topics.drop_duplicates(Columns.ITEM)
        return first.set_index(Columns.ITEM)["topic"]


def issue_topics(
    reviews: pd.DataFrame,
    *,
    n_topics: int = 5,
    sentiment_model: SentimentModel | None = None,
    negative_below: float = 0.5,
    max_df: float = 0.2,
    min_df: int = 3,
    n_terms: int = 8,
    random_state: int | None = 0,
) -> IssueTopics:
    """Per-item complaint topics: NMF over TF-IDF of each item's negative reviews.

    One document per item (its negative reviews joined), so words that every
    unhappy customer writes ("disappointed", "waste of money") appear in most
    documents and are dropped by ``max_df``, while an item-specific problem
    ("battery died", "parcel arrived late") stands out. On per-review
    documents the generic complaint phrases form topics of their own instead
    (measured in ``docs/feedback.md``).

    Parameters
    ----------
    reviews : pandas.DataFrame
        See :func:`check_reviews`.
    n_topics : int, default 5
    sentiment_model : SentimentModel, optional
        Scores reviews without stars.
    negative_below : float, default 0.5
        Reviews with a score below this are negative (1-2 stars).
    max_df : float, default 0.2
        Terms in more than this share of items' documents are ignored.
    min_df : int, default 3
        Terms in fewer items are ignored (one-off phrases make noise topics).
    n_terms : int, default 8
        Terms listed per topic.
    random_state : int or None, default 0
        Seed of the NMF initialisation.

    Returns
    -------
    IssueTopics

    Raises
    ------
    EmptyInputError
        Fewer items with negative reviews than ``n_topics``.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    n_topics = check_int(n_topics, "n_topics", minimum=1, owner="issue_topics")
    n_terms = check_int(n_terms, "n_terms", minimum=1, owner="issue_topics")
    r = check_reviews(reviews)
    score = _scores(r, sentiment_model)
    neg = r[score < negative_below]
    docs = neg.groupby(Columns.ITEM, sort=True)["text"].agg(" ".join)
    if len(docs) < n_topics:
        raise EmptyInputError(
            f"issue_topics needs at least n_topics={n_topics} items with negative reviews, got {len(docs)}."
        )
    vec = TfidfVectorizer(ngram_range=(1, 2), max_df=max_df, min_df=min_df, stop_words="english",
                          sublinear_tf=True)
    try:
        x = vec.fit_transform(docs.to_numpy())
    except ValueError as err:  # every term pruned by max_df/min_df
        raise EmptyInputError(f"issue_topics: no term is left after max_df={max_df}, "
                              f"min_df={min_df} ({err}).") from None
    nmf = NMF(n_components=n_topics, init="nndsvda", random_state=random_state, max_iter=500)
    w = nmf.fit_transform(x)
    terms = vec.get_feature_names_out()
    top = [terms[np.argsort(-comp)[:n_terms]].tolist() for comp in nmf.components_]
    norm = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    has = w.sum(axis=1) > 0
    main = np.where(has, norm.argmax(axis=1), -1)
    topics = pd.DataFrame({"topic": np.arange(n_topics), "top_terms": top,
                           "n_items": np.bincount(main[has], minlength=n_topics)})
    item_rows, topic = np.nonzero(norm > 0)
    share = pd.DataFrame({Columns.ITEM: docs.index.to_numpy()[item_rows], "topic": topic,
                          "share": norm[item_rows, topic]})
    share["n_reviews"] = share[Columns.ITEM].map(neg.groupby(Columns.ITEM).size()).to_numpy()
    share = share.sort_values([Columns.ITEM, "share"], ascending=[True, False], kind="stable")
    return IssueTopics(topics, share.reset_index(drop=True))


def feedback_taxonomy_tags(
    *,
    detractor_below: float = 0.3,
    promoter_above: float = 0.85,
    min_reviews: int = 2,
) -> list[Tag]:
    """``feedback``, ``feedback/detractor`` and ``feedback/promoter`` tags over :func:`feedback_features`.

    Parameters
    ----------
    detractor_below : float, default 0.3
        Mean satisfaction below this makes a detractor (below 2.2 stars on
        average; 0.4 also tags many satisfied users who hit one bad item).
    promoter_above : float, default 0.85
        Mean satisfaction at or above this makes a promoter (4.4 stars).
    min_reviews : int, default 2
        Fewer reviews give no feedback tag.

    Returns
    -------
    list of Tag

    Examples
    --------
    >>> [t.id for t in feedback_taxonomy_tags()]
    ['feedback', 'feedback/detractor', 'feedback/promoter']
    """
    owner = "feedback_taxonomy_tags"
    lo = check_number(detractor_below, "detractor_below", low=0, high=1, owner=owner)
    hi = check_number(promoter_above, "promoter_above", low=0, high=1, owner=owner)
    if lo > hi:
        raise InvalidValueError(f"detractor_below ({lo}) of {owner} must be <= promoter_above ({hi}).")
    n = check_int(min_reviews, "min_reviews", minimum=1, owner=owner)
    return [
        Tag("feedback", "Feedback", layer="value",
            description="Satisfaction shown in reviews and ratings."),
        Tag("feedback/detractor", "Detractor", parent="feedback",
            description=f"Mean review satisfaction < {lo:g} over >= {n} reviews.",
            rule=f"feedback_satisfaction < {lo:g} and feedback_n_reviews >= {n}",
            confidence="1 - feedback_satisfaction"),
        Tag("feedback/promoter", "Promoter", parent="feedback",
            description=f"Mean review satisfaction >= {hi:g} over >= {n} reviews.",
            rule=f"feedback_satisfaction >= {hi:g} and feedback_n_reviews >= {n}",
            confidence="feedback_satisfaction"),
    ]

"""Attribute-to-items ridge regression for users known only by their attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_number
from ..dataset import Dataset
from ..persistence import Learned
from ._features import user_attribute_features
from ._request import RecommendRequest
from ._threads import limit_blas_threads
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["AttributeRecommender"]


class AttributeRecommender(Recommender):
    """Serve attribute-only (warm) users by a ridge map from their attributes to items.

    The user attribute columns are one-hot encoded (numeric columns binned,
    see :func:`persona_rec.models._features.user_attribute_features`) and a
    ridge regression from those features (plus an intercept) to the users'
    binary item rows is learned on users with interactions. An attribute-only
    user's score for an item is the predicted interaction. Sensitive columns
    (age, gender, ...) are used only with ``use_sensitive=True``.

    Parameters
    ----------
    regularization : float, default 30.0
        L2 penalty of the ridge.
    use_sensitive : bool, default False

    Attributes
    ----------
    user_features_ : scipy.sparse.csr_matrix
        Encoded attributes (plus intercept) of every fitted user.
    weights_ : numpy.ndarray (n_features + 1, n_items) float32
    feature_names_ : list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 2, 3], "item_id": ["a", "a", "b"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=3)})
    >>> users = pd.DataFrame({"user_id": [1, 2, 3, 4], "city": ["x", "x", "y", "x"]})
    >>> model = AttributeRecommender(regularization=0.1).fit(
    ...     Dataset.from_frames(inter, users=users))
    >>> model.recommend([4], k=1)[["user_id", "item_id"]]
       user_id item_id
    0        4       a
    """

    learned_state = {
        "user_features_": Learned.sparse("f", "users", "attribute_features"),
        "weights_": Learned.array("f", None, "items"),
        "feature_names_": Learned.value(list),
    }

    serves_hot = False
    serves_warm = True
    default_name = "attributes"
    folds_recent_events = True

    def __init__(self, regularization: float = 30.0, use_sensitive: bool = False) -> None:
        owner = "AttributeRecommender"
        self.regularization = check_number(regularization, "regularization", low=0,
                                           low_inclusive=False, owner=owner)
        self.use_sensitive = check_bool(use_sensitive, "use_sensitive", owner=owner)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        feats, names = user_attribute_features(dataset, include_sensitive=self.use_sensitive)
        history = dataset.get_user_item_matrix(binary=True)
        hot = np.diff(history.indptr) > 0
        f = sp.hstack([feats, np.ones((dataset.n_users, 1))], format="csr", dtype=np.float64)
        self.feature_names_ = list(names) + ["intercept"]
        self.user_features_ = f.astype(np.float32)
        if feats.shape[1] == 0 or not hot.any():
            self.weights_ = np.zeros((0, dataset.n_items), dtype=np.float32)
            return
        a = f[hot]
        gram = (a.T @ a).toarray()
        gram[np.diag_indices_from(gram)] += self.regularization
        with limit_blas_threads():
            w = np.linalg.solve(gram, (a.T @ history[hot]).toarray())
        self.weights_ = w.astype(np.float32)

    def _score_warm(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        fit_idx = self._fit_user_index(user_idx, request)
        out = np.full((len(user_idx), len(self.item_map_)), -np.inf)
        ok = fit_idx >= 0
        if self.weights_.shape[0] == 0 or not ok.any():
            return out
        out[ok] = np.asarray(self.user_features_[fit_idx[ok]] @ self.weights_, dtype=np.float64)
        out[:, self.item_popularity_ <= 0] = -np.inf
        return out

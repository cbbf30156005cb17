"""ALS with side features: a learned feature -> factor mapping for attribute-only users and new items.

:class:`ALSFeaturesRecommender` first trains implicit-feedback ALS on the
interactions (exactly :class:`~persona_rec.models.ALSRecommender`). Then it
learns two ridge regressions (scikit-learn :class:`~sklearn.linear_model.Ridge`):

* **user features -> user factors**, fitted on the users with interactions;
  attribute-only ("warm") users get the predicted factors. User features
  come from ``profiles.features()`` when ``fit`` receives profiles, else
  from the Dataset's one-hot user attributes (or tags / affinities, see
  ``user_features``). A warm user with no feature at all gets the intercept,
  i.e. the mean user factor: a popularity-like ranking;
* **item features -> item factors** (category levels, brand, price band),
  fitted on items with interactions; items that nobody interacted with yet
  but that have attributes get predicted factors, so they can be recommended.

Hot users keep their ALS factors, so the hot-user ranking equals plain ALS
on the trained items (new items are added with mapped factors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool, check_number
from ..dataset import Dataset
from ._features import (
    item_attribute_features,
    normalize_rows,
    resolve_user_sources,
    top_feature_terms,
    user_side_features,
)
from ._request import RecommendRequest
from ._threads import limit_blas_threads
from .lightfm import _check_user_features
from ..persistence import Learned
from .matrix_factorization import ALSRecommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["ALSFeaturesRecommender"]


def _ridge(X: sp.csr_matrix, Y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``Y ~ X @ W + b`` by ridge regression; return ``(W, b)``."""
    from sklearn.linear_model import Ridge

    if X.shape[1] == 0 or X.shape[0] == 0:
        b = Y.mean(axis=0) if len(Y) else np.zeros(Y.shape[1])
        return np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32), b.astype(np.float32)
    model = Ridge(alpha=alpha, fit_intercept=True, solver="auto")
    with limit_blas_threads():
        model.fit(X, Y)
    W = np.asarray(model.coef_, dtype=np.float32).T.reshape(X.shape[1], Y.shape[1])
    b = np.asarray(model.intercept_, dtype=np.float32).reshape(Y.shape[1])
    return W, b


class ALSFeaturesRecommender(ALSRecommender):
    """Implicit ALS plus ridge mappings from side features to factors (warm users, new items).

    Parameters
    ----------
    factors, regularization, iterations, alpha, binary, random_state, num_threads
        As in :class:`~persona_rec.models.ALSRecommender` (same defaults).
    user_features : str or list of str, default "auto"
        ``"auto"`` (profile features when ``fit`` gets profiles, else user
        attributes), ``"none"``, or a list among ``"attributes"``,
        ``"profile"``, ``"tags"``, ``"affinities"``.
    item_features : bool, default True
        Map item attributes to factors so new items can be recommended.
    ridge_alpha : float, default 1.0
        L2 strength of both ridge mappings.
    include_sensitive : bool, default False
        Allow sensitive user attributes as features.

    Attributes
    ----------
    user_factors_, item_factors_ : numpy.ndarray of float32
        ALS factors; rows of warm users / new items hold mapped factors.
    user_coef_, user_intercept_ : numpy.ndarray
        Ridge mapping user features -> factors (``n_user_features x factors``).
    item_coef_, item_intercept_ : numpy.ndarray
        Ridge mapping item features -> factors.
    user_feature_names_, item_feature_names_ : numpy.ndarray of str
    user_features_ : scipy.sparse.csr_matrix
        L2-normalised user side features (``n_users x n_user_features``).
    served_items_ : numpy.ndarray of bool
        Items with ALS factors or with attributes.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "a", "c"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=4)})
    >>> users = pd.DataFrame({"user_id": [1, 2, 3, 4], "city": ["x", "x", "y", "x"]})
    >>> ds = Dataset.from_frames(inter, users=users)
    >>> model = ALSFeaturesRecommender(factors=4, iterations=5).fit(ds)
    >>> ds.user_state([4]).tolist(), len(model.recommend([4], k=2))
    (['warm'], 2)
    """

    learned_state = {
        "user_coef_": Learned.array("f", "user_features", "factors"),
        "user_intercept_": Learned.array("f", "factors"),
        "user_feature_names_": Learned.array("U", "user_features"),
        "user_features_": Learned.sparse("f", "users", "user_features"),
        "item_coef_": Learned.array("f", "item_features", "factors"),
        "item_intercept_": Learned.array("f", "factors"),
        "item_feature_names_": Learned.array("U", "item_features"),
        "served_items_": Learned.array("b", "items"),
    }

    serves_warm = True
    default_name = "als_features"

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 2.0,
        binary: bool = True,
        random_state: int = 0,
        num_threads: int = 1,
        user_features: str | list[str] = "auto",
        item_features: bool = True,
        ridge_alpha: float = 1.0,
        include_sensitive: bool = False,
    ) -> None:
        super().__init__(factors=factors, regularization=regularization, iterations=iterations,
                         alpha=alpha, binary=binary, random_state=random_state,
                         num_threads=num_threads)
        owner = "ALSFeaturesRecommender"
        self.user_features = _check_user_features(user_features)
        self.item_features = check_bool(item_features, "item_features", owner=owner)
        self.ridge_alpha = check_number(ridge_alpha, "ridge_alpha", low=0, low_inclusive=False,
                                        owner=owner)
        self.include_sensitive = check_bool(include_sensitive, "include_sensitive", owner=owner)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        super()._fit(dataset, profiles)
        hot_u = dataset.hot_user_mask()
        hot_i = dataset.hot_item_mask()
        sources = resolve_user_sources(self.user_features, profiles)
        uf, un = user_side_features(dataset, profiles, sources=sources,
                                    include_sensitive=self.include_sensitive)
        uf = normalize_rows(uf, "l2")
        W, b = _ridge(uf[hot_u], self.user_factors_[hot_u], self.ridge_alpha)
        self.user_coef_, self.user_intercept_ = W, b
        self.user_feature_names_ = np.asarray(un, dtype=str)
        self.user_features_ = uf
        warm = np.flatnonzero(~hot_u)
        if len(warm):
            self.user_factors_[warm] = np.asarray(uf[warm] @ W, dtype=np.float32) + b
        served_items = hot_i.copy()
        if self.item_features:
            itf, itn = item_attribute_features(dataset)
            itf = normalize_rows(itf, "l2")
            Wi, bi = _ridge(itf[hot_i], self.item_factors_[hot_i], self.ridge_alpha)
            new = np.flatnonzero(~hot_i & (np.diff(itf.indptr) > 0))
            if len(new):
                self.item_factors_[new] = np.asarray(itf[new] @ Wi, dtype=np.float32) + bi
            served_items[new] = True
            self.item_coef_, self.item_intercept_ = Wi, bi
            self.item_feature_names_ = np.asarray(itn, dtype=str)
        else:
            self.item_coef_ = np.zeros((0, self.factors), dtype=np.float32)
            self.item_intercept_ = np.zeros(self.factors, dtype=np.float32)
            self.item_feature_names_ = np.asarray([], dtype=str)
        self.served_items_ = served_items

    def explain(self, recommendations: pd.DataFrame, n_features: int = 3) -> pd.DataFrame:
        """Add the side features that drive each attribute-only user's row.

        For a warm user the factors are ``x @ user_coef_ + user_intercept_``,
        so the score splits over features ``f`` as ``x_f * (user_coef_[f] .
        item_factor)``. Hot users are scored from their own ALS factors and
        get an empty explanation.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend`.
        n_features : int, default 3

        Returns
        -------
        pandas.DataFrame
            A copy with ``top_features`` (``"; "``-joined names).
        """
        n_features, u, i = self._explain_pairs(recommendations, n_features, "n_features",
                                               "ALSFeaturesRecommender.explain")
        ok = (u >= 0) & (i >= 0)
        ok[ok] &= ~self.hot_users_[u[ok]]
        out = recommendations.copy()
        out["top_features"] = top_feature_terms(
            self.user_features_, self.user_coef_, self.item_factors_, self.user_feature_names_,
            u, i, np.flatnonzero(ok), n_features)
        return out

    def _trained_items(self) -> np.ndarray:
        return self.served_items_

    def _score_warm(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        vecs, fit_idx = self._fit_user_rows(self.user_factors_, user_idx, request)
        ok = fit_idx >= 0
        s = vecs @ self.item_factors_.T.astype(np.float64)
        s[:, ~self.served_items_] = -np.inf
        s[~ok] = -np.inf
        return s

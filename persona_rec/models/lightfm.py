"""LightFM hybrid: factorisation over identity + side features (profiles, tags, item attributes).

:class:`LightFMRecommender` wraps ``lightfm.LightFM`` (from the
``rectools-lightfm`` distribution, an optional dependency: install
``persona-rec[lightfm]``, which builds from source and needs a C compiler;
without it ``fit`` raises :class:`~persona_rec.exceptions.MissingDependencyError`).
A user (item) is represented by the sum
of the embeddings of its features, so users and items known only by their
features are served too.

Features
--------
* users: ``user_features="auto"`` uses ``profiles.features()`` when ``fit``
  receives profiles and the Dataset's one-hot user attributes otherwise;
  ``"tags"`` adds tag confidences (default taxonomy), ``"affinities"`` the
  profile affinities; sensitive columns are left out unless
  ``include_sensitive=True``;
* items: category path levels (``category_l1..3``), brand and price band
  (:func:`persona_rec.models._features.item_attribute_features`).

Identity features and normalisation (the known trap)
----------------------------------------------------
LightFM *replaces* the per-user/per-item embedding with the sum of feature
embeddings. Without an identity column, every user with the same attributes
gets the same representation, so adding side features to a collaborative
model often makes it *worse*. Defaults here:

* ``user_identity=True`` / ``item_identity=True``: an identity column for
  every user/item **with interactions**. Users and items without
  interactions get no identity column: an untrained identity embedding would
  only add its random initial value as noise, so they are represented by
  their side features alone (this is how warm users and new items are served);
* ``normalize=True``: every feature row is scaled to sum to 1 (the
  ``lightfm.data.Dataset`` default). Without it a user with many features
  gets a representation of much larger norm than a user with few, and the
  identity column's share shrinks as features are added; with it the
  representation is the *mean* of the feature embeddings.

Scores are ``user_repr @ item_repr.T + item_bias`` (the user bias does not
change a user's ranking and is dropped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool, check_choice, check_int, check_number
from .._text import fill_doc
from ..dataset import Dataset
from ..exceptions import require
from ._features import (
    cosine_similar,
    item_attribute_features,
    normalize_rows,
    resolve_user_sources,
    top_feature_terms,
    user_side_features,
    with_identity,
)
from ..persistence import Learned
from ._request import RecommendRequest
from ._docs import TOY_INTERACTIONS
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["LightFMRecommender"]

_LOSSES = ("warp", "bpr", "warp-kos", "logistic")


def _check_user_features(value: Any) -> Any:
    if isinstance(value, tuple):
        value = list(value)  # a list is kept as given (scikit-learn's clone checks identity)
    resolve_user_sources(value, object())  # validates names
    return value


@fill_doc(toy_interactions=TOY_INTERACTIONS)
class LightFMRecommender(Recommender):
    """LightFM hybrid recommender with profile/tag user features and attribute item features.

    Parameters
    ----------
    no_components : int, default 64
        Embedding dimension.
    loss : {"warp", "bpr", "warp-kos", "logistic"}, default "warp"
    learning_rate : float, default 0.05
    item_alpha, user_alpha : float, default 1e-6
        L2 penalties on the feature embeddings.
    max_sampled : int, default 10
        WARP: maximum negatives sampled per positive.
    epochs : int, default 30
    user_features : str or list of str, default "auto"
        ``"auto"``, ``"none"`` or a list of sources among ``"attributes"``,
        ``"profile"``, ``"tags"``, ``"affinities"`` (see module docstring).
    item_features : bool, default True
        Use item attribute features (category levels, brand, price band).
    user_identity, item_identity : bool, default True
        Add identity columns for users/items with interactions.
    normalize : bool, default True
        Scale each feature row to sum to 1.
    include_sensitive : bool, default False
        Allow sensitive user attributes (age, gender, ...) as features.
    binary : bool, default True
        Train on 0/1 interactions (``False``: event weights as sample weights).
    random_state : int, default 0
    num_threads : int, default 1
        Training threads; 1 keeps results reproducible (more threads use
        lock-free parallel SGD).

    Attributes
    ----------
    user_repr_, item_repr_ : numpy.ndarray of float32
        Representations of every fitted user/item (``n x no_components``).
    item_bias_ : numpy.ndarray of float32
    user_embeddings_, item_embeddings_ : numpy.ndarray of float32
        Embedding of every feature column (rows follow ``*_feature_names_``).
    user_feature_names_, item_feature_names_ : numpy.ndarray of str
    user_features_ : scipy.sparse.csr_matrix
        The (normalised) user feature matrix used in training, ``n_users x
        n_user_features``; :meth:`explain` reads it.
    served_items_ : numpy.ndarray of bool
        Items with at least one feature (identity or attribute).

    Examples
    --------
    {toy_interactions}
    >>> model = LightFMRecommender(no_components=4, epochs=5).fit(Dataset.from_frames(inter))
    >>> model.recommend([3], k=1)[["user_id", "item_id", "rank"]]
       user_id item_id  rank
    0        3       b     1
    """

    learned_state = {
        "user_embeddings_": Learned.array("f", "user_features", "components"),
        "user_feature_biases_": Learned.array("f", "user_features"),
        "item_embeddings_": Learned.array("f", "item_features", "components"),
        "item_feature_biases_": Learned.array("f", "item_features"),
        "user_feature_names_": Learned.array("U", "user_features"),
        "item_feature_names_": Learned.array("U", "item_features"),
        "user_features_": Learned.sparse("f", "users", "user_features"),
        "user_repr_": Learned.array("f", "users", "components"),
        "item_repr_": Learned.array("f", "items", "components"),
        "item_bias_": Learned.array("f", "items"),
        "served_users_": Learned.array("b", "users"),
        "served_items_": Learned.array("b", "items"),
    }

    serves_warm = True
    default_name = "lightfm"
    folds_recent_events = True

    def __init__(
        self,
        no_components: int = 64,
        loss: str = "warp",
        learning_rate: float = 0.05,
        item_alpha: float = 1e-6,
        user_alpha: float = 1e-6,
        max_sampled: int = 10,
        epochs: int = 30,
        user_features: str | list[str] = "auto",
        item_features: bool = True,
        user_identity: bool = True,
        item_identity: bool = True,
        normalize: bool = True,
        include_sensitive: bool = False,
        binary: bool = True,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        owner = "LightFMRecommender"
        self.no_components = check_int(no_components, "no_components", minimum=1, owner=owner)
        self.loss = check_choice(loss, "loss", _LOSSES, owner=owner)
        self.learning_rate = check_number(learning_rate, "learning_rate", low=0,
                                          low_inclusive=False, owner=owner)
        self.item_alpha = check_number(item_alpha, "item_alpha", low=0, owner=owner)
        self.user_alpha = check_number(user_alpha, "user_alpha", low=0, owner=owner)
        self.max_sampled = check_int(max_sampled, "max_sampled", minimum=1, owner=owner)
        self.epochs = check_int(epochs, "epochs", minimum=1, owner=owner)
        self.user_features = _check_user_features(user_features)
        self.item_features = check_bool(item_features, "item_features", owner=owner)
        self.user_identity = check_bool(user_identity, "user_identity", owner=owner)
        self.item_identity = check_bool(item_identity, "item_identity", owner=owner)
        self.normalize = check_bool(normalize, "normalize", owner=owner)
        self.include_sensitive = check_bool(include_sensitive, "include_sensitive", owner=owner)
        self.binary = check_bool(binary, "binary", owner=owner)
        self.random_state = check_int(random_state, "random_state", minimum=0, owner=owner)
        self.num_threads = check_int(num_threads, "num_threads", minimum=1, owner=owner)

    # ------------------------------------------------------------- features
    def _feature_matrices(
        self, dataset: Dataset, profiles: Profiles | None
    ) -> tuple[sp.csr_matrix, list[str], sp.csr_matrix, list[str]]:
        sources = resolve_user_sources(self.user_features, profiles)
        uf, un = user_side_features(dataset, profiles, sources=sources,
                                    include_sensitive=self.include_sensitive)
        if self.item_features:
            itf, itn = item_attribute_features(dataset)
        else:
            itf, itn = sp.csr_matrix((dataset.n_items, 0), dtype=np.float32), []
        hot_u = dataset.hot_user_mask() if self.user_identity else np.zeros(dataset.n_users, bool)
        hot_i = dataset.hot_item_mask() if self.item_identity else np.zeros(dataset.n_items, bool)
        uf, un = with_identity(uf, un, hot_u, "user_id", dataset.user_map.external_ids)
        itf, itn = with_identity(itf, itn, hot_i, "item_id", dataset.item_map.external_ids)
        norm = "l1" if self.normalize else None
        return normalize_rows(uf, norm), un, normalize_rows(itf, norm), itn

    # ------------------------------------------------------------------ fit
    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        require("lightfm", "lightfm", "LightFMRecommender.fit")
        from lightfm import LightFM

        uf, un, itf, itn = self._feature_matrices(dataset, profiles)
        inter = dataset.get_user_item_matrix(binary=True).tocoo()
        weights = None
        if not self.binary:
            weights = dataset.get_user_item_matrix().tocoo()
        model = LightFM(
            no_components=self.no_components,
            loss=self.loss,
            learning_rate=self.learning_rate,
            item_alpha=self.item_alpha,
            user_alpha=self.user_alpha,
            max_sampled=self.max_sampled,
            random_state=np.random.RandomState(self.random_state),
        )
        model.fit(inter, user_features=uf, item_features=itf, sample_weight=weights,
                  epochs=self.epochs, num_threads=self.num_threads)
        self.user_embeddings_ = np.asarray(model.user_embeddings, dtype=np.float32)
        self.user_feature_biases_ = np.asarray(model.user_biases, dtype=np.float32)
        self.item_embeddings_ = np.asarray(model.item_embeddings, dtype=np.float32)
        self.item_feature_biases_ = np.asarray(model.item_biases, dtype=np.float32)
        self.user_feature_names_ = np.asarray(un, dtype=str)
        self.item_feature_names_ = np.asarray(itn, dtype=str)
        self.user_features_ = uf
        self.user_repr_ = np.asarray(uf @ self.user_embeddings_, dtype=np.float32)
        self.item_repr_ = np.asarray(itf @ self.item_embeddings_, dtype=np.float32)
        self.item_bias_ = np.asarray(itf @ self.item_feature_biases_, dtype=np.float32).ravel()
        self.served_users_ = np.diff(uf.indptr) > 0
        self.served_items_ = np.diff(itf.indptr) > 0

    # -------------------------------------------------------------- scoring
    def _score_users(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        vecs, fit_idx = self._fit_user_rows(self.user_repr_, user_idx, request)
        ok = fit_idx >= 0
        s = vecs @ self.item_repr_.T.astype(np.float64) + self.item_bias_[None, :]
        s[:, ~self.served_items_] = -np.inf
        s[~ok] = -np.inf
        s[ok & ~self.served_users_[np.maximum(fit_idx, 0)]] = -np.inf
        return s

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return self._score_users(user_idx, request)

    def _score_warm(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return self._score_users(user_idx, request)

    def explain(self, recommendations: pd.DataFrame, n_features: int = 3) -> pd.DataFrame:
        """Add the user side features (profile columns, tags) that drive each row.

        The score of a row decomposes over the user's features ``f`` as
        ``sum_f w_f * (e_f . item_repr)`` (plus the item bias). The identity
        feature is left out: what remains is what the profile contributes.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend` for users known at fit time.
        n_features : int, default 3
            Features per row, largest positive contribution first.

        Returns
        -------
        pandas.DataFrame
            A copy with ``top_features`` (``"; "``-joined feature names, e.g.
            ``"tag:interest/home; profile:cat_l1:home"``; empty when the user
            has no side feature pushing the item up).
        """
        n_features, u, i = self._explain_pairs(recommendations, n_features, "n_features",
                                               "LightFMRecommender.explain")
        side = ~np.char.startswith(self.user_feature_names_.astype(str), "user_id=")
        out = recommendations.copy()
        out["top_features"] = top_feature_terms(
            self.user_features_, self.user_embeddings_, self.item_repr_, self.user_feature_names_,
            u, i, np.flatnonzero((u >= 0) & (i >= 0)), n_features, usable=side)
        return out

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        return cosine_similar(self.item_repr_, item_idx, self.served_items_)

    def _json_params(self) -> dict[str, Any]:
        return self.get_params(deep=False)

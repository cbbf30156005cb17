"""Content-based recommender: TF-IDF over item text and attributes, cosine to a user vector.

Item vectors
------------
Two scikit-learn :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
blocks, each row-normalised, weighted and concatenated, then L2-normalised:

* **text**: words of ``title`` / ``description`` / ``name`` (English stop
  words removed, sublinear tf);
* **attributes**: one token per category level (``category_l1=home``,
  ``category_l2=home/kitchen``, ...), brand (``brand=acme``) and price band
  (``price_band=p3``). IDF makes a rare leaf category count more than the
  shared root.

Every item with attributes has a vector, including items nobody has
interacted with yet, so new items are scored from day one.

User vectors
------------
* hot users: the sum of the vectors of the items in their history, each
  weighted by the event weight and a time decay ``0.5 ** (age / half_life_days)``
  (age measured from the user's latest event), then L2-normalised;
* attribute-only users (``serves_warm``): when ``fit`` gets ``profiles`` and
  the user's profile has affinities (``category_l1..3``, ``brand``), they are
  mapped onto the matching attribute tokens. Otherwise (the usual case: a
  user without events has empty affinities) the user gets the mean vector of
  the hot users who share their attribute values (city, country, ... ; sensitive
  columns only with ``include_sensitive=True``): every one-hot attribute value
  has a centroid of its hot users' vectors, and a warm user's vector is the
  sum of the centroids of its values. A warm user with neither gets no
  scores (fewer rows; use a FallbackChain).

The score of an item is the cosine between the user and item vectors; items
sharing no term with the user (cosine 0) are not recommended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool, check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ._features import item_documents, normalize_rows, top_names_per_row
from ..persistence import Learned
from ._request import RecommendRequest
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["ContentRecommender"]

_AFFINITY_KINDS = ("category_l1", "category_l2", "category_l3", "brand", "price_band")


class ContentRecommender(Recommender):
    """TF-IDF content-based recommender that serves new items and profile-only users.

    Parameters
    ----------
    text_weight : float, default 1.0
        Weight of the free-text block (0 disables it).
    attribute_weight : float, default 1.0
        Weight of the attribute-token block (0 disables it).
    half_life_days : float, optional, default 90
        Half-life of the time decay of history events; ``None`` = no decay.
    max_features : int, default 20000
        Vocabulary size of the text block.
    min_df : int, default 1
        Minimum number of items a word must appear in.
    use_profiles : bool, default True
        Build vectors for attribute-only users from ``profiles.affinities``
        when ``fit`` receives profiles.
    include_sensitive : bool, default False
        Allow sensitive user attributes (age, gender, ...) in the attribute
        centroids that serve attribute-only users.

    Attributes
    ----------
    item_vectors_ : scipy.sparse.csr_matrix
        ``n_items x n_terms`` L2-normalised item vectors.
    terms_ : numpy.ndarray of str
        Term of each column (``"text:mug"``, ``"attr:category_l1=home"``).
    history_ : scipy.sparse.csr_matrix
        ``n_users x n_items`` time-decayed interaction weights.
    profile_vectors_ : scipy.sparse.csr_matrix
        ``n_users x n_terms`` vectors of attribute-only users (profile
        affinities, else attribute centroids; empty rows for hot users).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> items = pd.DataFrame({
    ...     "item_id": ["m1", "m2", "t1", "t2"],
    ...     "category": ["Home > Mugs", "Home > Mugs", "Toys > Cars", "Toys > Cars"],
    ...     "title": ["blue coffee mug", "red coffee mug", "toy race car", "toy police car"],
    ... })
    >>> inter = pd.DataFrame({"user_id": [1, 2], "item_id": ["m1", "t1"],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    >>> model = ContentRecommender().fit(Dataset.from_frames(inter, items=items))
    >>> model.recommend([1, 2], k=1)[["user_id", "item_id"]]
       user_id item_id
    0        1      m2
    1        2      t2
    """

    learned_state = {
        "item_vectors_": Learned.sparse("f", "items", "terms"),
        "terms_": Learned.array("U", "terms"),
        "history_": Learned.sparse("f", "users", "items"),
        "profile_vectors_": Learned.sparse("f", "users", "terms"),
    }

    serves_warm = True
    default_name = "content"
    folds_recent_events = True

    def __init__(
        self,
        text_weight: float = 1.0,
        attribute_weight: float = 1.0,
        half_life_days: float | None = 90.0,
        max_features: int = 20000,
        min_df: int = 1,
        use_profiles: bool = True,
        include_sensitive: bool = False,
    ) -> None:
        owner = "ContentRecommender"
        self.text_weight = check_number(text_weight, "text_weight", low=0, owner=owner)
        self.attribute_weight = check_number(attribute_weight, "attribute_weight", low=0,
                                             owner=owner)
        self.half_life_days = None if half_life_days is None else check_number(
            half_life_days, "half_life_days", low=0, low_inclusive=False, owner=owner)
        self.max_features = check_int(max_features, "max_features", minimum=1, owner=owner)
        self.min_df = check_int(min_df, "min_df", minimum=1, owner=owner)
        self.use_profiles = check_bool(use_profiles, "use_profiles", owner=owner)
        self.include_sensitive = check_bool(include_sensitive, "include_sensitive", owner=owner)
        if self.text_weight == 0 and self.attribute_weight == 0:
            from ..exceptions import InvalidParameterError

            raise InvalidParameterError(
                "ContentRecommender needs text_weight > 0 or attribute_weight > 0, got both 0."
            )

    # ------------------------------------------------------------------ fit
    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        vectors, terms = self._item_vectors(dataset)
        self.item_vectors_ = vectors
        self.terms_ = np.asarray(terms, dtype=str)
        self.history_ = self._decayed_history(dataset.internal_interactions, dataset.n_users,
                                              dataset.n_items)
        self.profile_vectors_ = self._warm_vectors(dataset, profiles)

    def _warm_vectors(self, dataset: Dataset, profiles: Profiles | None) -> sp.csr_matrix:
        """Vectors of attribute-only users: profile affinities, else attribute centroids."""
        from ._features import user_attribute_features

        n_users, n_terms = dataset.n_users, len(self.terms_)
        hot = dataset.hot_user_mask()
        out = sp.csr_matrix((n_users, n_terms), dtype=np.float32)
        if profiles is not None and self.use_profiles:
            aff = self._affinity_vectors(profiles, dataset)
            if aff is not None:
                out = aff
        need = ~hot & (np.diff(out.indptr) == 0)
        if need.any() and hot.any():
            F, _ = user_attribute_features(dataset, include_sensitive=self.include_sensitive)
            if F.shape[1]:
                V = self._user_vectors_hot(np.flatnonzero(hot), RecommendRequest())
                centroids = normalize_rows(sp.csr_matrix(F[hot].T @ V), "l2")
                fill = sp.csr_matrix(sp.diags(need.astype(np.float32)) @ (F @ centroids))
                out = out + fill
        keep = sp.diags((~hot).astype(np.float32))
        out = normalize_rows(sp.csr_matrix(keep @ out), "l2")
        out.eliminate_zeros()
        return out

    def _item_vectors(self, dataset: Dataset) -> tuple[sp.csr_matrix, list[str]]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        text, tokens = item_documents(dataset)
        blocks: list[sp.csr_matrix] = []
        terms: list[str] = []
        if self.text_weight > 0 and any(text):
            vec = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=self.min_df,
                                  max_features=self.max_features, dtype=np.float32)
            try:
                X = vec.fit_transform(text)
                blocks.append(self.text_weight * X)
                terms.extend(f"text:{t}" for t in vec.get_feature_names_out())
            except ValueError:  # only stop words / empty vocabulary
                pass
        if self.attribute_weight > 0 and any(tokens):
            vec = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32)
            X = vec.fit_transform(tokens)
            blocks.append(self.attribute_weight * X)
            terms.extend(f"attr:{t}" for t in vec.get_feature_names_out())
        if not blocks:
            # no text and no attributes: fall back to one identity column per item
            import warnings

            warnings.warn(
                "ContentRecommender: the items have no text or attribute columns "
                "(title, description, category, brand, price); item vectors are identities, "
                "so the model only re-ranks items a user has seen.",
                UserWarning,
                stacklevel=3,
            )
            X = sp.identity(dataset.n_items, dtype=np.float32, format="csr")
            return X, [f"item:{i}" for i in dataset.item_map.external_ids]
        X = sp.hstack(blocks, format="csr", dtype=np.float32)
        return normalize_rows(X, "l2"), terms

    def _decayed_history(self, inter: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
        u = inter[Columns.USER_IDX].to_numpy()
        i = inter[Columns.ITEM_IDX].to_numpy()
        w = inter[Columns.WEIGHT].to_numpy(dtype=np.float64)
        if self.half_life_days is not None and len(u):
            t = inter[Columns.TIMESTAMP].to_numpy().astype("datetime64[ns]").astype(np.int64)
            last = np.full(n_users, np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(last, u, t)
            age_days = (last[u] - t) / (86_400 * 1e9)
            w = w * 0.5 ** (age_days / self.half_life_days)
        m = sp.csr_matrix((w.astype(np.float32), (u, i)), shape=(n_users, n_items))
        m.sum_duplicates()
        return m

    def _affinity_vectors(self, profiles: Profiles | None, dataset: Dataset) -> sp.csr_matrix | None:
        """Map profile affinities onto the attribute-token columns."""
        from ._features import _reindex_rows

        col_of = {t: j for j, t in enumerate(self.terms_.tolist())}
        affinities = getattr(profiles, "affinities", None) or {}
        blocks = []
        for kind in _AFFINITY_KINDS:
            if kind not in affinities:
                continue
            mat, values = affinities[kind]
            cols = np.array([col_of.get(f"attr:{kind}={v}", -1) for v in values], dtype=np.int64)
            ok = cols >= 0
            if not ok.any():
                continue
            M = sp.csr_matrix(
                (np.ones(int(ok.sum()), dtype=np.float32), (np.flatnonzero(ok), cols[ok])),
                shape=(len(values), len(self.terms_)),
            )
            aligned = _reindex_rows(sp.csr_matrix(mat, dtype=np.float32),
                                    profiles.frame.index.to_numpy(), dataset)
            blocks.append(aligned @ M)
        if not blocks:
            return None
        out = sum(blocks[1:], blocks[0]).tocsr()
        out = sp.csr_matrix(out.multiply(self._idf_weights()[None, :]))
        out = normalize_rows(out, "l2")
        out.eliminate_zeros()
        return out

    def _idf_weights(self) -> np.ndarray:
        """Per-term weight: mean non-zero value of the term over items (its idf share)."""
        X = self.item_vectors_.tocsc()
        nnz = np.diff(X.indptr)
        sums = np.asarray(X.sum(axis=0)).ravel()
        return np.where(nnz > 0, sums / np.maximum(nnz, 1), 0.0).astype(np.float32)

    # -------------------------------------------------------------- scoring
    def _user_vectors_hot(self, user_idx: np.ndarray, request: RecommendRequest) -> sp.csr_matrix:
        if request.dataset is None and request.recent is None:
            hist = self.history_[np.asarray(user_idx, dtype=np.int64)]
        elif request.dataset is None:
            # recent_events: the fitted (decayed) history plus the recent events at full
            # weight (they are the newest); the older history is not decayed again
            fit = self._fit_user_index(user_idx, request)
            base = sp.diags((fit >= 0).astype(np.float32)) @ self.history_[np.maximum(fit, 0)]
            r = request.recent.rows(user_idx)
            add = sp.diags((r >= 0).astype(np.float32)) @ request.recent.matrix[np.maximum(r, 0)]
            hist = sp.csr_matrix(base + add)
        else:
            hist = self._history(user_idx, request)
        return normalize_rows(hist @ self.item_vectors_, "l2")

    def _cosine(self, users: sp.csr_matrix) -> np.ndarray:
        s = (users @ self.item_vectors_.T).toarray().astype(np.float64)
        s[s <= 0] = -np.inf  # no shared term: no evidence (also covers empty user vectors)
        return s

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        return self._cosine(self._user_vectors_hot(user_idx, request))

    def _score_warm(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        fit_idx = self._fit_user_index(user_idx, request)
        rows = self.profile_vectors_[np.maximum(fit_idx, 0)]
        users = sp.csr_matrix(sp.diags((fit_idx >= 0).astype(np.float32)) @ rows)
        users.eliminate_zeros()
        return self._cosine(users)

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        s = (self.item_vectors_[np.asarray(item_idx)] @ self.item_vectors_.T).toarray()
        return s.astype(np.float64)

    def explain(self, recommendations: pd.DataFrame, n_terms: int = 3) -> pd.DataFrame:
        """Add the terms shared by user and item that drive each row's score.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend` for users known at fit time.
        n_terms : int, default 3
            Terms per row, strongest first.

        Returns
        -------
        pandas.DataFrame
            A copy with ``top_terms``: ``"; "``-joined terms such as
            ``"category_l2=home/kitchen; mug"`` (empty when nothing is shared).
        """
        n_terms, u, i = self._explain_pairs(recommendations, n_terms, "n_terms",
                                            "ContentRecommender.explain")
        ok = (u >= 0) & (i >= 0)
        out_terms = np.full(len(u), "", dtype=object)
        if ok.any():
            users, _ = self.user_vectors(self.user_map_.to_external(u[ok]))
            P = sp.csr_matrix(users.multiply(self.item_vectors_[i[ok]]))
            P.eliminate_zeros()
            names = np.array([t.split(":", 1)[1] for t in self.terms_.tolist()], dtype=object)
            rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
            out_terms[np.flatnonzero(ok)] = top_names_per_row(
                rows, P.indices, P.data, names, n_terms, P.shape[0])
        out = recommendations.copy()
        out["top_terms"] = out_terms
        return out

    def user_vectors(self, user_ids: Any) -> tuple[sp.csr_matrix, np.ndarray]:
        """The TF-IDF vectors of users known at fit time (hot: history; warm: profile).

        Parameters
        ----------
        user_ids : array-like
            External user ids known at fit time.

        Returns
        -------
        (scipy.sparse.csr_matrix, numpy.ndarray of str)
            One L2-normalised row per user and the term names (:attr:`terms_`).
        """
        self._check_fitted()
        from ..identifiers import _as_id_array

        idx = self.user_map_.to_internal(_as_id_array(user_ids), what="user_id")
        hot = self._user_vectors_hot(idx, RecommendRequest())
        warm = ~self.hot_users_[idx]
        pv = self.profile_vectors_[idx]
        out = sp.csr_matrix(sp.diags((~warm).astype(np.float32)) @ hot
                            + sp.diags(warm.astype(np.float32)) @ pv)
        return out, self.terms_

"""Clustering segments: k-means on scaled profile features, k chosen by silhouette."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._params import ParamsMixin
from .._types import ProfileSource
from .._validation import check_choice, check_int, example_values
from ..exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
    NotFittedError,
)
from ._result import SUPPRESSED, Segmentation, _profile_frame

__all__ = ["KMeansSegmenter", "kmeans_segments"]

_SCALINGS = ("auto", "standard", "maxabs", None)
_USERS = ("active", "all")
_SMALL_CELLS = 2_000_000  # users x features below which k-means runs single-threaded
_MAX_DENSE = 50_000_000  # cells; dense float32 up to 200 MB


def _active_mask(profiles: ProfileSource, frame: pd.DataFrame, X: sp.csr_matrix) -> np.ndarray:
    """Users with at least one event (``n_events > 0``; else a non-empty feature row)."""
    if "n_events" in frame.columns:
        n = frame["n_events"].to_numpy(dtype=np.float64, na_value=0.0)
        return n > 0
    if sp.issparse(X):
        return np.diff(sp.csr_matrix(X).indptr) > 0
    return (np.nan_to_num(X) != 0).any(axis=1)


class KMeansSegmenter(ParamsMixin):
    """Segment users by k-means on scaled profile features.

    Pipeline: select features -> optional ``log1p`` of count/amount-like
    columns -> scaling -> optional TruncatedSVD -> :class:`sklearn.cluster.KMeans`.
    With ``n_clusters=None`` k is chosen in ``k_range`` by the highest
    silhouette score (:func:`sklearn.metrics.silhouette_score` on a seeded
    sample of at most ``silhouette_sample_size`` users). Clusters are named
    ``cluster_1`` (largest) to ``cluster_k`` (smallest).

    Parameters
    ----------
    n_clusters : int or None, default None
        Fixed k, or None to choose k by silhouette.
    k_range : (int, int), default (2, 10)
        Inclusive range of k tried when ``n_clusters`` is None.
    features : {"affinity", "all"} or sequence of str, default "affinity"
        What to cluster on:

        - ``"affinity"``: the per-user affinity distributions of
          ``affinity_kinds`` (``profiles.affinities``) -- what a user buys
          and browses. This is where interest segments live and the default.
        - ``"all"``: ``profiles.features(include_sensitive=...)``, the full
          sparse feature matrix.
        - a list of numeric ``profiles.frame`` columns (e.g. RFM columns);
          NaN is imputed with the column median (count in ``info_``).
    affinity_kinds : sequence of str, default ("category_l1", "category_l2")
        Affinity kinds stacked for ``features="affinity"``; kinds the
        profiles do not have, or that are empty, are skipped.
    log1p : bool, default True
        Apply ``log1p`` to non-negative columns whose maximum exceeds 1
        (counts, money, days), taming heavy tails before scaling.
    scaling : {"auto", "standard", "maxabs", None}, default "auto"
        Per-column scaling. "standard" divides by the standard deviation
        (no centring, which keeps sparse input sparse and does not change
        k-means distances). "auto" is None for ``features="affinity"``
        (affinity rows are shares on one common scale; standardising would
        blow up rare categories' noise -- on the synthetic generator it made
        the silhouette choose a wrong k in 4 of 15 runs, against 0 of 15
        unscaled) and "standard" otherwise.
    svd_components : int or None, default None
        Reduce to this many TruncatedSVD components before k-means (useful
        for wide sparse features). Ignored when there are not more columns.
    users : {"active", "all"}, default "active"
        Cluster only users with events (others get ``inactive_label``), or
        everyone.
    inactive_label : str or None, default "inactive"
        Segment of users left out by ``users="active"``; None leaves them
        unassigned.
    include_sensitive : bool, default False
        Whether sensitive profile features may be used.
    n_init : int, default 4
        k-means restarts per k.
    silhouette_sample_size : int, default 5000
        Users sampled for each silhouette score.
    k_sample_size : int or None, default 50000
        When choosing k among more users than this, the search over
        ``k_range`` runs on a seeded sample of this many users and only the
        chosen k is refitted on everyone (None: search on all users).
    random_state : int, default 0
        Seed of k-means, SVD and the silhouette samples.

    Attributes
    ----------
    k_ : int
        Chosen number of clusters.
    silhouette_ : dict of int to float
        Silhouette score per k tried (or for the fixed k).
    feature_names_ : list of str
        Columns clustered on (before SVD).
    segmentation_ : Segmentation
        Result of the last :meth:`fit`.
    info_ : dict
        Facts about the fit (n users clustered, n imputed values, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 50), rng.normal(10, 1, 50)],
    ...                       "y": np.r_[rng.normal(0, 1, 50), rng.normal(8, 1, 50)]},
    ...                      index=pd.Index(range(100), name="user_id"))
    >>> seg = KMeansSegmenter(features=["x", "y"], users="all", random_state=0).fit(frame)
    >>> seg.k_
    2
    >>> seg.segmentation_.sizes().tolist()
    [50, 50]
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        k_range: tuple[int, int] = (2, 10),
        features: str | Sequence[str] = "affinity",
        affinity_kinds: Sequence[str] = ("category_l1", "category_l2"),
        log1p: bool = True,
        scaling: str | None = "auto",
        svd_components: int | None = None,
        users: str = "active",
        inactive_label: str | None = "inactive",
        include_sensitive: bool = False,
        n_init: int = 4,
        silhouette_sample_size: int = 5000,
        k_sample_size: int | None = 50_000,
        random_state: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.features = features
        self.affinity_kinds = affinity_kinds
        self.log1p = log1p
        self.scaling = scaling
        self.svd_components = svd_components
        self.users = users
        self.inactive_label = inactive_label
        self.include_sensitive = include_sensitive
        self.n_init = n_init
        self.silhouette_sample_size = silhouette_sample_size
        self.k_sample_size = k_sample_size
        self.random_state = random_state
        self._validate()  # at construction (and again by set_params), values stored as given

    def _validate(self) -> list[int]:
        owner = "KMeansSegmenter"
        if self.n_clusters is not None:
            ks = [check_int(self.n_clusters, "n_clusters", minimum=2, owner=owner)]
        else:
            kr = self.k_range
            if (
                not isinstance(kr, (tuple, list))
                or len(kr) != 2
                or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in kr)
                or kr[0] < 2
                or kr[1] < kr[0]
            ):
                raise InvalidParameterError(
                    f"The 'k_range' parameter of {owner} must be a pair (k_min, k_max) of ints "
                    f"with 2 <= k_min <= k_max, got {kr!r}."
                )
            ks = list(range(int(kr[0]), int(kr[1]) + 1))
        if isinstance(self.features, str):
            check_choice(self.features, "features", ("affinity", "all"), owner=owner)
        elif not isinstance(self.features, Sequence) or not self.features or not all(
            isinstance(c, str) for c in self.features
        ):
            raise InvalidParameterError(
                f"The 'features' parameter of {owner} must be 'affinity', 'all' or a non-empty "
                f"list of profile column names, got {self.features!r}."
            )
        check_choice(self.scaling, "scaling", _SCALINGS, owner=owner)
        check_choice(self.users, "users", _USERS, owner=owner)
        if self.svd_components is not None:
            check_int(self.svd_components, "svd_components", minimum=1, owner=owner)
        check_int(self.n_init, "n_init", minimum=1, owner=owner)
        check_int(self.silhouette_sample_size, "silhouette_sample_size", minimum=10, owner=owner)
        if self.k_sample_size is not None:
            check_int(self.k_sample_size, "k_sample_size", minimum=100, owner=owner)
        check_int(self.random_state, "random_state", minimum=0, owner=owner)
        if self.inactive_label is not None and (
            not isinstance(self.inactive_label, str) or not self.inactive_label
            or self.inactive_label == SUPPRESSED
        ):
            raise InvalidParameterError(
                f"The 'inactive_label' parameter of {owner} must be a non-empty str (not "
                f"'{SUPPRESSED}') or None, got {self.inactive_label!r}."
            )
        return ks

    # ------------------------------------------------------------- features
    def _matrix(self, profiles: ProfileSource, frame: pd.DataFrame) -> tuple[Any, list[str]]:
        """Feature matrix (csr, or dense with NaN for frame columns) and names."""
        if self.features == "all":
            if not hasattr(profiles, "features"):
                raise InvalidDtypeError(
                    "features='all' needs a Profiles object with .features(); got "
                    f"{type(profiles).__name__}. Pass a list of frame columns instead."
                )
            X, names = profiles.features(include_sensitive=self.include_sensitive)
            X = sp.csr_matrix(X, dtype=np.float64)
            names = list(names)
        elif self.features == "affinity":
            affinities = getattr(profiles, "affinities", None)
            if not isinstance(affinities, dict):
                raise InvalidDtypeError(
                    "features='affinity' needs a Profiles object with .affinities; got "
                    f"{type(profiles).__name__}. Pass a list of frame columns instead."
                )
            blocks, names = [], []
            for kind in self.affinity_kinds:
                if kind not in affinities:
                    continue
                mat, values = affinities[kind][0], affinities[kind][1]
                if mat.shape[1] == 0 or mat.nnz == 0:
                    continue
                blocks.append(sp.csr_matrix(mat, dtype=np.float64))
                names.extend(f"{kind}:{v}" for v in values)
            if not blocks:
                raise EmptyInputError(
                    f"features='affinity': none of affinity_kinds={list(self.affinity_kinds)} has "
                    f"data (profiles has {sorted(affinities)}); items may lack categories. Use "
                    f"features='all' or a list of profile columns."
                )
            X = sp.hstack(blocks, format="csr")
        else:
            cols = list(self.features)
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise MissingColumnError(
                    f"features names column(s) {missing} that the profile frame does not have; "
                    f"it has {list(frame.columns)}."
                )
            sensitive = frozenset(getattr(profiles, "sensitive_columns", frozenset()) or ())
            hidden = [c for c in cols if c in sensitive]
            if hidden and not self.include_sensitive:
                raise InvalidParameterError(
                    f"features names sensitive column(s) {hidden}; pass include_sensitive=True to "
                    f"cluster on them."
                )
            bad = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
            if bad:
                raise InvalidDtypeError(
                    f"features must name numeric profile columns; {bad} have dtype(s) "
                    f"{[str(frame[c].dtype) for c in bad]}."
                )
            values = frame[cols].to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isinf(values).any():
                raise InvalidParameterError(
                    f"features columns hold infinite values (columns "
                    f"{[c for c, b in zip(cols, np.isinf(values).any(axis=0)) if b]})."
                )
            X = values
            names = cols
        if X.shape[0] != len(frame):
            raise InvalidParameterError(
                f"profile features have {X.shape[0]} rows but the profile frame has {len(frame)}."
            )
        if sp.issparse(X) and X.nnz and not np.isfinite(X.data).all():
            raise InvalidParameterError(
                "profile features hold non-finite values (NaN/inf); fix the profiles."
            )
        return X, names

    def _impute(self, X: Any, fit: bool) -> tuple[sp.csr_matrix, int]:
        """Fill NaN of dense frame columns with the column median of the clustered users."""
        if sp.issparse(X):
            return X, 0
        nan = np.isnan(X)
        if fit:
            with warnings.catch_warnings():  # all-NaN column -> NaN median -> 0
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(X, axis=0) if len(X) else np.zeros(X.shape[1])
            self.impute_values_ = np.where(np.isnan(med), 0.0, med)
        n = int(nan.sum())
        if n:
            X = np.where(nan, self.impute_values_, X)
        return sp.csr_matrix(X), n

    def _transform_fit(self, X: sp.csr_matrix) -> Any:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import MaxAbsScaler, StandardScaler

        X = X.copy()
        if self.log1p:
            col_max = np.asarray(X.max(axis=0).todense()).ravel()
            col_min = np.asarray(X.min(axis=0).todense()).ravel()
            self.log_columns_ = np.flatnonzero((col_min >= 0) & (col_max > 1))
            X = self._apply_log(X)
        else:
            self.log_columns_ = np.empty(0, dtype=np.int64)
        scaling = self.scaling
        if scaling == "auto":
            scaling = None if self.features == "affinity" else "standard"
        if scaling == "standard":
            self.scaler_ = StandardScaler(with_mean=False).fit(X)
        elif scaling == "maxabs":
            self.scaler_ = MaxAbsScaler().fit(X)
        else:
            self.scaler_ = None
        if self.scaler_ is not None:
            X = sp.csr_matrix(self.scaler_.transform(X))
        self.svd_ = None
        if self.svd_components is not None and X.shape[1] > self.svd_components:
            self.svd_ = TruncatedSVD(self.svd_components, random_state=self.random_state).fit(X)
            return self.svd_.transform(X)
        return X

    @staticmethod
    def _densify(Z: Any) -> Any:
        """Dense float32 when it fits in ~200 MB (k-means is several times faster dense)."""
        if sp.issparse(Z) and Z.shape[0] * Z.shape[1] <= _MAX_DENSE:
            return Z.toarray().astype(np.float32, copy=False)
        return Z

    def _apply_log(self, X: sp.csr_matrix) -> sp.csr_matrix:
        if len(self.log_columns_) == 0:
            return X
        X = sp.csr_matrix(X, copy=True)
        on = np.zeros(X.shape[1], dtype=bool)
        on[self.log_columns_] = True
        sel = on[X.indices]
        X.data[sel] = np.log1p(np.maximum(X.data[sel], 0.0))
        return X

    def _transform(self, X: sp.csr_matrix) -> Any:
        X = self._apply_log(X)
        if self.scaler_ is not None:
            X = sp.csr_matrix(self.scaler_.transform(X))
        if self.svd_ is not None:
            return self.svd_.transform(X)
        return X

    # ------------------------------------------------------------------ fit
    def fit(self, profiles: ProfileSource) -> KMeansSegmenter:
        """Cluster the users of ``profiles``.

        Parameters
        ----------
        profiles : Profiles or pandas.DataFrame
            A Profiles object (``features="affinity"``/``"all"``) or a frame
            indexed by ``user_id`` (column list ``features``).

        Returns
        -------
        KMeansSegmenter
            ``self``, with ``segmentation_``, ``k_``, ``silhouette_`` set.

        Raises
        ------
        InvalidParameterError
            Bad configuration, or fewer clusterable users than ``k + 1``.
        """
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from threadpoolctl import threadpool_limits

        ks = self._validate()
        frame = _profile_frame(profiles)
        X, names = self._matrix(profiles, frame)
        if self.users == "active":
            mask = _active_mask(profiles, frame, X)
        else:
            mask = np.ones(len(frame), dtype=bool)
        X, n_imputed = self._impute(X[mask], fit=True)
        n_fit = int(mask.sum())
        if n_fit < max(ks) + 1:
            raise InvalidParameterError(
                f"KMeansSegmenter needs more users than clusters: {n_fit} user(s) to cluster "
                f"(users={self.users!r}) but k up to {max(ks)}."
            )
        Z = self._densify(self._transform_fit(X))
        scores: dict[int, float] = {}
        models: dict[int, Any] = {}
        # choose k on a seeded sample of users when there are many, then refit on all
        search = Z
        if len(ks) > 1 and self.k_sample_size is not None and n_fit > self.k_sample_size:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(n_fit, size=self.k_sample_size, replace=False))
            search = Z[rows]
        sample = min(self.silhouette_sample_size, search.shape[0])
        # OpenMP start-up dominates k-means on small inputs (20x slower on a busy
        # 2-core machine); use one thread below _SMALL_CELLS.
        limit = 1 if search.shape[0] * search.shape[1] <= _SMALL_CELLS else None
        with threadpool_limits(limits=limit):
            for k in ks:
                km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)
                lab = km.fit_predict(search)
                models[k] = km
                if len(np.unique(lab)) < 2:
                    scores[k] = float("nan")
                    continue
                scores[k] = float(
                    silhouette_score(search, lab, sample_size=sample, random_state=self.random_state)
                )
        valid = {k: s for k, s in scores.items() if np.isfinite(s)}
        best = max(valid, key=lambda k: (valid[k], -k)) if valid else ks[0]
        if search is not Z:
            limit = 1 if Z.shape[0] * Z.shape[1] <= _SMALL_CELLS else None
            with threadpool_limits(limits=limit):
                models[best] = KMeans(
                    n_clusters=best, n_init=self.n_init, random_state=self.random_state
                ).fit(Z)
        self.k_ = best
        self.kmeans_ = models[best]
        self.silhouette_ = scores
        self.feature_names_ = names
        raw = self.kmeans_.labels_
        # name clusters by size: cluster_1 is the largest (ties: lower k-means id first)
        counts = np.bincount(raw, minlength=best)
        order = np.lexsort((np.arange(best), -counts))
        self.cluster_rank_ = np.empty(best, dtype=np.int64)
        self.cluster_rank_[order] = np.arange(best)
        self.info_ = {
            "n_clustered": n_fit,
            "n_left_out": int(len(frame) - n_fit),
            "n_features": len(names),
            "n_imputed": n_imputed,
            "k": best,
            "silhouette": scores,
            "k_searched_on": int(search.shape[0]),
        }
        self.segmentation_ = self._to_segmentation(frame.index, mask, self.cluster_rank_[raw])
        return self

    def _names(self) -> list[str]:
        names = [f"cluster_{i + 1}" for i in range(self.k_)]
        if self.users == "active" and self.inactive_label is not None:
            names.append(self.inactive_label)
        return names

    def _to_segmentation(self, index: pd.Index, mask: np.ndarray, ranks: np.ndarray) -> Segmentation:
        names = self._names()
        codes = np.full(len(index), -1, dtype=np.int64)
        codes[mask] = ranks
        if self.users == "active" and self.inactive_label is not None:
            codes[~mask] = self.k_
        labels = pd.Series(pd.Categorical.from_codes(codes, categories=names), index=index)
        return Segmentation(labels, segments=names, method="kmeans", info=dict(self.info_))

    def predict(self, profiles: ProfileSource) -> Segmentation:
        """Assign the users of (possibly refreshed) ``profiles`` to the fitted clusters.

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        InvalidParameterError
            The profiles' feature names differ from those fitted on.
        """
        if not hasattr(self, "kmeans_"):
            raise NotFittedError("KMeansSegmenter is not fitted; call fit(profiles) first.")
        frame = _profile_frame(profiles)
        X, names = self._matrix(profiles, frame)
        if names != self.feature_names_:
            diff = sorted(set(names) ^ set(self.feature_names_))
            raise InvalidParameterError(
                f"profiles have different features than at fit time ({len(names)} vs "
                f"{len(self.feature_names_)}; differing e.g. {example_values(diff)})."
            )
        if self.users == "active":
            mask = _active_mask(profiles, frame, X)
        else:
            mask = np.ones(len(frame), dtype=bool)
        ranks = np.empty(0, dtype=np.int64)
        if mask.any():
            Z = self._densify(self._transform(self._impute(X[mask], fit=False)[0]))
            ranks = self.cluster_rank_[self.kmeans_.predict(Z)]
        return self._to_segmentation(frame.index, mask, ranks)

    def fit_assign(self, profiles: ProfileSource) -> Segmentation:
        """:meth:`fit` then return ``segmentation_``."""
        return self.fit(profiles).segmentation_


def kmeans_segments(profiles: ProfileSource, **options: Any) -> Segmentation:
    """Cluster ``profiles`` with ``KMeansSegmenter(**options)``; see that class.

    Parameters
    ----------
    profiles : Profiles or pandas.DataFrame
        What :meth:`KMeansSegmenter.fit` accepts.
    **options
        Keyword arguments of :class:`KMeansSegmenter` (``n_clusters``,
        ``k_range``, ``features``, ``random_state``, ...).

    Returns
    -------
    Segmentation
        ``info`` holds ``k``, ``silhouette`` (per k) and counts.
    """
    return KMeansSegmenter(**options).fit_assign(profiles)

"""ALS and BPR matrix factorisation via ``implicit.cpu`` (classes used directly, no factory)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_bool, check_int, check_number
from .._text import fill_doc
from ..dataset import Dataset
from ._features import cosine_similar
from ._threads import limit_blas_threads
from ..persistence import Learned
from ._request import RecommendRequest
from ._docs import TOY_INTERACTIONS
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["ALSRecommender", "BPRRecommender"]


def _check_seed(value: Any, owner: str) -> int:
    return check_int(value, "random_state", minimum=0, owner=owner)


class _FactorModel(Recommender):
    """Shared scoring for factor models: score = user_factors_ @ item_factors_.T."""

    learned_state = {
        "user_factors_": Learned.array("f", "users", "factors"),
        "item_factors_": Learned.array("f", "items", "factors"),
    }

    user_factors_: np.ndarray
    item_factors_: np.ndarray

    def _check_factor_params(self, owner: str, factors: Any, regularization: Any,
                             iterations: Any, binary: Any, random_state: Any,
                             num_threads: Any) -> None:
        """Validate and store the parameters ALS and BPR share."""
        self.factors = check_int(factors, "factors", minimum=1, owner=owner)
        self.regularization = check_number(regularization, "regularization", low=0, owner=owner)
        self.iterations = check_int(iterations, "iterations", minimum=1, owner=owner)
        self.binary = check_bool(binary, "binary", owner=owner)
        self.random_state = _check_seed(random_state, owner)
        self.num_threads = check_int(num_threads, "num_threads", minimum=0, owner=owner)

    def _implicit_params(self) -> dict[str, Any]:
        """Constructor arguments of the ``implicit`` model shared by ALS and BPR."""
        return {"factors": self.factors, "regularization": self.regularization,
                "iterations": self.iterations, "random_state": self.random_state,
                "num_threads": self.num_threads, "dtype": np.float32}

    def _fit_factors(self, model: Any, dataset: Dataset) -> None:
        """Train the ``implicit`` ``model`` on ``dataset`` and keep its factors (float32)."""
        with limit_blas_threads():
            model.fit(self._matrix(dataset), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def _matrix(self, dataset: Dataset) -> Any:
        m = dataset.get_user_item_matrix(binary=getattr(self, "binary", False))
        return m

    def _user_vectors(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        """Fit-time factor rows; NaN (not served) for users without a trained row.

        A user unknown at fit, or known only by attributes (no interaction at
        fit, so the row was never trained: zeros plus the bias column), is
        not scored from it, also when ``recent_events=`` or ``dataset=``
        make the user hot for the call; ALS folds such users in instead.
        """
        vecs, fit_idx = self._fit_user_rows(self.user_factors_, user_idx, request,
                                            fill=np.nan, dtype=np.float32)
        known = fit_idx >= 0
        untrained = known.copy()
        untrained[known] = ~self.hot_users_[fit_idx[known]]
        vecs[untrained] = np.nan
        return vecs

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        vecs = self._user_vectors(user_idx, request)
        scores = vecs @ self.item_factors_.T  # float32, like the factors
        scores[np.isnan(vecs).any(axis=1)] = -np.inf
        scores[:, ~self._trained_items()] = -np.inf
        return scores

    def _trained_items(self) -> np.ndarray:
        return self.item_popularity_ > 0

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        return cosine_similar(self.item_factors_, item_idx, self._trained_items())


@fill_doc(toy_interactions=TOY_INTERACTIONS)
class ALSRecommender(_FactorModel):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) via ``implicit.cpu.als``.

    Confidence is ``1 + alpha * w`` where ``w`` is the summed event weight of
    a user-item pair (or 1 with ``binary=True``). With
    ``recommend(..., dataset=newer)`` users are *folded in* from their history
    in ``newer`` (one ALS half-step with the item factors fixed), so users
    unknown at fit time are served too. With ``recommend(...,
    recent_events=new)`` the same fold-in recomputes the factors of the users
    with new events from their fit history plus those events (other users
    keep their fitted factors); the model is not changed.

    Parameters
    ----------
    factors : int, default 32
        Latent dimension.
    regularization : float, default 0.05
        L2 penalty.
    iterations : int, default 15
        ALS sweeps.
    alpha : float, default 2.0
        Confidence scaling.
    binary : bool, default True
        Use 0/1 interactions (confidence ``1 + alpha``). With ``False`` the
        summed event weights are used, which over-weights repeated events
        unless alpha is small. Measured (NDCG@10, ``benchmarks/models_core.py``):
        the defaults give 0.282 on ML-100K warm, 0.255 / 0.094 on Online Retail
        (repeats / new items); the former defaults ``alpha=5, binary=False``
        gave 0.228, 0.149 and 0.064.
    random_state : int, default 0
        Seed of the factor initialisation.
    num_threads : int, default 1
        Threads used by ``implicit`` (0 = all cores; results stay
        deterministic for ALS).

    Attributes
    ----------
    user_factors_, item_factors_ : numpy.ndarray of float32

    Examples
    --------
    {toy_interactions}
    >>> model = ALSRecommender(factors=2, iterations=3).fit(Dataset.from_frames(inter))

    User 4 is unknown at fit time: given a newer Dataset, it is folded in from
    its history (one item, ``a``) and gets ``b``, like user 3.

    >>> new = pd.DataFrame({"user_id": [4], "item_id": ["a"], "timestamp": [pd.Timestamp("2024-02-01")]})
    >>> newer = Dataset.from_frames(pd.concat([inter, new]))
    >>> model.recommend([3, 4], k=1, dataset=newer)[["user_id", "item_id"]]
       user_id item_id
    0        3       b
    1        4       b
    """

    default_name = "als"
    folds_recent_events = True

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        iterations: int = 15,
        alpha: float = 2.0,
        binary: bool = True,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        owner = "ALSRecommender"
        self._check_factor_params(owner, factors, regularization, iterations, binary,
                                  random_state, num_threads)
        self.alpha = check_number(alpha, "alpha", low=0, low_inclusive=False, owner=owner)

    def _implicit(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        with limit_blas_threads():  # the constructor checks the BLAS thread pool
            return AlternatingLeastSquares(alpha=self.alpha, **self._implicit_params())

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        self._fit_factors(self._implicit(), dataset)

    def _solver(self) -> Any:
        """The ``implicit`` model holding the fitted factors (built once per fitted state)."""
        key = (self.regularization, self.alpha, self.factors)
        cached = getattr(self, "_fold_in_solver", None)
        if cached is not None and cached[0] is self.item_factors_ and cached[1] == key:
            return cached[2]
        model = self._implicit()
        model.user_factors = self.user_factors_
        model.item_factors = self.item_factors_
        _ = model.YtY  # computed now, so concurrent calls only read it
        # derived from the learned state and the configuration, not per-call state
        self._fold_in_solver = (self.item_factors_, key, model)
        return model

    def _user_vectors(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        if request.dataset is None:
            vecs = super()._user_vectors(user_idx, request)
            if request.recent is not None:
                # users with events after fit: their factors are recomputed from
                # the fit history plus the recent events (item factors fixed)
                sel = request.recent.rows(user_idx) >= 0
                if sel.any():
                    vecs[sel] = self._fold_in(np.asarray(user_idx)[sel], request)
            return vecs
        return self._fold_in(user_idx, request)

    def _fold_in(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        """User factors solved from the users' histories with the item factors fixed.

        One ALS half-step (``implicit``'s ``recalculate_user``) on the history
        of :meth:`_history` (the ``dataset=`` context, or the fit history plus
        ``recent_events``). Nothing of the call is stored on the model, so
        concurrent calls are safe: the ``implicit`` solver holding the fitted
        factors is built once per fitted state and only read
        (``recalculate_user`` returns the factors without storing them).
        """
        model = self._solver()
        hist = self._history(user_idx, request)
        if self.binary:
            hist = hist.copy()
            hist.data[:] = 1.0
        if len(user_idx) >= 64:
            with limit_blas_threads():
                vecs = model.recalculate_user(np.arange(len(user_idx)), hist)
        else:  # a few users: skip the thread-pool probe (milliseconds per call)
            vecs = model.recalculate_user(np.arange(len(user_idx)), hist)
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(user_idx), -1)
        vecs[np.diff(hist.indptr) == 0] = np.nan  # no history: not served
        return vecs


@fill_doc(toy_interactions=TOY_INTERACTIONS)
class BPRRecommender(_FactorModel):
    """Bayesian personalised ranking via ``implicit.cpu.bpr``.

    ``num_threads=1`` (the default) keeps training reproducible for a given
    ``random_state`` (more threads use lock-free parallel SGD). BPR cannot fold
    in new users: with ``recommend(..., dataset=newer)`` or ``recent_events=``
    only users with interactions at fit time are scored (with their fitted
    factors); users unknown at fit or known there only by attributes are not
    served (``on_unknown`` decides, and a :class:`FallbackChain` passes them
    on).

    Parameters
    ----------
    factors : int, default 64
        Latent dimension (implicit adds one bias column).
    learning_rate : float, default 0.01
        SGD step (0.01 gives NDCG@10 0.196 on ML-100K warm and 0.201 on Online
        Retail with repeats; 0.05 gave 0.115 on ML-100K).
    regularization : float, default 0.01
    iterations : int, default 100
        SGD epochs.
    binary : bool, default True
        BPR uses interactions as 0/1 (weights only decide which pairs exist).
    random_state : int, default 0
    num_threads : int, default 1

    Attributes
    ----------
    user_factors_, item_factors_ : numpy.ndarray of float32

    Examples
    --------
    {toy_interactions}
    >>> model = BPRRecommender(factors=4, iterations=5).fit(Dataset.from_frames(inter))
    >>> len(model.recommend([3], k=1))
    1
    """

    default_name = "bpr"
    folds_recent_events = True

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        binary: bool = True,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        owner = "BPRRecommender"
        self._check_factor_params(owner, factors, regularization, iterations, binary,
                                  random_state, num_threads)
        self.learning_rate = check_number(learning_rate, "learning_rate", low=0,
                                          low_inclusive=False, owner=owner)

    def _user_states(
        self, ids: np.ndarray, dataset: Dataset | None, recent: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The base states, except that a user without a trained factor row is not hot.

        ``recent_events=`` or ``dataset=`` make a user hot for the call, but
        BPR cannot fold users in: a user unknown at fit counts as cold and a
        user known there only by attributes as warm, so neither is served
        (``on_unknown`` decides, and a fallback chain passes them on).
        """
        idx, state = super()._user_states(ids, dataset, recent)
        hot = np.flatnonzero(state == 0)
        if len(hot):
            fit_idx = self.user_map_.to_internal(np.asarray(ids)[hot], strict=False)
            known = fit_idx >= 0
            trained = known.copy()
            trained[known] = self.hot_users_[fit_idx[known]]
            state[hot[~trained]] = np.where(known[~trained], 1, 2)
        return idx, state

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        with limit_blas_threads():
            model = BayesianPersonalizedRanking(learning_rate=self.learning_rate,
                                                **self._implicit_params())
        self._fit_factors(model, dataset)

"""The :class:`Recommender` base class shared by every persona_rec model.

Template method
---------------
Public methods validate, map ids, filter and rank; subclasses write only
small private hooks. :meth:`Recommender.recommend` is a front half
(:meth:`Recommender._request`: validation, the distinct user ids, the
request) and a back half (:meth:`Recommender._recommend`: user states,
scoring, ranking, fills); a composite such as ``FallbackChain`` overrides
only the back half. The hooks:

``_fit(dataset, profiles)``
    Learn the model. The base class has already stored, before the call:
    ``user_map_``, ``item_map_`` (:class:`~persona_rec.identifiers.IdMap`),
    ``hot_users_`` (bool per fitted user: has interactions), ``user_items_``
    (users x items CSR of summed weights, the "seen" history),
    ``item_popularity_`` (distinct users per item, used by
    ``on_unknown="fallback"``) and ``item_attributes_`` (item attributes
    aligned to ``item_map_``, used by ``item_filter=``).
``_score(user_idx, request) -> ndarray (len(user_idx), n_items_)``
    Scores for *hot* users (required when ``serves_hot``).
``_score_warm(user_idx, request) -> ndarray (len(user_idx), n_items_)``
    Scores for *warm* (attribute-only) users (required when ``serves_warm``).
``_score_cold() -> ndarray (n_items_,)``
    One score vector shared by every *cold* (unknown) user (required when
    ``serves_cold``).
``_similar(item_idx) -> ndarray (len(item_idx), n_items_)``
    Item-to-item scores for :meth:`similar_items` (optional).
``_shared_scores() -> ndarray (n_items_,) or None`` and
``_grouped_scores(user_idx, request) -> (codes, vectors) or None``
    User-independent (or per-group) score vectors (optional; let ranking
    skip the per-user score matrix).
``_sparse_scores(user_idx, request) -> csr_matrix or None``
    Scores of hot users as a sparse ``len(user_idx) x n_items_`` matrix whose
    stored entries are the only candidates (optional; two-stage models that
    score a few hundred candidates per user skip the dense matrix). Used
    when the request has no item mask.
``_fill_scores(request) -> ndarray (n_items_,) or None``
    A second ranking that fills served users short of ``k`` rows below the
    model's own rows (optional; ``fill="popular"`` of the buy-again and
    repurchase models), merged by :func:`fill_down`, the mechanism of
    :class:`~persona_rec.models.FallbackChain`.
``_after_load()``
    Rebuild private helpers after :meth:`load` (optional).

The hooks receive the call's :class:`~persona_rec.models._request.RecommendRequest`
(``k``, ``filter_seen``, ``item_mask``, ``dataset`` and a per-call ``cache``):
nothing of a call is stored on the model, so one fitted model serves
concurrent ``recommend`` calls. In the scoring hooks ``user_idx`` indexes
``self.user_map_`` when ``request.dataset`` is None (the usual case), and
``request.dataset.user_map`` when the caller passed
``recommend(..., dataset=...)``; :meth:`_history` and :meth:`_fit_user_index`
hide the difference. A score of ``-inf`` (or NaN)
means "no evidence, do not recommend": such items never appear in the output,
so a user may receive fewer than ``k`` rows and a :class:`FallbackChain` fills
the rest.

Learned state is every public attribute ending in ``_``; each class declares
it in ``learned_state`` (name -> :class:`~persona_rec.persistence.Learned`,
added to its parents' declarations) and :meth:`save` stores exactly that (see
:mod:`persona_rec.persistence` and ``docs/persistence.md``).

The module is one cohesive unit, the :class:`Recommender` contract every
model inherits (argument checks, batching, the fallback and request hooks,
``similar_items``, save/load), hence its length; the top-k engine it calls is
:mod:`persona_rec.models._topk`.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._arrays import position_in_group
from .._params import ParamsMixin
from .._progress import get_logger
from .._text import LOAD_PARAMETERS, SAVE_PARAMETERS, fill_doc
from .._validation import check_choice, check_frame, check_int, example_values
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import (
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    NotFittedError,
    UnknownIdError,
)
from ..identifiers import _as_id_array
from ._request import RecommendRequest, as_request, recent_history
from ._topk import float_scores, topk, topk_sparse
from .filters import ItemFilter, build_item_mask
from ..persistence import Learned, load_model, register_model, save_model

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["Recommender", "ON_UNKNOWN", "SIMILAR_ITEM", "FALLBACK_SOURCE"]

_log = get_logger(__name__)

_R = TypeVar("_R", bound="Recommender")

#: Allowed values of ``recommend(on_unknown=...)``.
ON_UNKNOWN = ("raise", "fallback", "skip")
#: Column holding the neighbour in :meth:`Recommender.similar_items` output.
SIMILAR_ITEM = "similar_item_id"
#: ``source`` value of rows served by the built-in popularity fallback.
FALLBACK_SOURCE = "fallback_popular"


class Recommender(ParamsMixin):
    """Base class of every persona_rec recommender.

    Subclasses declare what they can serve with the class flags
    ``serves_hot`` (users with interactions), ``serves_warm`` (users known only
    by attributes or profile) and ``serves_cold`` (ids unknown at fit time),
    store their configuration in ``__init__`` (validated, one attribute per
    parameter, nothing learned) and implement the private hooks described in
    the module docstring.

    Attributes
    ----------
    serves_hot, serves_warm, serves_cold : bool
        Which user states the model scores itself.
    folds_recent_events : bool
        Whether ``recommend(..., recent_events=)`` is supported (opt-in).
    default_name : str
        The ``source`` label written in recommendation frames.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> from persona_rec.models import PopularRecommender
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "a", "c"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=4)})
    >>> ds = Dataset.from_frames(inter)
    >>> model = PopularRecommender().fit(ds)
    >>> model.recommend([2, 99], k=2, on_unknown="fallback")
       user_id item_id  score  rank   source
    0        2       b    1.0     1  popular
    1        2       c    1.0     2  popular
    2       99       a    2.0     1  popular
    3       99       b    1.0     2  popular
    """

    # class-level defaults; a model may set them per instance in __init__ when
    # what it serves depends on its configuration (FallbackChain, segment popularity)
    serves_hot: bool = True
    serves_warm: bool = False
    serves_cold: bool = False
    default_name: ClassVar[str] = ""
    #: Whether ``recommend(..., recent_events=)`` is supported (the model's hooks
    #: read histories through :meth:`_history` / :meth:`_fit_user_index` and the
    #: request); models opt in, others raise InvalidParameterError.
    folds_recent_events: ClassVar[bool] = False
    #: Upper bound on the number of float scores held at once while ranking.
    batch_elements: ClassVar[int] = 1 << 22
    #: Learned attributes set by :meth:`fit` (subclasses declare their own in
    #: the same class attribute; the declarations are merged along the MRO).
    learned_state: ClassVar[dict[str, Learned]] = {
        "user_map_": Learned.id_map("users"),
        "item_map_": Learned.id_map("items"),
        "hot_users_": Learned.array("b", "users"),
        "user_items_": Learned.sparse("biuf", "users", "items"),
        "item_popularity_": Learned.array("f", "items"),
        "item_attributes_": Learned.frame("items", optional=True),
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_model(cls)

    # ------------------------------------------------------------ config
    @property
    def name(self) -> str:
        """Label written in the ``source`` column."""
        return self.default_name or type(self).__name__

    def get_config(self) -> dict[str, Any]:
        """Return ``{"class": <class name>, "params": get_params()}``."""
        return {"class": type(self).__qualname__, "params": self.get_params(deep=False)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Recommender:
        """Build an unfitted model from :meth:`get_config` output or a params dict.

        Parameters
        ----------
        config : mapping
            Either ``{"class": name, "params": {...}}`` or the parameters
            themselves (then ``cls`` is built).

        Returns
        -------
        Recommender

        Raises
        ------
        InvalidParameterError
            The class is unknown or not a subclass of ``cls``, or a parameter
            is invalid.
        """
        if not isinstance(config, Mapping):
            raise InvalidDtypeError(f"config must be a mapping, got {type(config).__name__}.")
        if "class" in config and "params" in config:
            from .persistence import registered_models

            klass = registered_models().get(str(config["class"]))
            if klass is None or not issubclass(klass, cls):
                raise InvalidParameterError(
                    f"config['class'] must name a registered subclass of {cls.__qualname__}, "
                    f"got {config['class']!r}."
                )
            return klass(**dict(config["params"]))
        known = set(cls._param_names())
        unknown = sorted(set(config) - known)
        if unknown:
            raise InvalidParameterError(
                f"{cls.__qualname__} has no parameter(s) {unknown}; parameters: {sorted(known)}."
            )
        return cls(**dict(config))

    def _json_params(self) -> dict[str, Any]:
        """Parameters as JSON values (override when a parameter is not JSON)."""
        return self.get_params(deep=False)

    @classmethod
    def _from_json_params(cls, params: dict[str, Any]) -> Recommender:
        """Inverse of :meth:`_json_params`."""
        return cls(**params)

    # -------------------------------------------------------------- fit
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`load`) has completed."""
        return bool(getattr(self, "_fitted", False))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(dataset) first."
            )

    def _explain_pairs(self, recommendations: pd.DataFrame, n: Any, name: str,
                       owner: str) -> tuple[int, np.ndarray, np.ndarray]:
        """Validate an ``explain`` call; return ``n`` and the rows' internal user and item indices.

        Shared by the models' ``explain`` methods: the model must be fitted
        and ``n`` (the parameter ``name``) an int >= 1; the rows are mapped
        by :meth:`_reco_indices`.
        """
        self._check_fitted()
        n = check_int(n, name, minimum=1, owner=owner)
        u, i = self._reco_indices(recommendations)
        return n, u, i

    def _reco_indices(self, recommendations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Fit-time user and item indices (int64, -1 when unknown) of a recommendation frame.

        ``recommendations`` must be a frame with ``user_id`` and ``item_id``.
        """
        check_frame(recommendations, "recommendations", (Columns.USER, Columns.ITEM),
                    allow_empty=True)
        u = self.user_map_.to_internal(recommendations[Columns.USER].to_numpy(), strict=False)
        i = self.item_map_.to_internal(recommendations[Columns.ITEM].to_numpy(), strict=False)
        return np.asarray(u, dtype=np.int64), np.asarray(i, dtype=np.int64)

    @property
    def n_users_(self) -> int:
        """Number of users known at fit time."""
        self._check_fitted()
        return len(self.user_map_)

    @property
    def n_items_(self) -> int:
        """Number of items the model ranks."""
        self._check_fitted()
        return len(self.item_map_)

    def fit(self, dataset: Dataset, profiles: Profiles | None = None) -> Recommender:
        """Fit the model on ``dataset``.

        Parameters
        ----------
        dataset : Dataset
            Training data.
        profiles : Profiles, optional
            User profiles built on ``dataset`` (used by models with side
            information; ignored by pure interaction models).

        Returns
        -------
        Recommender
            ``self``, fitted.

        Raises
        ------
        InvalidDtypeError
            ``dataset`` is not a :class:`~persona_rec.dataset.Dataset`.
        EmptyInputError
            ``dataset`` has no interactions.
        """
        if not isinstance(dataset, Dataset):
            raise InvalidDtypeError(
                f"dataset must be a persona_rec Dataset, got {type(dataset).__name__}; "
                f"build one with Dataset.from_frames(...)."
            )
        if dataset.n_interactions == 0:
            raise EmptyInputError(
                f"{type(self).__name__}.fit: dataset has no interactions (0 rows); was it "
                f"filtered to nothing (filter_time/filter_users)?"
            )
        self._fitted = False
        self.user_map_ = dataset.user_map
        self.item_map_ = dataset.item_map
        self.hot_users_ = dataset.hot_user_mask()
        matrix = dataset.get_user_item_matrix()
        self.user_items_ = matrix
        self.item_popularity_ = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(
            np.float64
        )
        attrs = dataset.item_attributes()
        self.item_attributes_ = attrs if attrs.shape[1] else None
        _log.info("fitting %s on %s users x %s items (%s user-item pairs)", type(self).__name__,
                  f"{matrix.shape[0]:,}", f"{matrix.shape[1]:,}", f"{matrix.nnz:,}")
        start = time.perf_counter()
        self._fit(dataset, profiles)
        self._fitted = True
        _log.info("fitted %s in %.1fs", type(self).__name__, time.perf_counter() - start)
        return self

    def _fit_holding(self: _R, dataset: Dataset, profiles: Profiles | None, **inputs: Any) -> _R:
        """:meth:`fit` with fit-time-only ``inputs`` (e.g. a social graph) readable by ``_fit``.

        Each input is set as the private attribute of its name for the
        duration of the fit and removed afterwards, also when fitting fails,
        so it is neither learned state nor saved.
        """
        for name, value in inputs.items():
            setattr(self, name, value)
        try:
            Recommender.fit(self, dataset, profiles)
        finally:
            for name in inputs:
                delattr(self, name)
        return self

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _fit.")

    # ---------------------------------------------------------- hooks
    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not score hot users.")

    def _score_warm(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not score warm users.")

    def _score_cold(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not score cold users.")

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not support similar_items.")

    def _shared_scores(self) -> np.ndarray | None:
        """One score vector used for every hot and warm user, or None (the default).

        Models whose scores do not depend on the user (global popularity)
        return it so ranking skips the per-user score matrix.
        """
        return None

    def _grouped_scores(
        self, user_idx: np.ndarray, request: RecommendRequest
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(group code per user, score vector per group)`` or None (the default).

        For models whose users fall into a few groups that share scores
        (segment popularity): each group is ranked from one vector, so no
        ``users x items`` matrix is built. Defaults to one group when
        :meth:`_shared_scores` returns a vector.
        """
        shared = self._shared_scores()
        if shared is None:
            return None
        return np.zeros(len(user_idx), dtype=np.int64), shared[None, :]

    def _sparse_scores(self, user_idx: np.ndarray,
                       request: RecommendRequest) -> sp.csr_matrix | None:
        """Hot users' scores as a sparse matrix of candidates, or None (the default).

        Stored entries are the only items that may be recommended (others
        count as ``-inf``); ``filter_seen`` and ties are applied by the
        ranking engine as for dense scores.
        """
        return None

    def _fill_scores(self, request: RecommendRequest) -> np.ndarray | None:
        """A score vector that fills served users short of ``k`` rows, or None (the default).

        The model's own fill link (``fill="popular"`` of the buy-again and
        repurchase models): after the scoring hooks' rows, each served user
        left short of ``k`` rows gets the best items of this vector that it
        did not receive yet (the seen filter and item mask apply), under the
        model's own ``source`` -- the same fill-down as a
        :class:`~persona_rec.models.FallbackChain` link (:func:`fill_down`).
        """
        return None

    def _popularity_part(self, positions: np.ndarray, user_idx: np.ndarray,
                         request: RecommendRequest) -> tuple[Any, ...]:
        """Rows of ``on_unknown="fallback"``: fit-time global popularity, ``source="fallback_popular"``."""
        pop = self.item_popularity_.astype(np.float64).copy()
        pop[pop <= 0] = -np.inf
        return self._rank(positions, user_idx, None, request, vector=pop) + (FALLBACK_SOURCE,)

    def _after_load(self) -> None:
        """Rebuild private helpers after load (default: nothing)."""

    def _learned_state(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    # ------------------------------------------------------ helpers for hooks
    def _context_matrix(self, request: RecommendRequest | Dataset | None) -> sp.csr_matrix:
        """Users x items history in the model's item space for the scoring context.

        Computed once per request (kept in ``request.cache``).
        """
        request = as_request(request)
        dataset = request.dataset
        if dataset is None:
            return self.user_items_
        cached = request.cache.get("context_matrix")
        if cached is not None:
            return cached
        m = dataset.get_user_item_matrix()
        if dataset.item_map != self.item_map_:
            remap = self.item_map_.to_internal(dataset.item_map.external_ids, strict=False)
            coo = m.tocoo()
            cols = remap[coo.col]
            ok = cols >= 0
            if not ok.all():
                warnings.warn(
                    f"dataset= holds {int((~ok).sum())} user-item pair(s) with items unknown to "
                    f"the fitted {type(self).__name__}; they are ignored for scoring and "
                    f"filter_seen.",
                    UserWarning,
                    stacklevel=4,
                )
            m = sp.csr_matrix(
                (coo.data[ok], (coo.row[ok], cols[ok])),
                shape=(m.shape[0], len(self.item_map_)),
                dtype=np.float32,
            )
        request.cache["context_matrix"] = m
        return m

    def _history(self, user_idx: np.ndarray,
                 request: RecommendRequest | Dataset | None) -> sp.csr_matrix:
        """CSR rows of the users' histories (summed weights) in the model's item space.

        ``user_idx`` entries of ``-1`` (cold users) give empty rows.
        """
        m = self._context_matrix(request)
        user_idx = np.asarray(user_idx, dtype=np.int64)
        recent = request.recent if isinstance(request, RecommendRequest) else None
        if recent is not None and not len(recent.users):
            recent = None
        known = (user_idx >= 0) & (user_idx < m.shape[0])  # recent-only users: no fit row
        if recent is None and known.all():
            return m[user_idx]
        rows = m[np.where(known, user_idx, 0)]
        keep = sp.diags(known.astype(np.float32))
        out = sp.csr_matrix(keep @ rows)
        if recent is not None:  # events after fit (recommend(..., recent_events=))
            r = recent.rows(user_idx)
            add = recent.matrix[np.maximum(r, 0)]
            out = sp.csr_matrix(out + sp.diags((r >= 0).astype(np.float32)) @ add)
        out.eliminate_zeros()
        return out

    def _fit_user_rows(self, table: np.ndarray, user_idx: np.ndarray,
                       request: RecommendRequest | Dataset | None, *, fill: float = 0.0,
                       dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Rows of a fit-time per-user ``table`` (factors, representations) for context users.

        Returns the rows (``fill`` for users unknown at fit time) and the
        users' fit-time indices (``-1`` when unknown).
        """
        fit_idx = self._fit_user_index(user_idx, request)
        ok = fit_idx >= 0
        out = np.full((len(fit_idx), table.shape[1]), fill, dtype=dtype)
        out[ok] = table[fit_idx[ok]]
        return out, fit_idx

    def _fit_user_index(self, user_idx: np.ndarray,
                        request: RecommendRequest | Dataset | None) -> np.ndarray:
        """Map context user indices to fit-time indices (``-1`` when unknown at fit)."""
        dataset = as_request(request).dataset
        user_idx = np.asarray(user_idx, dtype=np.int64)
        if dataset is None:
            return np.where(user_idx < len(self.user_map_), user_idx, -1)
        ext = dataset.user_map.to_external(user_idx)
        return self.user_map_.to_internal(ext, strict=False)

    # ---------------------------------------------------------- recommend
    def _user_states(
        self, ids: np.ndarray, dataset: Dataset | None, recent: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if dataset is None:
            umap, hot = self.user_map_, self.hot_users_
        else:
            umap, hot = dataset.user_map, dataset.hot_user_mask()
        idx = umap.to_internal(ids, strict=False, what="user_id")
        state = np.full(len(idx), 2, dtype=np.int8)
        known = idx >= 0
        state[known] = np.where(hot[idx[known]], 0, 1)
        if recent is not None:  # a user with events after fit is hot for this call
            idx = recent.extend_index(ids, idx)
            state[recent.rows(idx) >= 0] = 0
        return idx, state

    def _served_states(self) -> np.ndarray:
        return np.array([self.serves_hot, self.serves_warm, self.serves_cold], dtype=bool)

    def recommend(
        self,
        user_ids: Any,
        k: int = 10,
        *,
        filter_seen: bool = True,
        items: Any = None,
        exclude: Any = None,
        item_filter: ItemFilter | Mapping[str, Any] | None = None,
        on_unknown: str = "raise",
        dataset: Dataset | None = None,
        recent_events: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Recommend up to ``k`` items to each user.

        Parameters
        ----------
        user_ids : array-like
            External user ids. Duplicates are served once; output follows the
            order of first appearance.
        k : int, default 10
            Items per user. ``k`` larger than the catalogue is fine: every
            eligible item is returned.
        filter_seen : bool, default True
            Drop items the user interacted with (in the fit data, or in
            ``dataset`` when given). ``False`` is a first-class mode for
            repeat purchases.
        items : array-like, optional
            Whitelist of external item ids (unknown ids warn).
        exclude : array-like, optional
            Blacklist of external item ids.
        item_filter : ItemFilter or dict, optional
            Business rules over item attributes: category in/out (prefix match
            on the category path), brands, price band, in-stock flag.
        on_unknown : {"raise", "fallback", "skip"}, default "raise"
            What to do with users whose state (hot / warm / cold) this model
            does not serve (see the ``serves_*`` flags): ``"raise"`` raises
            :class:`~persona_rec.exceptions.UnknownIdError`; ``"skip"`` leaves
            them out of the frame and lists them in
            ``frame.attrs["unserved"]``; ``"fallback"`` serves them with the
            global popularity seen at fit time (``source`` is
            ``"fallback_popular"``). For an ordered chain of real models use
            :class:`~persona_rec.models.FallbackChain`.
        dataset : Dataset, optional
            Score against this Dataset instead of the fit data: user states
            and histories (for scoring and ``filter_seen``) come from it, e.g.
            a newer snapshot of the same shop. Its items are mapped to the
            model's items by id; interactions with unknown items are ignored
            (with a warning). Models that need fit-time factors for a user
            (ALS, BPR) fold in or skip users unknown at fit time, as their
            docstring says.
        recent_events : pandas.DataFrame, optional
            Events that happened after ``fit`` (``user_id``, ``item_id`` and
            optionally ``timestamp``, ``event``, ``weight``, ``quantity``,
            ``price``, ``order_id``), folded into this call without refitting
            and without changing the model: they join the users' histories
            for scoring and ``filter_seen``, and a user with recent events is
            served as hot (also when unknown at fit time). How each model
            uses them is in its docstring (item-kNN scores the new history,
            ALS recomputes the user's factors, the repurchase model recomputes
            the user's pair features); see ``docs/models.md`` ("Real-time
            updates"). Not combined with ``dataset``.

        Returns
        -------
        pandas.DataFrame
            Columns ``user_id, item_id, score, rank, source``; ``rank``
            starts at 1; ``score`` is model-specific (higher is better).

        Raises
        ------
        NotFittedError
            The model is not fitted.
        InvalidParameterError
            ``k`` or ``on_unknown`` is invalid.
        UnknownIdError
            ``on_unknown="raise"`` and some users cannot be served.
        """
        ids, request = self._request(user_ids, k, filter_seen=filter_seen, items=items,
                                     exclude=exclude, item_filter=item_filter,
                                     on_unknown=on_unknown, dataset=dataset,
                                     recent_events=recent_events)
        return self._recommend(ids, request, on_unknown)

    def _request(self, user_ids: Any, k: int, *, filter_seen: Any, items: Any, exclude: Any,
                 item_filter: Any, on_unknown: str, dataset: Any,
                 recent_events: Any) -> tuple[np.ndarray, RecommendRequest]:
        """The front half of :meth:`recommend`: validate the call, list the users, build the request.

        Returns the distinct user ids (in order of first appearance) and the
        :class:`~persona_rec.models._request.RecommendRequest` that
        :meth:`_recommend` (the back half, which composites such as
        :class:`~persona_rec.models.FallbackChain` override) serves.
        """
        self._check_fitted()
        owner = f"{type(self).__name__}.recommend"
        k = check_int(k, "k", minimum=1, owner=owner)
        check_choice(on_unknown, "on_unknown", ON_UNKNOWN, owner=owner)
        if not isinstance(filter_seen, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'filter_seen' parameter of {owner} must be a bool, got {filter_seen!r}."
            )
        if dataset is not None and not isinstance(dataset, Dataset):
            raise InvalidDtypeError(
                f"The 'dataset' parameter of {owner} must be a Dataset or None, "
                f"got {type(dataset).__name__}."
            )
        ids = _as_id_array(user_ids)
        if len(ids):
            ids = np.asarray(pd.unique(ids), dtype=ids.dtype) if ids.dtype.kind != "O" \
                else pd.unique(ids)
        mask = build_item_mask(self.item_map_, self.item_attributes_, items, exclude, item_filter)
        recent = None
        if recent_events is not None:
            if not type(self).folds_recent_events:
                raise InvalidParameterError(
                    f"{owner} does not fold in recent_events (folds_recent_events=False); "
                    f"refit it on the newer data, or use a model that does.")
            if dataset is not None:
                raise InvalidParameterError(
                    f"{owner}: pass either 'dataset' or 'recent_events', not both (fold the "
                    f"recent events into the dataset instead).")
            recent = recent_history(recent_events, ids, self.user_map_, self.item_map_, owner)
        arguments = dict(filter_seen=filter_seen, items=items, exclude=exclude,
                         item_filter=item_filter, dataset=dataset, recent_events=recent_events)
        request = RecommendRequest(k=k, filter_seen=bool(filter_seen), item_mask=mask,
                                   dataset=dataset, recent=recent, arguments=arguments)
        return ids, request

    def _recommend(self, ids: np.ndarray, request: RecommendRequest,
                   on_unknown: str) -> pd.DataFrame:
        """The back half of :meth:`recommend`: serve the users of a validated request."""
        k = request.k
        idx, state = self._user_states(ids, request.dataset, request.recent)
        served = self._served_states()[state]
        unserved = ~served
        if unserved.any() and on_unknown == "raise":
            names = np.array(["hot", "warm", "cold"])
            bad_states = sorted(set(names[state[unserved]].tolist()))
            raise UnknownIdError(
                f"{type(self).__name__} cannot serve {int(unserved.sum())} user(s) in state(s) "
                f"{bad_states} (it serves hot={self.serves_hot}, warm={self.serves_warm}, "
                f"cold={self.serves_cold}), e.g. {example_values(ids[unserved])}; pass "
                f"on_unknown='fallback' or 'skip', or use a FallbackChain."
            )
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]] = []
        hooks = (
            (0, lambda u: self._score(u, request)),
            (1, lambda u: self._score_warm(u, request)),
        )
        for code, fn in hooks:
            sel = np.flatnonzero(served & (state == code))
            if not len(sel):
                continue
            grouped = self._grouped_scores(idx[sel], request)
            if grouped is None:
                if code == 0 and request.item_mask is None:
                    ranked = self._rank_sparse(sel, idx[sel], request)
                    if ranked is not None:
                        parts.append(ranked + (self.name,))
                        continue
                parts.append(self._rank(sel, idx[sel], fn, request) + (self.name,))
                continue
            codes, vectors = grouped
            for g in np.unique(codes):  # loop over groups (segments), not users
                sub = sel[codes == g]
                parts.append(self._rank(sub, idx[sub], None, request, vector=vectors[g])
                             + (self.name,))
        sel = np.flatnonzero(served & (state == 2))
        if len(sel):
            parts.append(self._rank(sel, idx[sel], None, request, vector=self._score_cold())
                         + (self.name,))
        fill = self._fill_scores(request)
        if fill is not None and parts:  # the model's own fill link, below its own rows
            merged, counts = fill_down(parts, len(ids), k)
            sel = np.flatnonzero(served & (counts < k))
            parts = [merged]
            if len(sel):
                parts = [fill_down([merged, self._rank(sel, idx[sel], None, request,
                                                       vector=fill) + (self.name,)],
                                   len(ids), k)[0]]
        if unserved.any() and on_unknown == "fallback":
            sel = np.flatnonzero(unserved)
            parts.append(self._popularity_part(sel, idx[sel], request))
        frame = self._assemble(ids, parts)
        if on_unknown == "skip":
            frame.attrs["unserved"] = ids[unserved].tolist()
        return frame

    def _rank(
        self,
        positions: np.ndarray,
        user_idx: np.ndarray,
        score_fn: Any,
        request: RecommendRequest,
        vector: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-k per user: returns (request positions, item indices, scores)."""
        k, filter_seen, mask = request.k, request.filter_seen, request.item_mask
        n_items = len(self.item_map_)
        if vector is not None and (not filter_seen or (user_idx < 0).all()):
            # everyone shares one ranking: rank once, repeat
            p, it, sc = topk(vector[None, :].astype(np.float64), None, k, mask)
            counts = len(positions)
            return (np.repeat(positions, len(it)), np.tile(it, counts), np.tile(sc, counts))
        cand = None
        if vector is not None:
            # shared ranking minus each user's history: only the top (k + longest
            # history) items of the shared ranking can make anyone's top k
            vec = np.where(np.isnan(vector), -np.inf, vector).astype(np.float64)
            if mask is not None:
                vec[~mask] = -np.inf
            hist_all = self._history(user_idx, request)
            longest = int(np.diff(hist_all.indptr).max()) if len(user_idx) else 0
            n_cand = min(n_items, k + longest)
            order = np.lexsort((np.arange(n_items), -vec))
            cand = order[:n_cand]
            cand_vec = vec[cand]
            hist_cand = hist_all[:, cand].tocsr()
            n_cols = n_cand
        else:
            n_cols = n_items
        batch = max(1, self.batch_elements // max(1, n_cols))
        out_p, out_i, out_s = [], [], []
        for start in range(0, len(positions), batch):
            u = user_idx[start : start + batch]
            if cand is not None:
                scores = np.repeat(cand_vec[None, :], len(u), axis=0)
                seen = hist_cand[start : start + batch]
                p, it, sc = topk(scores, seen, k, None)
                out_p.append(positions[start : start + batch][p])
                out_i.append(cand[it])
                out_s.append(sc)
                continue
            else:
                scores = float_scores(score_fn(u))
                if scores.shape != (len(u), n_items):
                    raise InvalidValueError(
                        f"{type(self).__name__} scoring hook returned shape {scores.shape}, "
                        f"expected {(len(u), n_items)}."
                    )
            seen = self._history(u, request) if filter_seen else None
            p, it, sc = topk(scores, seen, k, mask)
            out_p.append(positions[start : start + batch][p])
            out_i.append(it)
            out_s.append(sc)
        return np.concatenate(out_p), np.concatenate(out_i), np.concatenate(out_s)

    def _rank_sparse(
        self, positions: np.ndarray, user_idx: np.ndarray, request: RecommendRequest
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Top-k from :meth:`_sparse_scores` in batches; None when the model has none."""
        batch = 20_000
        out_p, out_i, out_s = [], [], []
        for start in range(0, len(positions), batch):
            u = user_idx[start : start + batch]
            mat = self._sparse_scores(u, request)
            if mat is None:
                return None
            seen = self._history(u, request) if request.filter_seen else None
            p, it, sc = topk_sparse(sp.csr_matrix(mat), seen, request.k)
            out_p.append(positions[start : start + batch][p])
            out_i.append(it)
            out_s.append(sc)
        if not out_p:
            return None
        return np.concatenate(out_p), np.concatenate(out_i), np.concatenate(out_s)

    def _assemble(self, ids: np.ndarray, parts: list[tuple[Any, ...]]) -> pd.DataFrame:
        """The recommendation frame of ranked parts ``(positions, item indices, scores, source)``."""
        pos, item, score, source = _concat_parts(parts)
        order = np.argsort(pos, kind="stable")
        return recommendation_frame(ids, pos[order], self.item_map_.to_external(item[order]),
                                    score[order], source[order])

    # --------------------------------------------------------- similar items
    def similar_items(
        self,
        item_ids: Any,
        k: int = 10,
        *,
        items: Any = None,
        exclude: Any = None,
        item_filter: ItemFilter | Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Return up to ``k`` items most similar to each of ``item_ids``.

        Parameters
        ----------
        item_ids : array-like
            External item ids known to the model.
        k : int, default 10
            Neighbours per item (the item itself is never returned).
        items, exclude, item_filter
            Same filters as in :meth:`recommend`.

        Returns
        -------
        pandas.DataFrame
            Columns ``item_id, similar_item_id, score, rank``.

        Raises
        ------
        NotImplementedError
            The model has no notion of item similarity.
        UnknownIdError
            An item id is unknown.
        """
        self._check_fitted()
        if type(self)._similar is Recommender._similar:
            raise NotImplementedError(f"{type(self).__name__} does not support similar_items.")
        k = check_int(k, "k", minimum=1, owner=f"{type(self).__name__}.similar_items")
        ids = _as_id_array(item_ids)
        if len(ids):
            ids = pd.unique(ids) if ids.dtype.kind == "O" else np.asarray(pd.unique(ids))
        idx = self.item_map_.to_internal(ids, what="item_id")
        mask = build_item_mask(self.item_map_, self.item_attributes_, items, exclude, item_filter)
        n_items = len(self.item_map_)
        batch = max(1, self.batch_elements // max(1, n_items))
        out_p, out_i, out_s = [], [], []
        for start in range(0, len(idx), batch):
            it = idx[start : start + batch]
            scores = np.asarray(self._similar(it), dtype=np.float64).copy()
            scores[np.arange(len(it)), it] = -np.inf
            p, i, s = topk(scores, None, k, mask)
            out_p.append(p + start)
            out_i.append(i)
            out_s.append(s)
        pos = np.concatenate(out_p) if out_p else np.empty(0, dtype=np.int64)
        item = np.concatenate(out_i) if out_i else np.empty(0, dtype=np.int64)
        score = np.concatenate(out_s) if out_s else np.empty(0)
        return pd.DataFrame(
            {
                Columns.ITEM: ids[pos] if len(ids) else ids[:0],
                SIMILAR_ITEM: self.item_map_.to_external(item),
                Columns.SCORE: score.astype(np.float32),
                Columns.RANK: _ranks(pos),
            }
        )

    # ------------------------------------------------------------ persistence
    @fill_doc(save_parameters=SAVE_PARAMETERS)
    def save(self, path: str | os.PathLike[str], *, key: bytes | str | None = None) -> Path:
        """Save the fitted model to one ``.npz`` file (arrays + JSON header).

        No pickle is used; see :mod:`persona_rec.persistence`.

        {save_parameters}
        """
        return save_model(self, path, key=key)

    @classmethod
    @fill_doc(load_parameters=LOAD_PARAMETERS)
    def load(cls, path: str | os.PathLike[str], *, key: bytes | str | None = None) -> Recommender:
        """Load a model saved with :meth:`save`.

        ``Recommender.load`` accepts any registered model;
        ``SomeModel.load`` additionally checks the stored class.

        {load_parameters}

        Raises
        ------
        CorruptFileError
            Unreadable, tampered or mismatched file (a
            :class:`~persona_rec.persistence.SignatureError` for signature
            problems).
        """
        return load_model(path, expected=cls, key=key)


def _concat_parts(parts: list[tuple[Any, ...]]) -> tuple[np.ndarray, ...]:
    """Concatenate ranked parts; a part's source is one label or one label per row."""
    if not parts:
        return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0),
                np.empty(0, dtype=object))
    source = [np.full(len(p[0]), p[3], dtype=object) if isinstance(p[3], str)
              else np.asarray(p[3], dtype=object) for p in parts]
    return (np.concatenate([np.asarray(p[0], dtype=np.int64) for p in parts]),
            np.concatenate([np.asarray(p[1]) for p in parts]),
            np.concatenate([np.asarray(p[2]) for p in parts]), np.concatenate(source))


def fill_down(parts: list[tuple[Any, ...]], n_users: int,
              k: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Merge ranked parts, strongest first: the one fill mechanism of persona_rec.

    Each user keeps its rows of the first part, then rows of the next parts
    for items it has not received yet, until it has ``k`` rows. This is how a
    :class:`~persona_rec.models.FallbackChain` fills users down its links and
    how a model's own fill (:meth:`Recommender._fill_scores`) joins its rows.

    Parameters
    ----------
    parts : list of (positions, items, scores, source)
        Per part, the rows of each user in rank order; ``items`` are any
        hashable ids (internal indices or external ids), ``source`` one label
        or one label per row.
    n_users : int
        Number of user positions.
    k : int
        Rows per user at most.

    Returns
    -------
    (positions, items, scores, sources), counts
        The merged rows sorted by position, then part, then rank; and the
        number of rows of each user position.

    Examples
    --------
    >>> import numpy as np
    >>> strong = (np.array([0, 0]), np.array(["a", "b"]), np.array([2.0, 1.0]), "knn")
    >>> weak = (np.array([0, 0, 1]), np.array(["b", "c", "a"]), np.array([9.0, 8.0, 9.0]), "pop")
    >>> (pos, items, _, src), counts = fill_down([strong, weak], n_users=2, k=3)
    >>> pos.tolist(), items.tolist(), src.tolist(), counts.tolist()
    ([0, 0, 0, 1], ['a', 'b', 'c', 'a'], ['knn', 'knn', 'pop', 'pop'], [3, 1])
    """
    pos, item, score, source = _concat_parts(parts)
    order = np.argsort(pos, kind="stable")  # parts in order, each user's rows in rank order
    pos, item, score, source = pos[order], item[order], score[order], source[order]
    codes = pd.factorize(item)[0].astype(np.int64) if len(item) else np.zeros(0, np.int64)
    first = np.unique(pos * max(1, int(codes.max(initial=0)) + 1) + codes, return_index=True)[1]
    keep = np.zeros(len(pos), dtype=bool)
    keep[first] = True
    keep[keep] = position_in_group(pos[keep]) < k
    pos, item, score, source = pos[keep], item[keep], score[keep], source[keep]
    return (pos, item, score, source), np.bincount(pos, minlength=n_users)


def recommendation_frame(ids: np.ndarray, pos: np.ndarray, items: np.ndarray, scores: np.ndarray,
                         sources: np.ndarray) -> pd.DataFrame:
    """The ``user_id, item_id, score, rank, source`` frame of rows sorted by user position.

    ``rank`` counts from 1 within each user's run of rows; scores are stored
    as float32.
    """
    return pd.DataFrame(
        {
            Columns.USER: ids[pos] if len(ids) else ids[:0],
            Columns.ITEM: items,
            Columns.SCORE: np.asarray(scores).astype(np.float32),
            Columns.RANK: _ranks(pos),
            Columns.SOURCE: sources,
        }
    )


def _ranks(pos: np.ndarray) -> np.ndarray:
    """1-based rank within runs of equal, sorted ``pos``."""
    n = len(pos)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.r_[True, pos[1:] != pos[:-1]]
    start_idx = np.flatnonzero(starts)
    run = np.repeat(start_idx, np.diff(np.r_[start_idx, n]))
    return (np.arange(n) - run + 1).astype(np.int64)


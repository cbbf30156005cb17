"""Candidate generators: any fitted :class:`Recommender` proposes candidates.

A :class:`CandidateGenerator` wraps an (unfitted) model, how many candidates
it proposes per user and, optionally, a small grid of its own
hyper-parameters that the two-stage model tunes on its internal validation
split. Each generator contributes its top ``n_candidates`` items per user,
and for every candidate of the union its score, its within-user z-score and
its rank in the generator's own list (NaN when it did not propose the item)
as features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..._arrays import csr_lookup, position_in_group
from ..._validation import check_int
from ...exceptions import InvalidDtypeError, InvalidParameterError
from .._request import RecommendRequest
from .._threads import limit_blas_threads
from .._topk import float_scores, topk, topk_sparse
from ..base import Recommender

__all__ = ["CandidateGenerator", "BatchScores", "dense_scores", "top_n", "ndcg_per_row"]


class CandidateGenerator:
    """One source of candidates for a two-stage model.

    Parameters
    ----------
    model : Recommender
        An unfitted model (it is cloned; the object passed is not modified).
        It must score users with interactions (``serves_hot``).
    n_candidates : int, default 100
        Items it proposes per user.
    name : str, optional
        Label in features, the guard report and ``explain`` (default: the
        model's ``name``).
    param_grid : sequence of dict, optional
        Parameter overrides tried on the internal validation split; the best
        (by NDCG@10 of the generator alone) is kept. ``None``: the model's
        own parameters only.
    fit_params : dict, optional
        Extra keyword arguments of the model's ``fit`` (e.g.
        ``{"graph": social_graph}`` for
        :class:`~persona_rec.models.SocialRecommender`). They are used when
        fitting, not saved with the model: a loaded model serves without
        them, but refitting it needs them again.

    Examples
    --------
    >>> from persona_rec.models import ALSRecommender
    >>> g = CandidateGenerator(ALSRecommender(), 50, param_grid=[{"regularization": 1.0}])
    >>> g.name, [c["regularization"] for c in g.configs()]
    ('als', [1.0])
    """

    def __init__(self, model: Recommender, n_candidates: int = 100, name: str | None = None,
                 param_grid: Sequence[Mapping[str, Any]] | None = None,
                 fit_params: Mapping[str, Any] | None = None) -> None:
        if not isinstance(model, Recommender):
            raise InvalidDtypeError(
                f"CandidateGenerator: model must be a persona_rec Recommender, got "
                f"{type(model).__name__}."
            )
        if not model.serves_hot:
            raise InvalidParameterError(
                f"CandidateGenerator: {type(model).__name__} does not score users with "
                f"interactions (serves_hot=False), so it cannot propose candidates."
            )
        self.model = model
        self.n_candidates = check_int(n_candidates, "n_candidates", minimum=1,
                                      owner="CandidateGenerator")
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidParameterError(
                f"CandidateGenerator: name must be a non-empty str, got {name!r}.")
        self.name = name or model.name
        grid = [dict(p) for p in param_grid] if param_grid is not None else None
        if grid is not None:
            known = set(model.get_params())
            for p in grid:
                bad = sorted(set(p) - known)
                if bad:
                    raise InvalidParameterError(
                        f"CandidateGenerator {self.name!r}: param_grid names unknown "
                        f"parameter(s) {bad} of {type(model).__name__}; known: {sorted(known)}."
                    )
            if not grid:
                raise InvalidParameterError(
                    f"CandidateGenerator {self.name!r}: param_grid must not be empty.")
        self.param_grid = grid
        if fit_params is not None and not isinstance(fit_params, Mapping):
            raise InvalidParameterError(
                f"CandidateGenerator {self.name!r}: fit_params must be a dict of keyword "
                f"arguments of {type(model).__name__}.fit, got {type(fit_params).__name__}.")
        self.fit_params = dict(fit_params or {})

    def configs(self) -> list[dict[str, Any]]:
        """Full parameter dicts to try (the model's own when there is no grid)."""
        base = self.model.get_params()
        return [{**base, **p} for p in (self.param_grid or [{}])]

    def build(self, params: Mapping[str, Any]) -> Recommender:
        """An unfitted model with ``params``."""
        return type(self.model)(**dict(params))

    def fit(self, params: Mapping[str, Any], dataset: Any) -> Recommender:
        """A model with ``params`` fitted on ``dataset`` (with :attr:`fit_params`)."""
        return self.build(params).fit(dataset, **self.fit_params)

    def __repr__(self) -> str:
        extra = f", fit_params={sorted(self.fit_params)}" if self.fit_params else ""
        return (f"CandidateGenerator({self.model!r}, n_candidates={self.n_candidates}, "
                f"name={self.name!r}, param_grid={self.param_grid!r}{extra})")


def _scoring_request(request: RecommendRequest | None) -> RecommendRequest:
    """A generator's request: the history kept (masking is the caller's), recent events passed."""
    if request is None or request.recent is None:
        return RecommendRequest(filter_seen=False)
    return RecommendRequest(filter_seen=False, recent=request.recent)


def dense_scores(model: Recommender, user_idx: np.ndarray,
                 request: RecommendRequest | None = None) -> np.ndarray:
    """Scores of fitted ``model`` for users (fit-data indices), ``-inf`` = no evidence.

    Parameters
    ----------
    model : Recommender
        A fitted model serving hot users.
    user_idx : ndarray of int
    request : RecommendRequest, optional
        The serving call's request: its ``recent`` events (``recommend(...,
        recent_events=)``) are folded in by the model.

    Returns
    -------
    ndarray (len(user_idx), n_items) of float32 or float64
        The model's own float type (ALS scores stay float32: half the memory
        traffic of the top-k on wide catalogues, and the same order, since
        widening to float64 is exact); other dtypes become float64.
    """
    with limit_blas_threads():
        s = float_scores(model._score(np.asarray(user_idx, dtype=np.int64),
                                      _scoring_request(request)))
    s = s.copy() if not s.flags.writeable else s
    s[np.isnan(s)] = -np.inf
    return s


class BatchScores:
    """One generator's scores for a batch of users, in the cheapest exact form.

    * ``dense``: a ``users x items`` matrix (ALS, kNN, EASE, ...);
    * ``sparse``: a CSR matrix whose stored entries are the only finite
      scores (buy-again and repurchase lists, from :meth:`Recommender._sparse_scores`);
    * ``vector``: one score vector shared by every user (popularity, from
      :meth:`Recommender._shared_scores`).

    :meth:`top` and :meth:`at` give the same candidates, order, tie-breaks
    and values in every form (``-inf`` = no evidence), so generators that
    propose a few items per user never build a dense matrix.

    Parameters
    ----------
    model : Recommender
        A fitted model serving hot users.
    user_idx : ndarray of int
        Fit-data user indices of the batch.
    request : RecommendRequest, optional
        The serving call's request (its ``recent`` events are folded in).
    """

    def __init__(self, model: Recommender, user_idx: np.ndarray,
                 request: RecommendRequest | None = None) -> None:
        user_idx = np.asarray(user_idx, dtype=np.int64)
        self.n_rows = len(user_idx)
        self.n_items = len(model.item_map_)
        self.dense: np.ndarray | None = None
        self.sparse: sp.csr_matrix | None = None
        self.vector: np.ndarray | None = None
        self.seen: sp.csr_matrix | None = None
        shared = model._shared_scores()
        if shared is not None:
            v = np.asarray(shared, dtype=np.float64).copy()
            v[np.isnan(v)] = -np.inf
            self.vector = v
            return
        if request is not None and request.recent is not None and \
                not type(model).folds_recent_events:
            raise InvalidParameterError(
                f"generator {type(model).__name__} does not fold in recent_events "
                f"(folds_recent_events=False); refit the model on the newer data.")
        mat = model._sparse_scores(user_idx, _scoring_request(request))
        if mat is not None:
            mat = sp.csr_matrix(mat, dtype=np.float64)
            mat.sum_duplicates()
            mat.sort_indices()
            mat.data[np.isnan(mat.data)] = -np.inf
            self.sparse = mat
            return
        self.dense = dense_scores(model, user_idx, request)

    def mask(self, seen_rows: sp.csr_matrix) -> None:
        """Remove each row's ``seen_rows`` items (``-inf``), in place."""
        if self.dense is not None:
            r = np.repeat(np.arange(self.n_rows), np.diff(seen_rows.indptr))
            self.dense[r, seen_rows.indices] = -np.inf
        else:
            self.seen = seen_rows

    def top(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` finite entries per row, ``(rows, cols)`` in rank order (see :func:`top_n`)."""
        if self.dense is not None:
            return top_n(self.dense, n)
        if self.sparse is not None:
            mat = self.sparse
        else:
            v = self.vector
            assert v is not None
            longest = int(np.diff(self.seen.indptr).max()) if (
                self.seen is not None and self.n_rows) else 0
            order = topk(v[None, :], None, n + longest, None)[1]
            mat = sp.csr_matrix(
                (np.tile(v[order], self.n_rows),
                 np.tile(order, self.n_rows),
                 np.arange(self.n_rows + 1) * len(order)),
                shape=(self.n_rows, len(v)))
        r, c, _ = topk_sparse(mat, self.seen, n)
        return r.astype(np.int64), c.astype(np.int64)

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Scores at ``(rows, cols)`` pairs (``-inf`` where there is none or the item was seen)."""
        if self.dense is not None:
            return self.dense[rows, cols].astype(np.float64)
        if self.vector is not None:
            out = self.vector[cols].astype(np.float64)
        else:
            out = csr_lookup(self.sparse, rows, cols, default=-np.inf)
        if self.seen is not None and self.seen.nnz:
            seen = csr_lookup(self.seen, rows, cols, default=-np.inf)
            out[seen != -np.inf] = -np.inf  # stored entries are the seen items
        return out


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n`` finite entries per row: ``(rows, cols)`` in rank order within each row.

    Ties are broken by the lower column index (the ranking engine of
    :class:`~persona_rec.models.Recommender`, which also settles ties at the cut).
    """
    if scores.shape[0] == 0 or min(n, scores.shape[1]) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols, _ = topk(scores, None, n, None)
    return rows.astype(np.int64), cols.astype(np.int64)


_DISC = 1.0 / np.log2(np.arange(2, 2 + 512))


def ndcg_per_row(rows: np.ndarray, hits: np.ndarray, n_rows: int, n_labels: np.ndarray,
                 k: int = 10) -> np.ndarray:
    """NDCG@k per row from ranked ``(rows, hit)`` pairs (rows sorted, rank order within).

    Parameters
    ----------
    rows : ndarray of int
        Row of each ranked entry, grouped by row in rank order.
    hits : ndarray of bool
        Whether the entry is relevant.
    n_rows : int
    n_labels : ndarray (n_rows,)
        Relevant items per row (the ideal DCG uses ``min(n_labels, k)``).
    k : int, default 10

    Returns
    -------
    ndarray (n_rows,) of float; NaN where ``n_labels == 0``.
    """
    if len(rows):
        pos = position_in_group(rows)
        top = pos < k
        dcg = np.bincount(rows[top], weights=np.where(hits[top], _DISC[pos[top]], 0.0),
                          minlength=n_rows)
    else:
        dcg = np.zeros(n_rows)
    ideal = np.r_[0.0, np.cumsum(_DISC[:k])]
    nl = np.minimum(n_labels, k).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nl > 0, dcg / ideal[nl], np.nan)

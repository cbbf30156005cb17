"""EASE: embarrassingly shallow autoencoder (Steck 2019), closed form."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._validation import check_bool, check_number
from .._text import fill_doc
from ..dataset import Dataset
from ..exceptions import InvalidValueError
from ._threads import limit_blas_threads
from ..persistence import Learned
from ._request import RecommendRequest
from ._docs import TOY_INTERACTIONS
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["EASERecommender"]


@fill_doc(toy_interactions=TOY_INTERACTIONS)
class EASERecommender(Recommender):
    """EASE item-item model: ``B = I - P / diag(P)`` with ``P = (X'X + lambda I)^-1``.

    Only items with at least one interaction enter the closed form (others
    can never score), so memory grows with the number of *active* items
    ``m``: about ``3 * m^2 * 8`` bytes while fitting (Gram matrix, its inverse
    and ``B``). The memory guard refuses to start beyond ``max_memory_gb``.

    Parameters
    ----------
    regularization : float, default 200.0
        L2 penalty ``lambda`` (larger = smoother; ~100-1000 is typical).
    binary : bool, default True
        Use 0/1 interactions (the usual EASE setting); False uses summed
        event weights.
    max_memory_gb : float, default 4.0
        Estimated fitting memory above which ``fit`` raises instead of
        running out of memory.

    Attributes
    ----------
    active_items_ : numpy.ndarray of int
        Internal indices of the items in the model.
    weights_ : numpy.ndarray of float32
        ``(m, m)`` item-item weights ``B`` (zero diagonal).

    Examples
    --------
    {toy_interactions}
    >>> model = EASERecommender(regularization=1.0).fit(Dataset.from_frames(inter))
    >>> model.recommend([3], k=1)[["user_id", "item_id", "rank"]]
       user_id item_id  rank
    0        3       b     1
    """

    learned_state = {
        "active_items_": Learned.array("i", "active_items", index_of="items"),
        "weights_": Learned.array("f", "active_items", "active_items"),
    }

    default_name = "ease"
    folds_recent_events = True

    def __init__(
        self,
        regularization: float = 200.0,
        binary: bool = True,
        max_memory_gb: float = 4.0,
    ) -> None:
        owner = "EASERecommender"
        self.regularization = check_number(regularization, "regularization", low=0,
                                           low_inclusive=False, owner=owner)
        self.binary = check_bool(binary, "binary", owner=owner)
        self.max_memory_gb = check_number(max_memory_gb, "max_memory_gb", low=0,
                                          low_inclusive=False, owner=owner)

    @staticmethod
    def estimated_memory_gb(n_items: int) -> float:
        """Approximate peak memory (GB) of fitting EASE on ``n_items`` active items."""
        return 3.0 * float(n_items) ** 2 * 8 / 1e9

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        active = np.flatnonzero(dataset.hot_item_mask())
        need = self.estimated_memory_gb(len(active))
        if need > self.max_memory_gb:
            raise InvalidValueError(
                f"EASERecommender: {len(active)} active items need about {need:.1f} GB to fit, "
                f"more than max_memory_gb={self.max_memory_gb}. Filter rare items (e.g. keep "
                f"items with >= N interactions), raise max_memory_gb if the memory is there, "
                f"or use ItemKNNRecommender/ALSRecommender."
            )
        x = dataset.get_user_item_matrix(binary=self.binary)[:, active]
        with limit_blas_threads():
            gram = (x.T @ x).toarray().astype(np.float64)
            gram[np.diag_indices_from(gram)] += self.regularization
            import scipy.linalg

            p = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        b = p / (-np.diag(p))[None, :]
        b[np.diag_indices_from(b)] = 0.0
        self.active_items_ = active.astype(np.int64)
        self.weights_ = b.astype(np.float32)

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        hist = self._history(user_idx, request)[:, self.active_items_]
        if self.binary:
            hist = hist.copy()
            hist.data[:] = 1.0
        out = np.full((len(user_idx), len(self.item_map_)), -np.inf, dtype=np.float32)
        out[:, self.active_items_] = np.asarray(hist @ self.weights_, dtype=np.float32)
        empty = np.diff(hist.indptr) == 0
        out[empty] = -np.inf  # no history: no evidence
        return out

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        out = np.full((len(item_idx), len(self.item_map_)), -np.inf)
        pos = np.full(len(self.item_map_), -1, dtype=np.int64)
        pos[self.active_items_] = np.arange(len(self.active_items_))
        p = pos[item_idx]
        ok = p >= 0
        rows = np.zeros((len(item_idx), len(self.active_items_)))
        rows[ok] = self.weights_[p[ok]]
        rows[~ok] = -np.inf
        out[:, self.active_items_] = rows
        return out

"""Item-based k-nearest-neighbours recommender (cosine, BM25, TF-IDF via ``implicit``)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_choice, check_int, check_number
from ..dataset import Dataset
from ._threads import limit_blas_threads
from ..persistence import Learned
from ._request import RecommendRequest
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["ItemKNNRecommender"]

_SIMILARITIES = ("cosine", "bm25", "tfidf")


class ItemKNNRecommender(Recommender):
    """Item-kNN: score = user history x item-item similarity (top ``k_neighbours``).

    The similarity matrix is computed by ``implicit.nearest_neighbours``
    (``CosineRecommender``, ``BM25Recommender``, ``TFIDFRecommender``) and
    kept as a sparse ``similarity_`` matrix; scoring is a sparse product done
    here, so a saved model needs no ``implicit`` object. Serves hot users
    only; items with no neighbour link to the user's history are not
    recommended (score ``-inf``), so a :class:`FallbackChain` can fill them.
    With ``filter_seen=False`` an item's similarity to itself counts, which
    favours re-buying.

    Parameters
    ----------
    similarity : {"cosine", "bm25", "tfidf"}, default "bm25"
        Item-item similarity.
    k_neighbours : int, default 50
        Neighbours kept per item.
    bm25_k1, bm25_b : float
        BM25 parameters (only for ``similarity="bm25"``).
    binary : bool, default False
        Use 0/1 interactions instead of summed event weights.
    num_threads : int, default 1
        Threads used by ``implicit`` (0 = all cores).

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix
        ``(n_items, n_items)`` item-item similarity (row = source item).

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 3],
    ...                       "item_id": ["a", "b", "a", "b", "c", "c"],
    ...                       "timestamp": pd.date_range("2024-01-01", periods=6)})
    >>> model = ItemKNNRecommender("cosine").fit(Dataset.from_frames(inter))

    ``a`` and ``b`` were bought by the same two users (cosine 1); ``a`` and
    ``c`` share one of two buyers each (cosine 0.5):

    >>> model.similar_items(["a"], k=2)
      item_id similar_item_id  score  rank
    0       a               b    1.0     1
    1       a               c    0.5     2
    >>> model.recommend([1], k=1)[["user_id", "item_id", "score"]]  # 0.5 from a + 0.5 from b
       user_id item_id  score
    0        1       c    1.0
    """

    learned_state = {"similarity_": Learned.sparse("f", "items", "items")}

    default_name = "item_knn"
    folds_recent_events = True

    def __init__(
        self,
        similarity: str = "bm25",
        k_neighbours: int = 50,
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        binary: bool = False,
        num_threads: int = 1,
    ) -> None:
        owner = "ItemKNNRecommender"
        self.similarity = check_choice(similarity, "similarity", _SIMILARITIES, owner=owner)
        self.k_neighbours = check_int(k_neighbours, "k_neighbours", minimum=1, owner=owner)
        self.bm25_k1 = check_number(bm25_k1, "bm25_k1", low=0, owner=owner)
        self.bm25_b = check_number(bm25_b, "bm25_b", low=0, high=1, owner=owner)
        self.binary = check_bool(binary, "binary", owner=owner)
        self.num_threads = check_int(num_threads, "num_threads", minimum=0, owner=owner)

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        from implicit import nearest_neighbours as nn

        k = self.k_neighbours + 1  # implicit counts the item itself as a neighbour
        if self.similarity == "cosine":
            model = nn.CosineRecommender(K=k, num_threads=self.num_threads)
        elif self.similarity == "tfidf":
            model = nn.TFIDFRecommender(K=k, num_threads=self.num_threads)
        else:
            model = nn.BM25Recommender(K=k, K1=self.bm25_k1, B=self.bm25_b,
                                       num_threads=self.num_threads)
        matrix = dataset.get_user_item_matrix(binary=self.binary)
        with limit_blas_threads(), warnings.catch_warnings():
            # implicit converts its own BM25/TF-IDF weighted COO matrix to CSR and warns
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model.fit(matrix, show_progress=False)
        sim = sp.csr_matrix(model.similarity, dtype=np.float32)
        sim.eliminate_zeros()
        self.similarity_ = sim

    def _user_history(self, user_idx: np.ndarray, request: RecommendRequest) -> sp.csr_matrix:
        hist = self._history(user_idx, request)
        if self.binary:
            hist = hist.copy()
            hist.data[:] = 1.0
        return hist

    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        scores = (self._user_history(user_idx, request) @ self.similarity_).toarray()  # float32
        scores[scores == 0] = -np.inf
        return scores

    def _sparse_scores(self, user_idx: np.ndarray,
                       request: RecommendRequest) -> sp.csr_matrix | None:
        """``history @ similarity`` kept sparse when it is (wide catalogues).

        The items with a nonzero score are the only ones :meth:`_score` ranks
        (zero is ``-inf`` there), so the two forms give the same lists. Used
        when the product's upper bound on stored entries (history items x
        their neighbours) is under a fifth of the dense ``users x items``.
        """
        hist = self._user_history(user_idx, request)
        n_rows, n_items = hist.shape
        if not n_rows:
            return None
        neighbours = np.diff(self.similarity_.indptr).astype(np.float64)
        bound = float(np.sum(hist.astype(bool).astype(np.float64) @ neighbours))
        if bound > 0.2 * n_rows * n_items:
            return None
        scores = sp.csr_matrix(hist @ self.similarity_)
        scores.eliminate_zeros()
        return scores

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        scores = self.similarity_[item_idx].toarray().astype(np.float64)
        scores[scores == 0] = -np.inf
        return scores

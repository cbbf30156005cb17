"""Co-purchase / association rules: "frequently bought together" and cross-selling.

:class:`CoPurchaseRecommender` mines pairwise association rules
``antecedent -> consequent`` from baskets with sparse matrix products:

* a basket is an order (``order_id``) when the interactions have one, else
  a user-day (all purchases of one user on one calendar day);
* ``B`` is the binary baskets x items CSR matrix of purchase events (all
  events when there are no purchase events); ``C = B.T @ B`` holds the
  number of baskets containing both items (its diagonal: baskets containing
  the item);
* ``support(a, c) = C[a, c] / n_baskets``,
  ``confidence(a -> c) = C[a, c] / C[a, a]``,
  ``lift(a -> c) = confidence(a -> c) / (C[c, c] / n_baskets)``.

Pairs seen together in fewer than ``min_count`` baskets are dropped (they
carry no evidence, and dropping them keeps the matrix sparse).

For a user the model aggregates the rules fired by the items of the user's
``n_recent_baskets`` most recent baskets, each basket weighted by
``recency_decay ** age_rank``:
``score(c) = sum_a w(a) * conf(a -> c) * lift_weight(a, c)``, where the lift
weight is ``log1p(lift)`` (rewarding specific associations over items that are
in every basket anyway) or 1 with ``use_lift=False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._validation import check_bool, check_choice, check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError
from ..identifiers import _as_id_array
from ._features import purchase_rows
from ..persistence import Learned
from ._request import RecommendRequest
from ._topk import topk
from .base import Recommender

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["CoPurchaseRecommender", "basket_matrix", "cooccurrence_rules", "BASKETS"]


BASKETS = ("auto", "order", "session", "day", "user")


def basket_matrix(
    inter: pd.DataFrame, n_items: int, *, use_purchases: bool = True, basket: str = "auto"
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Build the binary baskets x items matrix from internal interactions.

    Parameters
    ----------
    inter : pandas.DataFrame
        ``Dataset.internal_interactions``.
    n_items : int
    use_purchases : bool, default True
        Keep purchase/order events only (all events when there are none).
    basket : {"auto", "order", "session", "day", "user"}, default "auto"
        What forms a basket: an ``order_id``, a ``session_id``, a user-day, or
        a user's whole history. ``"auto"`` uses ``order_id`` when present,
        else user-days. Rows with a missing order/session id form one basket
        per user-day.

    Returns
    -------
    (B, basket_user, basket_time)
        ``B`` is CSR float32 ``(n_baskets, n_items)`` with 1 where the item is
        in the basket; ``basket_user[b]`` is the internal user index of basket
        ``b`` and ``basket_time[b]`` its last timestamp (``datetime64[ns]``).

    Raises
    ------
    MissingColumnError
        ``basket="order"`` or ``"session"`` and the column is absent.
    """
    from ..exceptions import MissingColumnError

    keep = purchase_rows(inter, use_purchases)
    u = inter[Columns.USER_IDX].to_numpy()[keep].astype(np.int64)
    i = inter[Columns.ITEM_IDX].to_numpy()[keep].astype(np.int64)
    ts = inter[Columns.TIMESTAMP].to_numpy()[keep]
    day = ts.astype("datetime64[D]").astype(np.int64)
    if basket == "auto":
        basket = "order" if "order_id" in inter.columns else "day"
    if basket in ("order", "session"):
        col = f"{basket}_id"
        if col not in inter.columns:
            raise MissingColumnError(
                f"basket={basket!r} needs an interactions column {col!r}; the data has "
                f"{list(inter.columns)}. Use basket='day' or 'user'."
            )
        key = pd.DataFrame({"u": u, "o": inter[col].to_numpy()[keep]})
        missing = key["o"].isna().to_numpy()
        key["o"] = key["o"].astype(object).where(~missing, "__day__" + pd.Series(day).astype(str))
        codes = key.groupby(["u", "o"], sort=False).ngroup().to_numpy()
    elif basket == "day":
        codes = pd.DataFrame({"u": u, "d": day}).groupby(["u", "d"], sort=False).ngroup().to_numpy()
    else:  # user
        codes = pd.factorize(u)[0]
    n_b = int(codes.max()) + 1 if len(codes) else 0
    B = sp.csr_matrix(
        (np.ones(len(codes), dtype=np.float32), (codes, i)), shape=(n_b, n_items)
    )
    B.sum_duplicates()
    B.data[:] = 1.0
    basket_user = np.zeros(n_b, dtype=np.int64)
    basket_user[codes] = u
    bt = pd.Series(ts).groupby(codes).max()
    basket_time = bt.reindex(np.arange(n_b)).to_numpy(dtype="datetime64[ns]")
    return B, basket_user, basket_time


def cooccurrence_rules(
    B: sp.csr_matrix, min_count: int = 2
) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """Pair counts ``C = B.T @ B`` without the diagonal, pruned to ``>= min_count``.

    Parameters
    ----------
    B : scipy.sparse.csr_matrix
        Binary baskets x items matrix (see :func:`basket_matrix`).
    min_count : int, default 2
        Pairs seen together in fewer baskets are dropped.

    Returns
    -------
    (pairs, item_counts, n_baskets)
        ``pairs`` CSR float32 ``(n_items, n_items)`` of co-occurrence counts
        (zero diagonal); ``item_counts[i]`` = baskets containing ``i``.
    """
    Bc = B.tocsc()
    C = (B.T @ B).tocsr().astype(np.float32)
    counts = np.asarray(Bc.sum(axis=0)).ravel().astype(np.float64)
    C.setdiag(0)
    C.data[C.data < min_count] = 0
    C.eliminate_zeros()
    C.sort_indices()
    return C, counts, B.shape[0]


class CoPurchaseRecommender(Recommender):
    """Association rules from co-purchases: frequently bought together and cross-selling.

    See the module docstring for the definitions of support, confidence and
    lift and how baskets are formed.

    Parameters
    ----------
    min_count : int, default 2
        Minimum number of baskets a pair must share to form a rule.
    n_recent_baskets : int, default 3
        How many of a user's latest baskets fire rules in :meth:`recommend`.
    recency_decay : float, default 0.7
        Weight of the ``r``-th most recent basket is ``recency_decay ** r``.
    use_lift : bool, default True
        Multiply confidence by ``log1p(lift)`` when scoring (favours specific
        associations over generally popular consequents).
    use_purchases : bool, default True
        Mine purchase/order events only (all events when the data has none).
    basket : {"auto", "order", "session", "day", "user"}, default "auto"
        What forms a basket (see :func:`basket_matrix`); ``"user"`` turns the
        model into whole-history item co-occurrence.

    Attributes
    ----------
    pair_counts_ : scipy.sparse.csr_matrix
        ``n_items x n_items`` baskets containing both items (pruned, zero diagonal).
    item_counts_ : numpy.ndarray
        Baskets containing each item.
    n_baskets_ : int
    recent_items_ : scipy.sparse.csr_matrix
        ``n_users x n_items`` recency-weighted items of each user's latest baskets.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({
    ...     "user_id": [1, 1, 2, 2, 3, 3, 4, 5],
    ...     "item_id": ["pasta", "sauce", "pasta", "sauce", "pasta", "cheese", "wine", "wine"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 8),
    ... })
    >>> model = CoPurchaseRecommender().fit(Dataset.from_frames(inter))
    >>> model.rules(min_confidence=0.5)
      antecedent consequent  support  confidence      lift  count
    0      sauce      pasta      0.4    1.000000  1.666667      2
    1      pasta      sauce      0.4    0.666667  1.666667      2
    >>> model.frequently_bought_together(["pasta"], k=2)
      item_id     score  rank
    0   sauce  0.666667     1
    >>> model.recommend([3], k=2)["item_id"].tolist()
    ['sauce']
    """

    learned_state = {
        "pair_counts_": Learned.sparse("f", "items", "items"),
        "item_counts_": Learned.array("f", "items"),
        "n_baskets_": Learned.value(int),
        "recent_items_": Learned.sparse("f", "users", "items"),
    }

    default_name = "copurchase"
    folds_recent_events = True

    def __init__(
        self,
        min_count: int = 2,
        n_recent_baskets: int = 3,
        recency_decay: float = 0.7,
        use_lift: bool = True,
        use_purchases: bool = True,
        basket: str = "auto",
    ) -> None:
        owner = "CoPurchaseRecommender"
        self.min_count = check_int(min_count, "min_count", minimum=1, owner=owner)
        self.n_recent_baskets = check_int(n_recent_baskets, "n_recent_baskets", minimum=1,
                                          owner=owner)
        self.recency_decay = check_number(recency_decay, "recency_decay", low=0,
                                          low_inclusive=False, high=1, owner=owner)
        self.use_lift = check_bool(use_lift, "use_lift", owner=owner)
        self.use_purchases = check_bool(use_purchases, "use_purchases", owner=owner)
        self.basket = check_choice(basket, "basket", BASKETS, owner=owner)

    # ------------------------------------------------------------------ fit
    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        B, b_user, b_time = basket_matrix(dataset.internal_interactions, dataset.n_items,
                                          use_purchases=self.use_purchases, basket=self.basket)
        C, counts, n_b = cooccurrence_rules(B, self.min_count)
        self.pair_counts_ = C
        self.item_counts_ = counts
        self.n_baskets_ = int(n_b)
        self.recent_items_ = self._recent_items(B, b_user, b_time, dataset.n_users)
        self._after_load()

    def _recent_items(self, B: sp.csr_matrix, b_user: np.ndarray, b_time: np.ndarray,
                      n_users: int) -> sp.csr_matrix:
        """Users x items, the latest baskets weighted by ``recency_decay ** age_rank``."""
        n_b = B.shape[0]
        if n_b == 0:
            return sp.csr_matrix((n_users, B.shape[1]), dtype=np.float32)
        order = np.lexsort((-b_time.astype(np.int64), b_user))
        sorted_users = b_user[order]
        starts = np.r_[True, sorted_users[1:] != sorted_users[:-1]]
        first = np.flatnonzero(starts)
        run = np.repeat(first, np.diff(np.r_[first, n_b]))
        age = np.empty(n_b, dtype=np.int64)
        age[order] = np.arange(n_b) - run
        keep = age < self.n_recent_baskets
        w = np.where(keep, self.recency_decay ** age, 0.0).astype(np.float32)
        W = sp.csr_matrix((w[keep], (b_user[keep], np.flatnonzero(keep))),
                          shape=(n_users, n_b))
        out = (W @ B).tocsr().astype(np.float32)
        out.eliminate_zeros()
        return out

    def _after_load(self) -> None:
        C = self.pair_counts_.tocsr()
        rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        counts = np.asarray(self.item_counts_, dtype=np.float64)
        n = max(self.n_baskets_, 1)
        conf = C.data / np.maximum(counts[rows], 1.0)
        lift = conf / np.maximum(counts[C.indices] / n, 1e-12)
        self._confidence = sp.csr_matrix((conf, C.indices, C.indptr), shape=C.shape)
        self._lift = sp.csr_matrix((lift, C.indices, C.indptr), shape=C.shape)
        weight = conf * np.log1p(lift) if self.use_lift else conf
        self._rule_scores = sp.csr_matrix((weight, C.indices, C.indptr), shape=C.shape)

    # ---------------------------------------------------------------- rules
    def rules(
        self,
        min_support: float = 0.0,
        min_confidence: float = 0.0,
        min_lift: float = 0.0,
    ) -> pd.DataFrame:
        """All pairwise rules passing the thresholds.

        Parameters
        ----------
        min_support : float, default 0
            Minimum share of baskets containing both items (0-1).
        min_confidence : float, default 0
            Minimum ``P(consequent | antecedent)`` (0-1).
        min_lift : float, default 0
            Minimum lift (1 = independent).

        Returns
        -------
        pandas.DataFrame
            Columns ``antecedent, consequent, support, confidence, lift, count``
            (external ids), sorted by lift then confidence, descending.
        """
        self._check_fitted()
        owner = "CoPurchaseRecommender.rules"
        min_support = check_number(min_support, "min_support", low=0, high=1, owner=owner)
        min_confidence = check_number(min_confidence, "min_confidence", low=0, high=1, owner=owner)
        min_lift = check_number(min_lift, "min_lift", low=0, owner=owner)
        C = self.pair_counts_.tocsr()
        rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        support = C.data / max(self.n_baskets_, 1)
        conf = self._confidence.data
        lift = self._lift.data
        keep = (support >= min_support) & (conf >= min_confidence) & (lift >= min_lift)
        frame = pd.DataFrame({
            "antecedent": self.item_map_.to_external(rows[keep]),
            "consequent": self.item_map_.to_external(C.indices[keep]),
            "support": support[keep],
            "confidence": conf[keep],
            "lift": lift[keep],
            "count": C.data[keep].astype(np.int64),
        })
        order = np.lexsort((rows[keep], -frame["confidence"].to_numpy(), -frame["lift"].to_numpy()))
        return frame.iloc[order].reset_index(drop=True)

    def frequently_bought_together(
        self, item_ids: Any, k: int = 10, *, by: str = "confidence"
    ) -> pd.DataFrame:
        """Items most often bought together with a set of items (a basket).

        Parameters
        ----------
        item_ids : array-like
            External ids of the items in the basket (unknown ids raise).
        k : int, default 10
        by : {"confidence", "lift", "score"}, default "confidence"
            Per-rule strength that is summed over the basket's items:
            confidence, lift, or confidence x log1p(lift).

        Returns
        -------
        pandas.DataFrame
            Columns ``item_id, score, rank``; the basket's own items are excluded.
        """
        self._check_fitted()
        owner = "CoPurchaseRecommender.frequently_bought_together"
        k = check_int(k, "k", minimum=1, owner=owner)
        mats = {"confidence": self._confidence, "lift": self._lift, "score": self._rule_scores}
        if by not in mats:
            raise InvalidParameterError(
                f"The 'by' parameter of {owner} must be one of {list(mats)}, got {by!r}."
            )
        idx = self.item_map_.to_internal(_as_id_array(item_ids), what="item_id")
        scores = np.asarray(mats[by][idx].sum(axis=0)).ravel().astype(np.float64)
        scores[scores <= 0] = -np.inf
        scores[idx] = -np.inf
        _, top, vals = topk(scores[None, :], None, k, None)
        return pd.DataFrame({
            Columns.ITEM: self.item_map_.to_external(top),
            Columns.SCORE: vals,
            Columns.RANK: np.arange(1, len(top) + 1),
        })

    def explain(self, recommendations: pd.DataFrame) -> pd.DataFrame:
        """Add the rule behind each recommended item.

        Parameters
        ----------
        recommendations : pandas.DataFrame
            Output of :meth:`recommend` (needs ``user_id`` and ``item_id``).

        Returns
        -------
        pandas.DataFrame
            A copy with ``because_of`` (the item of the user's recent baskets
            contributing most to the row's score; None when no rule fired) and
            ``rule_confidence`` (confidence of ``because_of -> item_id``).
        """
        self._check_fitted()
        return _explain_copurchase(self, recommendations)

    # -------------------------------------------------------------- scoring
    def _score(self, user_idx: np.ndarray, request: RecommendRequest) -> np.ndarray:
        fit_idx = self._fit_user_index(user_idx, request)
        if request.dataset is None:
            recent = self.recent_items_[fit_idx]
        else:
            # use the user's whole context history (normalised) as the basket
            recent = self._history(user_idx, request).astype(np.float32)
            recent.data[:] = 1.0
        s = (recent @ self._rule_scores).toarray().astype(np.float64)
        s[s <= 0] = -np.inf
        return s

    def _similar(self, item_idx: np.ndarray) -> np.ndarray:
        s = self._rule_scores[np.asarray(item_idx)].toarray().astype(np.float64)
        s[s <= 0] = -np.inf
        return s


def _explain_copurchase(model: CoPurchaseRecommender, recommendations: pd.DataFrame) -> pd.DataFrame:
    u, i = model._reco_indices(recommendations)
    ok = (u >= 0) & (i >= 0)
    n = len(u)
    because = np.full(n, None, dtype=object)
    conf = np.full(n, np.nan)
    if ok.any():
        R = model.recent_items_[u[ok]]
        S = model._rule_scores.T.tocsr()[i[ok]]
        contrib = sp.csr_matrix(R.multiply(S))
        has = np.diff(contrib.indptr) > 0
        best = np.asarray(contrib.argmax(axis=1)).ravel()
        rows = np.flatnonzero(ok)
        because[rows[has]] = model.item_map_.to_external(best[has])
        C = model._confidence
        conf[rows[has]] = np.asarray(C[best[has], i[ok][has]]).ravel()
    out = recommendations.copy()
    out["because_of"] = because
    out["rule_confidence"] = conf
    return out

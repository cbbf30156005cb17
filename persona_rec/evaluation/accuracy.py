"""Accuracy metrics: how many of the relevant (test) items a top-k list finds, and where.

Precision, Recall, NDCG, MAP, MRR, HitRate and AUC, each a
:class:`~persona_rec.evaluation.base.Metric` with a cut-off ``k`` (examples in
:mod:`~persona_rec.evaluation.metrics` and on each class).

Only users present in ``test`` are scored: a user with no relevant item is
NaN in ``calc_per_user`` and left out of ``calc`` (not scored 0). A test user
with no recommendations scores 0. The rules for the frames are in
:mod:`~persona_rec.evaluation.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._arrays import group_starts, position_in_group
from .._text import fill_doc
from .._validation import check_choice, check_int
from ..columns import Columns
from ..exceptions import EmptyInputError, InvalidParameterError
from ._reco import Prepared, prepare
from .base import _K_DOC, Metric, _catalog_index, _check_k, _mean, _require_test

__all__ = ["RankingMetric", "Precision", "Recall", "NDCG", "MAP", "MRR", "HitRate", "AUC"]

# docstring fragments shared by the metrics below (see fill_doc)
_DOCS = {
    "k": _K_DOC,
    # the whole Parameters section of a metric whose only parameter is the cut-off
    "k_parameters": "Parameters\n----------\n" + _K_DOC,
    # the recommendation lists the examples score: user 1 gets items 7, 8 (and 9) in this order
    "reco_78": """>>> import pandas as pd
>>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 8], "rank": [1, 2]})""",
    "reco_789": """>>> import pandas as pd
>>> reco = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [7, 8, 9], "rank": [1, 2, 3]})""",
}


# ------------------------------------------------------------ ranking metrics
class RankingMetric(Metric):
    """A per-user metric computed from the hits of a top-k list against ``test``."""

    needs_test = True

    def __init__(self, k: int) -> None:
        self.k = _check_k(k, type(self).__name__)

    def _values(self, prep: Prepared) -> np.ndarray:
        """Per-user values for the ``prep.n_test`` evaluated users."""
        raise NotImplementedError

    def _hits(self, prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
        """(user, rank) of the hits with rank <= k, sorted by user then rank."""
        if prep.topk.k is not None and prep.topk.k == self.k:
            return prep.hit_user, prep.hit_rank
        keep = prep.hit_rank <= self.k
        return prep.hit_user[keep], prep.hit_rank[keep]

    def _n_hits(self, prep: Prepared) -> np.ndarray:
        user, _ = self._hits(prep)
        return np.bincount(user, minlength=prep.n_test).astype(np.float64)

    def _series(self, prep: Prepared) -> pd.Series:
        values = np.full(len(prep.users), np.nan)
        values[: prep.n_test] = self._values(prep)
        return pd.Series(values, index=pd.Index(prep.users, name=Columns.USER), name=self.label)

    def _prepare(self, reco: Any, test: Any) -> Prepared:
        _require_test(self, test)
        self._check_context()
        prep = prepare(reco, test, self.k)
        if prep.n_test == 0:
            raise EmptyInputError("test is empty: there is no relevant item to evaluate.")
        return prep

    def calc(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> float:  # noqa: D102
        prep = self._prepare(reco, test)
        return _mean(self._values(prep))

    def calc_per_user(  # noqa: D102
        self, reco: pd.DataFrame, test: pd.DataFrame | None = None
    ) -> pd.Series:
        return self._series(self._prepare(reco, test))

    calc.__doc__ = Metric.calc.__doc__
    calc_per_user.__doc__ = Metric.calc_per_user.__doc__


def _find_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, position) of each of ``keys`` in ``sorted_keys`` (position 0 where not found)."""
    p = np.searchsorted(sorted_keys, keys)
    p[p == sorted_keys.size] = 0
    found = sorted_keys[p] == keys if sorted_keys.size else np.zeros(keys.size, dtype=bool)
    return found, p


@fill_doc(**_DOCS)
class Precision(RankingMetric):
    r"""Precision@k: share of the k recommended slots that hold a relevant item.

    .. math:: \mathrm{P@k}(u) = \frac{|\mathrm{top}_k(u) \cap R_u|}{k}

    The denominator is always ``k`` (a list shorter than ``k`` is penalised),
    as in RecTools and LensKit.

    {k_parameters}

    Examples
    --------
    {reco_78}
    >>> Precision(k=2).calc(reco, pd.DataFrame({"user_id": [1], "item_id": [8]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        return self._n_hits(prep) / self.k


class _NormalizedRankingMetric(RankingMetric):
    r"""A ranking metric whose per-user sum is divided by :math:`|R_u|` (``normalize="relevant"``)
    or :math:`\min(k, |R_u|)` (``normalize="min"``, label suffix ``"(min)"``)."""

    def __init__(self, k: int, normalize: str = "relevant") -> None:
        super().__init__(k)
        self.normalize = check_choice(normalize, "normalize", ("relevant", "min"),
                                      owner=type(self).__name__)

    @property
    def label(self) -> str:  # noqa: D102
        return super().label + ("(min)" if self.normalize == "min" else "")

    def _denominator(self, prep: Prepared) -> np.ndarray:
        return prep.n_rel if self.normalize == "relevant" else np.minimum(prep.n_rel, self.k)


@fill_doc(**_DOCS)
class Recall(_NormalizedRankingMetric):
    r"""Recall@k: share of a user's relevant items found in the top k.

    .. math:: \mathrm{R@k}(u) = \frac{|\mathrm{top}_k(u) \cap R_u|}{|R_u|}

    With ``normalize="min"`` the denominator is :math:`\min(k, |R_u|)`
    (sometimes called R-precision-capped recall), so a user with more
    relevant items than ``k`` can still reach 1. Its label is
    ``"Recall@k(min)"``.

    Parameters
    ----------
    {k}
    normalize : {"relevant", "min"}, default "relevant"
        Denominator: :math:`|R_u|` or :math:`\min(k, |R_u|)`.

    Examples
    --------
    {reco_78}
    >>> test = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [7, 8, 9]})
    >>> round(Recall(k=2).calc(reco, test), 4), Recall(k=2, normalize="min").calc(reco, test)
    (0.6667, 1.0)
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        return self._n_hits(prep) / self._denominator(prep)


def _ideal_dcg(k: int, n_rel: np.ndarray) -> np.ndarray:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    cum = np.concatenate([[0.0], np.cumsum(discounts)])
    return cum[np.minimum(n_rel, k)]


@fill_doc(**_DOCS)
class NDCG(RankingMetric):
    r"""Normalised discounted cumulative gain at k (binary relevance).

    .. math::
        \mathrm{DCG@k}(u) = \sum_{i=1}^{k} \frac{[\,\mathrm{item}_i \in R_u\,]}{\log_2(i + 1)},
        \qquad
        \mathrm{NDCG@k}(u) = \frac{\mathrm{DCG@k}(u)}
                                 {\sum_{i=1}^{\min(k, |R_u|)} 1 / \log_2(i + 1)}

    The ideal DCG puts all relevant items first, so a perfect list scores 1
    even when :math:`|R_u| < k`.

    {k_parameters}

    Examples
    --------
    {reco_78}
    >>> round(NDCG(k=2).calc(reco, pd.DataFrame({"user_id": [1], "item_id": [8]})), 4)
    0.6309
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        dcg = np.bincount(user, weights=1.0 / np.log2(rank + 1.0), minlength=prep.n_test)
        return dcg / _ideal_dcg(self.k, prep.n_rel)


@fill_doc(**_DOCS)
class MAP(_NormalizedRankingMetric):
    r"""Mean average precision at k.

    .. math::
        \mathrm{AP@k}(u) = \frac{1}{D_u} \sum_{i=1}^{k} [\,\mathrm{item}_i \in R_u\,]
        \cdot \mathrm{P@i}(u)

    with :math:`D_u = |R_u|` (default, as in RecTools) or
    :math:`D_u = \min(k, |R_u|)` (``normalize="min"``, as in the Kaggle
    ``apk`` function; label ``"MAP@k(min)"``). MAP@k is the mean of AP@k over
    users.

    Parameters
    ----------
    {k}
    normalize : {"relevant", "min"}, default "relevant"
        Denominator :math:`D_u`.

    Examples
    --------
    {reco_789}
    >>> test = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 9]})
    >>> round(MAP(k=3).calc(reco, test), 4)     # (1/1 + 2/3) / 2
    0.8333
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        precision_at_hit = (position_in_group(user) + 1) / rank
        total = np.bincount(user, weights=precision_at_hit, minlength=prep.n_test)
        return total / self._denominator(prep)


@fill_doc(**_DOCS)
class MRR(RankingMetric):
    r"""Mean reciprocal rank at k.

    .. math:: \mathrm{RR@k}(u) = 1 / \mathrm{rank\ of\ the\ first\ relevant\ item}

    and 0 when no relevant item is in the top k.

    {k_parameters}

    Examples
    --------
    {reco_789}
    >>> MRR(k=3).calc(reco, pd.DataFrame({"user_id": [1, 1], "item_id": [8, 9]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        out = np.zeros(prep.n_test)
        starts = group_starts(user)
        out[user[starts]] = 1.0 / rank[starts]
        return out


@fill_doc(**_DOCS)
class HitRate(RankingMetric):
    r"""HitRate@k: 1 if at least one relevant item is in the top k, else 0.

    {k_parameters}

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 2], "item_id": [7, 7], "rank": [1, 1]})
    >>> HitRate(k=1).calc(reco, pd.DataFrame({"user_id": [1, 2], "item_id": [7, 8]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        return (self._n_hits(prep) > 0).astype(np.float64)


class AUC(RankingMetric):
    r"""Area under the ROC curve of each user's ranking (full or sampled).

    The items of a catalog :math:`C` are ranked by the recommendation list
    (top ``k`` rows, or every row when ``k`` is None); items not in the list
    share the last place. With positives :math:`P_u = R_u \cap C` and
    negatives :math:`N_u = C \setminus R_u`:

    .. math::
        \mathrm{AUC}(u) = \frac{1}{|P_u||N_u|} \sum_{p \in P_u} \sum_{n \in N_u}
            \big([\,p \succ n\,] + \tfrac12 [\,p \sim n\,]\big)

    where :math:`\succ` is "ranked above" and :math:`\sim` "tied" (both
    unranked). A random list scores about 0.5. With ``n_negatives=m`` (the
    *sampled* AUC) :math:`N_u` is replaced by ``m`` negatives drawn uniformly
    with replacement from :math:`N_u` using ``random_state``. Users with
    :math:`P_u` or :math:`N_u` empty are NaN.

    Parameters
    ----------
    k : int or None, default None
        Only the top ``k`` rows count as ranked; None uses every row.
    catalog : Dataset, array-like of item ids or int, optional
        Candidate items. An int gives the catalog size (full AUC only; every
        recommended and relevant item is assumed to be in it). ``evaluate``
        fills it with the train Dataset's items.
    n_negatives : int, optional
        Sampled AUC with this many negatives per user.
    random_state : int, optional
        Seed of the negative sampling.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "rank": [1, 2]})
    >>> test = pd.DataFrame({"user_id": [1], "item_id": ["b"]})
    >>> AUC(catalog=["a", "b", "c", "d"]).calc(reco, test)   # b beats c and d, loses to a
    0.6666666666666666
    """

    needs = ("catalog",)

    def __init__(
        self,
        k: int | None = None,
        *,
        catalog: Any = None,
        n_negatives: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.k = _check_k(k, "AUC", allow_none=True)
        self.catalog = catalog
        self.n_negatives = (
            None if n_negatives is None
            else check_int(n_negatives, "n_negatives", minimum=1, owner="AUC")
        )
        self.random_state = random_state

    @property
    def label(self) -> str:  # noqa: D102
        base = "AUC" if self.n_negatives is None else f"SampledAUC({self.n_negatives})"
        return base if self.k is None else f"{base}@{self.k}"

    def _values(self, prep: Prepared) -> np.ndarray:
        index, n_cat = _catalog_index(self.catalog, "AUC")
        topk = prep.topk
        rows = prep.reco_user < prep.n_test
        if self.k is not None and (topk.k is None or topk.k > self.k):
            rows &= topk.rank <= self.k
        if index is not None:
            row_cat = index.get_indexer(topk.item)
            rows &= row_cat >= 0
            pos_cat = index.get_indexer(prep.test_item)
            pos_in = pos_cat >= 0
            n_pos = np.bincount(prep.test_user[pos_in], minlength=prep.n_test)
        else:
            if self.n_negatives is not None:
                raise InvalidParameterError(
                    "The sampled AUC needs 'catalog' as item ids (or a Dataset), got an int size."
                )
            row_cat = None
            n_pos = prep.n_rel
        n_neg = n_cat - n_pos
        if self.n_negatives is None:
            return self._full(prep, rows, n_pos, n_neg)
        return self._sampled(prep, rows, index, row_cat, pos_cat, pos_in, n_pos, n_neg)

    @staticmethod
    def _full(prep: Prepared, rows: np.ndarray, n_pos: np.ndarray, n_neg: np.ndarray) -> np.ndarray:
        user = prep.reco_user[rows]
        rank = prep.topk.rank[rows]
        hit = prep.hit[rows]
        order = np.lexsort((rank, user))
        user, hit = user[order], hit[order]
        is_neg = (~hit).astype(np.int64)
        cum = np.cumsum(is_neg) - is_neg  # negatives strictly above, global
        starts = group_starts(user)
        lengths = np.diff(np.r_[starts, user.size])
        neg_above = cum - np.repeat(cum[starts], lengths)
        n_neg_f = n_neg.astype(np.float64)
        wins = np.bincount(user[hit], weights=n_neg_f[user[hit]] - neg_above[hit],
                           minlength=prep.n_test)
        ranked_hits = np.bincount(user[hit], minlength=prep.n_test)
        ranked_neg = np.bincount(user, weights=is_neg, minlength=prep.n_test)
        ties = 0.5 * (n_pos - ranked_hits) * (n_neg_f - ranked_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (wins + ties) / (n_pos * n_neg_f)
        out[(n_pos == 0) | (n_neg == 0)] = np.nan
        return out

    def _sampled(self, prep: Prepared, rows: np.ndarray, index: pd.Index, row_cat: np.ndarray,
                 pos_cat: np.ndarray, pos_in: np.ndarray, n_pos: np.ndarray,
                 n_neg: np.ndarray) -> np.ndarray:
        m = int(self.n_negatives)  # type: ignore[arg-type]
        n_cat = len(index)
        n_users = prep.n_test
        rng = np.random.default_rng(self.random_state)
        stride = np.int64(n_cat)
        pos_keys = np.sort(prep.test_user[pos_in].astype(np.int64) * stride + pos_cat[pos_in])
        eligible = (n_pos > 0) & (n_neg > 0)
        users = np.repeat(np.flatnonzero(eligible), m)
        neg = rng.integers(0, n_cat, size=users.size)

        redo, _ = _find_sorted(pos_keys, users * stride + neg)
        while redo.any():  # rejection rounds, vectorised over every pending draw
            neg[redo] = rng.integers(0, n_cat, size=int(redo.sum()))
            still, _ = _find_sorted(pos_keys, users[redo] * stride + neg[redo])
            redo[redo] = still
        # Position of each catalog item in the user's list; unranked = big.
        ranked_users = prep.reco_user[rows]
        ranked_keys = ranked_users * stride + row_cat[rows]
        ranked_rank = prep.topk.rank[rows]
        order = np.argsort(ranked_keys)
        ranked_keys, ranked_rank = ranked_keys[order], ranked_rank[order]
        big = int(ranked_rank.max()) + 1 if ranked_rank.size else 1

        def rank_of(keys: np.ndarray) -> np.ndarray:
            found, p = _find_sorted(ranked_keys, keys)
            return np.where(found, ranked_rank[p] if ranked_keys.size else 0, big)

        neg_rank = rank_of(users * stride + neg)
        pu = prep.test_user[pos_in].astype(np.int64)
        pu_keep = eligible[pu]
        pu = pu[pu_keep]
        pos_rank = rank_of(pu * stride + pos_cat[pos_in][pu_keep])
        span = np.int64(big + 1)
        neg_keys = np.sort(users * span + neg_rank)
        key_p = pu * span + pos_rank
        right = np.searchsorted(neg_keys, key_p, side="right")
        left = np.searchsorted(neg_keys, key_p, side="left")
        end = np.searchsorted(neg_keys, pu * span + big, side="right")
        score = (end - right) + 0.5 * (right - left)
        total = np.bincount(pu, weights=score, minlength=n_users)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / (n_pos * float(m))
        out[~eligible] = np.nan
        return out

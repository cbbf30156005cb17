"""Ranking and beyond-accuracy metrics for top-k recommendations.

Every metric is a small object configured with a cut-off ``k``:

>>> import pandas as pd
>>> from persona_rec.evaluation import NDCG, Recall
>>> reco = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2],
...                      "item_id": ["a", "b", "c", "a", "d", "e"],
...                      "score": [.9, .8, .7, .9, .8, .7],
...                      "rank": [1, 2, 3, 1, 2, 3]})
>>> test = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["b", "z", "e"]})
>>> Recall(k=2).calc(reco, test)          # user 1: 1/2, user 2: 0/1
0.25
>>> NDCG(k=3).calc_per_user(reco, test).round(4).tolist()
[0.3869, 0.5]

Recommendation frames have the columns ``user_id, item_id, rank`` (``score``
is optional and ignored; rank 1 is the best). The ``test`` frame lists the
relevant ``user_id, item_id`` pairs; repeated pairs count once. Only users
present in ``test`` are scored: a user with no relevant item is NaN in
``calc_per_user`` and left out of ``calc`` (not scored 0). A test user with
no recommendations scores 0.

Validation: ranks must be whole numbers >= 1 with a rank-1 row for every
user (whole frame); among the rows a metric reads (``rank <= k``) no
(user, item) and no (user, rank) pair may repeat. Violations raise typed
errors from :mod:`persona_rec.exceptions` that name the column and value.

All metrics are computed on integer codes with sorts, ``bincount`` and
``searchsorted``: there is no Python loop over users.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._params import ParamsMixin
from .._validation import check_choice, check_int, check_number
from ..columns import Columns
from ..exceptions import (
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
)
from .._arrays import group_starts, position_in_group
from ._reco import Prepared, TopK, check_reco_topk, prepare

__all__ = [
    "Metric",
    "RankingMetric",
    "Precision",
    "Recall",
    "NDCG",
    "MAP",
    "MRR",
    "HitRate",
    "AUC",
    "CatalogCoverage",
    "Novelty",
    "IntraListDiversity",
    "PopularityBias",
    "calc_metrics",
    "calc_metrics_per_user",
    "item_features_from_dataset",
]


# --------------------------------------------------------------------- base
class Metric(ParamsMixin):
    """Base class of every metric.

    ``get_params``/``set_params`` follow scikit-learn (constructor arguments,
    validated again by ``set_params``), so :func:`sklearn.base.clone` works.

    Subclasses set :attr:`per_user` (False for catalog-level metrics such as
    coverage) and :attr:`needs` (context such as ``"train"`` or
    ``"catalog"`` that :meth:`bind` can fill from a training Dataset).
    """

    #: Whether the metric has a value per user (and thus a mean over users).
    per_user: bool = True
    #: Whether the metric needs the ``test`` frame.
    needs_test: bool = True
    #: Context attributes that :meth:`bind` fills from a training Dataset.
    needs: tuple[str, ...] = ()

    k: int | None

    @property
    def label(self) -> str:
        """Display name such as ``"NDCG@10"``."""
        name = type(self).__name__
        return f"{name}@{self.k}" if self.k is not None else name

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in self._params().items()
        )
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict[str, Any]:
        return {"k": self.k}

    def bind(self, train: Any) -> Metric:
        """Return a copy with missing context (``needs``) taken from ``train``.

        Parameters
        ----------
        train : Dataset
            The training Dataset of a split. Novelty and popularity read its
            item popularity, coverage and AUC its item catalog, diversity its
            item attributes.

        Returns
        -------
        Metric
            ``self`` when nothing is missing, else a shallow copy.
        """
        missing = [n for n in self.needs if getattr(self, n) is None]
        if not missing:
            return self
        out = copy.copy(self)
        for name in missing:
            if name == "train":
                out.train = train
            elif name == "catalog":
                out.catalog = train
            elif name == "item_features":
                out.item_features = train
            out._reset_cache()
        return out

    def _reset_cache(self) -> None:
        """Drop context derived from constructor arguments (after :meth:`bind`)."""

    def _check_context(self) -> None:
        for name in self.needs:
            if getattr(self, name) is None:
                raise InvalidParameterError(
                    f"{self.label} needs '{name}' (pass {name}= to {type(self).__name__}(...) "
                    f"or use evaluate(), which takes it from the split's train Dataset)."
                )

    # -- public API -----------------------------------------------------
    def calc(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> float:
        """Value of the metric: mean over evaluated users (or a catalog-level value).

        Parameters
        ----------
        reco : pandas.DataFrame
            Recommendations ``user_id, item_id, rank`` (``score`` optional).
        test : pandas.DataFrame
            Relevant ``user_id, item_id`` pairs. Optional for metrics that do
            not use it (coverage, novelty, diversity, popularity bias).

        Returns
        -------
        float
        """
        raise NotImplementedError

    def calc_per_user(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> pd.Series:
        """Value per user, indexed by ``user_id`` and named :attr:`label`.

        Parameters
        ----------
        reco, test : pandas.DataFrame
            See :meth:`calc`.

        Returns
        -------
        pandas.Series of float
        """
        raise NotImplementedError


def _mean(values: np.ndarray) -> float:
    """Mean over defined (non-NaN) values; NaN, without a warning, when none is defined."""
    defined = ~np.isnan(values)
    return float(values[defined].mean()) if defined.any() else float("nan")


def _check_k(k: Any, owner: str, allow_none: bool = False) -> int | None:
    if k is None and allow_none:
        return None
    return check_int(k, "k", minimum=1, owner=owner)


def _require_test(metric: Metric, test: Any) -> None:
    if test is None:
        raise InvalidParameterError(f"{metric.label} needs the 'test' frame of relevant items.")


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


class Precision(RankingMetric):
    r"""Precision@k: share of the k recommended slots that hold a relevant item.

    .. math:: \mathrm{P@k}(u) = \frac{|\mathrm{top}_k(u) \cap R_u|}{k}

    The denominator is always ``k`` (a list shorter than ``k`` is penalised),
    as in RecTools and LensKit.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 8], "rank": [1, 2]})
    >>> Precision(k=2).calc(reco, pd.DataFrame({"user_id": [1], "item_id": [8]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        return self._n_hits(prep) / self.k


class Recall(RankingMetric):
    r"""Recall@k: share of a user's relevant items found in the top k.

    .. math:: \mathrm{R@k}(u) = \frac{|\mathrm{top}_k(u) \cap R_u|}{|R_u|}

    With ``normalize="min"`` the denominator is :math:`\min(k, |R_u|)`
    (sometimes called R-precision-capped recall), so a user with more
    relevant items than ``k`` can still reach 1. Its label is
    ``"Recall@k(min)"``.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.
    normalize : {"relevant", "min"}, default "relevant"
        Denominator: :math:`|R_u|` or :math:`\min(k, |R_u|)`.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 8], "rank": [1, 2]})
    >>> test = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [7, 8, 9]})
    >>> round(Recall(k=2).calc(reco, test), 4), Recall(k=2, normalize="min").calc(reco, test)
    (0.6667, 1.0)
    """

    def __init__(self, k: int, normalize: str = "relevant") -> None:
        super().__init__(k)
        self.normalize = check_choice(normalize, "normalize", ("relevant", "min"), owner="Recall")

    def _params(self) -> dict[str, Any]:
        return {"k": self.k, "normalize": self.normalize}

    @property
    def label(self) -> str:  # noqa: D102
        return f"Recall@{self.k}" + ("(min)" if self.normalize == "min" else "")

    def _values(self, prep: Prepared) -> np.ndarray:
        denom = prep.n_rel if self.normalize == "relevant" else np.minimum(prep.n_rel, self.k)
        return self._n_hits(prep) / denom


def _ideal_dcg(k: int, n_rel: np.ndarray) -> np.ndarray:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    cum = np.concatenate([[0.0], np.cumsum(discounts)])
    return cum[np.minimum(n_rel, k)]


class NDCG(RankingMetric):
    r"""Normalised discounted cumulative gain at k (binary relevance).

    .. math::
        \mathrm{DCG@k}(u) = \sum_{i=1}^{k} \frac{[\,\mathrm{item}_i \in R_u\,]}{\log_2(i + 1)},
        \qquad
        \mathrm{NDCG@k}(u) = \frac{\mathrm{DCG@k}(u)}
                                 {\sum_{i=1}^{\min(k, |R_u|)} 1 / \log_2(i + 1)}

    The ideal DCG puts all relevant items first, so a perfect list scores 1
    even when :math:`|R_u| < k`.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 8], "rank": [1, 2]})
    >>> round(NDCG(k=2).calc(reco, pd.DataFrame({"user_id": [1], "item_id": [8]})), 4)
    0.6309
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        dcg = np.bincount(user, weights=1.0 / np.log2(rank + 1.0), minlength=prep.n_test)
        return dcg / _ideal_dcg(self.k, prep.n_rel)


class MAP(RankingMetric):
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
    k : int
        Cut-off, >= 1.
    normalize : {"relevant", "min"}, default "relevant"
        Denominator :math:`D_u`.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [7, 8, 9], "rank": [1, 2, 3]})
    >>> test = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 9]})
    >>> round(MAP(k=3).calc(reco, test), 4)     # (1/1 + 2/3) / 2
    0.8333
    """

    def __init__(self, k: int, normalize: str = "relevant") -> None:
        super().__init__(k)
        self.normalize = check_choice(normalize, "normalize", ("relevant", "min"), owner="MAP")

    def _params(self) -> dict[str, Any]:
        return {"k": self.k, "normalize": self.normalize}

    @property
    def label(self) -> str:  # noqa: D102
        return f"MAP@{self.k}" + ("(min)" if self.normalize == "min" else "")

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        precision_at_hit = (position_in_group(user) + 1) / rank
        total = np.bincount(user, weights=precision_at_hit, minlength=prep.n_test)
        denom = prep.n_rel if self.normalize == "relevant" else np.minimum(prep.n_rel, self.k)
        return total / denom


class MRR(RankingMetric):
    r"""Mean reciprocal rank at k.

    .. math:: \mathrm{RR@k}(u) = 1 / \mathrm{rank\ of\ the\ first\ relevant\ item}

    and 0 when no relevant item is in the top k.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [7, 8, 9], "rank": [1, 2, 3]})
    >>> MRR(k=3).calc(reco, pd.DataFrame({"user_id": [1, 1], "item_id": [8, 9]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        user, rank = self._hits(prep)
        out = np.zeros(prep.n_test)
        starts = group_starts(user)
        out[user[starts]] = 1.0 / rank[starts]
        return out


class HitRate(RankingMetric):
    r"""HitRate@k: 1 if at least one relevant item is in the top k, else 0.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 2], "item_id": [7, 7], "rank": [1, 1]})
    >>> HitRate(k=1).calc(reco, pd.DataFrame({"user_id": [1, 2], "item_id": [7, 8]}))
    0.5
    """

    def _values(self, prep: Prepared) -> np.ndarray:
        return (self._n_hits(prep) > 0).astype(np.float64)


# ----------------------------------------------------------------- catalogs
def _catalog_index(catalog: Any, owner: str) -> tuple[pd.Index | None, int]:
    """Turn a catalog argument into (item index or None, size)."""
    from ..dataset import Dataset

    if isinstance(catalog, Dataset):
        ids = catalog.item_map.external_ids
        return pd.Index(ids), len(ids)
    if isinstance(catalog, (int, np.integer)) and not isinstance(catalog, bool):
        n = check_int(catalog, "catalog", minimum=1, owner=owner)
        return None, n
    if isinstance(catalog, (str, bytes)) or not isinstance(catalog, Iterable):
        raise InvalidDtypeError(
            f"The 'catalog' parameter of {owner} must be a Dataset, an array of item ids or "
            f"an int catalog size, got {type(catalog).__name__}."
        )
    if not isinstance(catalog, (np.ndarray, pd.Index, pd.Series)):
        catalog = list(catalog)
    index = pd.Index(pd.unique(pd.Series(catalog, dtype=None if len(catalog) else object)))
    if len(index) == 0:
        raise EmptyInputError(f"The 'catalog' of {owner} is empty.")
    return index, len(index)


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

    def _params(self) -> dict[str, Any]:
        return {"k": self.k, "n_negatives": self.n_negatives, "random_state": self.random_state}

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

        def is_positive(u: np.ndarray, items: np.ndarray) -> np.ndarray:
            keys = u * stride + items
            p = np.searchsorted(pos_keys, keys)
            p[p == pos_keys.size] = 0
            return pos_keys[p] == keys if pos_keys.size else np.zeros(keys.size, dtype=bool)

        redo = is_positive(users, neg)
        while redo.any():  # rejection rounds, vectorised over every pending draw
            neg[redo] = rng.integers(0, n_cat, size=int(redo.sum()))
            redo[redo] = is_positive(users[redo], neg[redo])
        # Position of each catalog item in the user's list; unranked = big.
        ranked_users = prep.reco_user[rows]
        ranked_keys = ranked_users * stride + row_cat[rows]
        ranked_rank = prep.topk.rank[rows]
        order = np.argsort(ranked_keys)
        ranked_keys, ranked_rank = ranked_keys[order], ranked_rank[order]
        big = int(ranked_rank.max()) + 1 if ranked_rank.size else 1

        def rank_of(keys: np.ndarray) -> np.ndarray:
            p = np.searchsorted(ranked_keys, keys)
            p[p == ranked_keys.size] = 0
            found = ranked_keys[p] == keys if ranked_keys.size else np.zeros(keys.size, bool)
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


# ------------------------------------------------------- beyond accuracy
class _TopKMetric(Metric):
    """A metric computed from the top-k list alone (``test`` is not used)."""

    needs_test = False

    def __init__(self, k: int) -> None:
        self.k = _check_k(k, type(self).__name__)

    def _topk(self, reco: Any, topk: TopK | None = None) -> TopK:
        self._check_context()
        if topk is None:
            topk = check_reco_topk(reco, self.k)
        if len(topk.user_ids) == 0:
            raise EmptyInputError(f"reco is empty: nothing to compute {self.label} on.")
        if topk.k is not None and topk.k == self.k:
            return topk
        keep = topk.rank <= self.k
        return TopK(topk.user_ids, topk.user[keep], topk.item[keep], topk.rank[keep], self.k)

    def _user_values(self, topk: TopK) -> np.ndarray:
        raise NotImplementedError

    def calc_per_user(  # noqa: D102
        self, reco: pd.DataFrame, test: pd.DataFrame | None = None
    ) -> pd.Series:
        topk = self._topk(reco)
        return pd.Series(self._user_values(topk),
                         index=pd.Index(topk.user_ids, name=Columns.USER), name=self.label)

    def calc(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> float:  # noqa: D102
        return _mean(self._user_values(self._topk(reco)))

    calc.__doc__ = Metric.calc.__doc__
    calc_per_user.__doc__ = Metric.calc_per_user.__doc__


class CatalogCoverage(_TopKMetric):
    r"""Share of the catalog that appears in at least one top-k list.

    .. math:: \mathrm{Coverage@k} = \frac{|\bigcup_u \mathrm{top}_k(u) \cap C|}{|C|}

    A catalog-level metric (:attr:`per_user` is False): ``calc_per_user``
    raises. ``evaluate(..., by=...)`` computes it within each group.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.
    catalog : Dataset, array-like of item ids or int, optional
        The catalog :math:`C` (an int is its size). ``evaluate`` uses every
        item of the train Dataset.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "a"], "rank": [1, 1]})
    >>> CatalogCoverage(k=1, catalog=["a", "b", "c", "d"]).calc(reco)
    0.25
    """

    per_user = False
    needs = ("catalog",)

    def __init__(self, k: int, catalog: Any = None) -> None:
        super().__init__(k)
        self.catalog = catalog

    def calc(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> float:  # noqa: D102
        return self._from_topk(self._topk(reco))

    calc.__doc__ = Metric.calc.__doc__

    def _from_topk(self, topk: TopK) -> float:
        index, n_cat = _catalog_index(self.catalog, "CatalogCoverage")
        items = pd.unique(topk.item)
        if index is not None:
            return float((index.get_indexer(items) >= 0).sum() / n_cat)
        return float(min(len(items), n_cat) / n_cat)

    def calc_per_user(  # noqa: D102
        self, reco: pd.DataFrame, test: pd.DataFrame | None = None
    ) -> pd.Series:
        raise InvalidParameterError(
            f"{self.label} is a catalog-level metric with no per-user value; use calc()."
        )


def _item_popularity(train: Any, owner: str) -> tuple[pd.Series, int]:
    """Distinct train users per item (Series indexed by item_id) and number of users."""
    from ..dataset import Dataset

    if isinstance(train, Dataset):
        inter = train.internal_interactions
        m = sp.csr_matrix(
            (np.ones(len(inter), dtype=np.float32),
             (inter[Columns.USER_IDX].to_numpy(), inter[Columns.ITEM_IDX].to_numpy())),
            shape=(train.n_users, train.n_items),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        counts = np.asarray(m.sum(axis=0)).ravel()
        n_users = int(train.hot_user_mask().sum())
        pop = pd.Series(counts, index=pd.Index(train.item_map.external_ids, name=Columns.ITEM))
    elif isinstance(train, pd.DataFrame):
        missing = [c for c in (Columns.USER, Columns.ITEM) if c not in train.columns]
        if missing:
            raise MissingColumnError(
                f"The 'train' frame of {owner} is missing column(s) {missing}."
            )
        pairs = train[[Columns.USER, Columns.ITEM]].drop_duplicates()
        pop = pairs.groupby(Columns.ITEM, sort=False).size().astype(np.float64)
        n_users = int(pairs[Columns.USER].nunique())
    else:
        raise InvalidDtypeError(
            f"The 'train' parameter of {owner} must be a Dataset or an interactions DataFrame, "
            f"got {type(train).__name__}."
        )
    if n_users == 0:
        raise EmptyInputError(f"The 'train' data of {owner} has no interactions.")
    return pop, n_users


class _PopularityMetric(_TopKMetric):
    needs = ("train",)
    train: Any

    def _reset_cache(self) -> None:
        self._pop_cache = None

    def _popularity(self) -> tuple[pd.Series, int]:
        cache = getattr(self, "_pop_cache", None)
        if cache is None or cache[0] is not self.train:
            pop, n = _item_popularity(self.train, type(self).__name__)
            self._pop_cache = (self.train, pop, n)
            return pop, n
        return cache[1], cache[2]

    def _row_counts(self, topk: TopK) -> tuple[np.ndarray, int]:
        pop, n_users = self._popularity()
        idx = pop.index.get_indexer(topk.item)
        counts = np.where(idx >= 0, pop.to_numpy()[idx], 0.0)
        return counts, n_users


class Novelty(_PopularityMetric):
    r"""Mean self-information of the recommended items (higher = less popular).

    .. math::
        \mathrm{Novelty@k}(u) = \frac{1}{|L_u|} \sum_{i \in L_u} -\log_2
        \frac{\max(n_i, 1)}{n_{\mathrm{users}}}

    where :math:`L_u` is the user's top-k list, :math:`n_i` the number of
    distinct train users who interacted with item :math:`i` and
    :math:`n_{\mathrm{users}}` the number of train users with interactions.
    Items never seen in train count as seen once (finite, maximal novelty).

    Parameters
    ----------
    k : int
        Cut-off, >= 1.
    train : Dataset or DataFrame, optional
        Training interactions (``user_id, item_id``). ``evaluate`` fills it
        with the split's train Dataset.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": ["a", "a", "a", "b"]})
    >>> reco = pd.DataFrame({"user_id": [9, 9], "item_id": ["a", "b"], "rank": [1, 2]})
    >>> round(Novelty(k=2, train=train).calc(reco), 4)   # (-log2(3/4) - log2(1/4)) / 2
    1.2075
    """

    def __init__(self, k: int, train: Any = None) -> None:
        super().__init__(k)
        self.train = train

    def _user_values(self, topk: TopK) -> np.ndarray:
        counts, n_users = self._row_counts(topk)
        info = -np.log2(np.maximum(counts, 1.0) / n_users)
        n = np.bincount(topk.user, minlength=len(topk.user_ids))
        total = np.bincount(topk.user, weights=info, minlength=len(topk.user_ids))
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / n


class PopularityBias(_PopularityMetric):
    r"""Popularity of the recommended items: mean popularity or long-tail share.

    ``measure="mean_popularity"`` (label ``"MeanPopularity@k"``, the ARP of
    Abdollahpouri et al.):

    .. math:: \mathrm{ARP@k}(u) = \frac{1}{|L_u|} \sum_{i \in L_u} \frac{n_i}{n_{\mathrm{users}}}

    i.e. the mean share of train users who interacted with a recommended item.
    ``measure="long_tail_share"`` (label ``"LongTailShare@k"``): the share of
    :math:`L_u` outside the *head*, the ``ceil(head_fraction * m)`` most
    popular of the ``m`` items with train interactions (ties by item order);
    items never seen in train are long-tail.

    Parameters
    ----------
    k : int
        Cut-off, >= 1.
    train : Dataset or DataFrame, optional
        Training interactions; ``evaluate`` fills it from the split.
    measure : {"mean_popularity", "long_tail_share"}, default "mean_popularity"
    head_fraction : float, default 0.2
        Share of the interacted items that form the head (0 < f < 1).

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"user_id": [1, 2, 3, 4, 1], "item_id": list("aaabc")})
    >>> reco = pd.DataFrame({"user_id": [9, 9], "item_id": ["a", "c"], "rank": [1, 2]})
    >>> PopularityBias(k=2, train=train).calc(reco)               # (3/4 + 1/4) / 2
    0.5
    >>> PopularityBias(k=2, train=train, measure="long_tail_share").calc(reco)
    0.5
    """

    def __init__(self, k: int, train: Any = None, *, measure: str = "mean_popularity",
                 head_fraction: float = 0.2) -> None:
        super().__init__(k)
        self.train = train
        self.measure = check_choice(measure, "measure", ("mean_popularity", "long_tail_share"),
                                    owner="PopularityBias")
        self.head_fraction = check_number(head_fraction, "head_fraction", low=0.0, high=1.0,
                                          low_inclusive=False, high_inclusive=False,
                                          owner="PopularityBias")

    def _params(self) -> dict[str, Any]:
        return {"k": self.k, "measure": self.measure, "head_fraction": self.head_fraction}

    @property
    def label(self) -> str:  # noqa: D102
        name = "MeanPopularity" if self.measure == "mean_popularity" else "LongTailShare"
        return f"{name}@{self.k}"

    def _user_values(self, topk: TopK) -> np.ndarray:
        counts, n_users = self._row_counts(topk)
        if self.measure == "mean_popularity":
            values = counts / n_users
        else:
            pop, _ = self._popularity()
            seen = pop[pop > 0]
            n_head = int(np.ceil(self.head_fraction * len(seen)))
            order = np.argsort(-seen.to_numpy(), kind="stable")
            head = seen.index[order[:n_head]]
            values = (pd.Index(head).get_indexer(topk.item) < 0).astype(np.float64)
        n = np.bincount(topk.user, minlength=len(topk.user_ids))
        total = np.bincount(topk.user, weights=values, minlength=len(topk.user_ids))
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / n


def item_features_from_dataset(
    dataset: Any, columns: Sequence[str] | None = None
) -> tuple[sp.csr_matrix, np.ndarray]:
    """One-hot item features from a Dataset's item attributes.

    Each listed column becomes indicator features of its values. A
    ``category`` path such as ``"Home > Kitchen > Mugs"`` also yields its
    ancestors (``"Home"``, ``"Home > Kitchen"``), so items of sibling
    categories are partly similar; ``genres`` and ``tags`` are split on
    ``"|"`` (multi-hot). Items without any attribute get a zero row.

    Parameters
    ----------
    dataset : Dataset
        Source of :meth:`~persona_rec.Dataset.item_attributes`.
    columns : sequence of str, optional
        Attribute columns to use; default: those of ``category``, ``brand``
        and ``genres`` that exist.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        Features (items x features, float32) and the item ids of the rows.

    Raises
    ------
    InvalidParameterError
        No usable column.
    """
    attrs = dataset.item_attributes()
    if columns is None:
        columns = [c for c in ("category", "brand", "genres") if c in attrs.columns]
        if not columns:
            raise InvalidParameterError(
                "IntraListDiversity needs item features: the train Dataset's items have none of "
                f"the columns ['category', 'brand', 'genres'] (it has "
                f"{list(attrs.columns)}); pass item_features= explicitly."
            )
    missing = [c for c in columns if c not in attrs.columns]
    if missing:
        raise MissingColumnError(f"items are missing attribute column(s) {missing}.")
    n = len(attrs)
    rows_parts, token_parts = [], []
    for col in columns:
        values = attrs[col]
        if col == "category":
            parts = values.astype("string").str.split(" > ")
            depth = parts.str.len().fillna(0).astype(int).to_numpy()
            for d in range(1, int(depth.max()) + 1 if n else 1):  # depth is small
                at = np.flatnonzero(depth >= d)
                prefix = parts.iloc[at].str[:d].str.join(" > ")
                rows_parts.append(at)
                token_parts.append(("category=" + prefix).to_numpy(dtype=object))
        elif col in ("genres", "tags"):  # multi-valued, pipe-separated ("Action|Comedy")
            exploded = values.astype("string").str.split("|").explode().dropna()
            exploded = exploded[exploded.str.len() > 0]
            rows_parts.append(attrs.index.get_indexer(exploded.index))
            token_parts.append((col + "=" + exploded.astype(str)).to_numpy(dtype=object))
        else:
            mask = values.notna().to_numpy()
            rows_parts.append(np.flatnonzero(mask))
            token_parts.append((col + "=" + values[mask].astype(str)).to_numpy(dtype=object))
    rows = np.concatenate(rows_parts) if rows_parts else np.empty(0, dtype=np.int64)
    tokens = np.concatenate(token_parts) if token_parts else np.empty(0, dtype=object)
    codes, uniques = pd.factorize(tokens)
    x = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, codes)),
                      shape=(n, max(len(uniques), 1)))
    x.sum_duplicates()
    x.data[:] = 1.0
    return x, attrs.index.to_numpy()


class IntraListDiversity(_TopKMetric):
    r"""Mean pairwise cosine distance between the items of each top-k list.

    .. math::
        \mathrm{ILD@k}(u) = \frac{2}{|L_u|(|L_u| - 1)} \sum_{i < j \in L_u}
        \big(1 - \cos(x_i, x_j)\big)

    computed for all users at once from :math:`\|\sum_i \hat x_i\|^2`. Items
    without features (unknown id or all-zero vector) are left out of the
    list; users with fewer than 2 such items are NaN. With non-negative
    features (one-hot attributes) the value lies in [0, 1]; signed
    embeddings give [0, 2].

    Parameters
    ----------
    k : int
        Cut-off, >= 1.
    item_features : DataFrame, (matrix, item_ids) tuple or Dataset, optional
        A DataFrame indexed by ``item_id`` (numeric columns used as is, other
        columns one-hot encoded), a ``(matrix, item_ids)`` pair (dense or
        sparse embeddings) or a Dataset (see :func:`item_features_from_dataset`).
        ``evaluate`` uses the split's train Dataset.

    Examples
    --------
    >>> import pandas as pd
    >>> feats = pd.DataFrame({"item_id": ["a", "b", "c"], "brand": ["x", "x", "y"]})
    >>> reco = pd.DataFrame({"user_id": [1, 1, 1], "item_id": ["a", "b", "c"],
    ...                      "rank": [1, 2, 3]})
    >>> round(IntraListDiversity(k=3, item_features=feats.set_index("item_id")).calc(reco), 4)
    0.6667
    """

    needs = ("item_features",)

    def __init__(self, k: int, item_features: Any = None) -> None:
        super().__init__(k)
        self.item_features = item_features

    def _reset_cache(self) -> None:
        self._feat_cache = None

    def _features(self) -> tuple[sp.csr_matrix, pd.Index]:
        cache = getattr(self, "_feat_cache", None)
        if cache is not None and cache[0] is self.item_features:
            return cache[1], cache[2]
        x, ids = self._build_features(self.item_features)
        x = sp.csr_matrix(x, dtype=np.float64)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        x = sp.diags(inv) @ x
        index = pd.Index(ids)
        if not index.is_unique:
            raise DuplicateIdError("IntraListDiversity item_features lists an item_id twice.")
        # Rows with zero norm behave as unknown items.
        index_arr = np.where(norms > 0, np.arange(len(ids)), -1)
        self._feat_cache = (self.item_features, sp.csr_matrix(x), (index, index_arr))
        return self._feat_cache[1], self._feat_cache[2]

    @staticmethod
    def _build_features(features: Any) -> tuple[Any, np.ndarray]:
        from ..dataset import Dataset

        if isinstance(features, Dataset):
            return item_features_from_dataset(features)
        if isinstance(features, tuple) and len(features) == 2:
            matrix, ids = features
            ids = np.asarray(ids)
            if matrix.shape[0] != len(ids):
                raise InvalidParameterError(
                    f"IntraListDiversity item_features matrix has {matrix.shape[0]} rows but "
                    f"{len(ids)} item ids."
                )
            return matrix, ids
        if isinstance(features, pd.DataFrame):
            numeric = features.select_dtypes(include=["number", "bool"])
            other = features.drop(columns=numeric.columns)
            parts = [sp.csr_matrix(numeric.to_numpy(dtype=np.float64))] if len(
                numeric.columns) else []
            if len(other.columns):
                dummies = pd.get_dummies(other.astype("string"), sparse=False)
                parts.append(sp.csr_matrix(dummies.to_numpy(dtype=np.float64)))
            if not parts:
                raise InvalidParameterError("IntraListDiversity item_features has no columns.")
            return sp.hstack(parts).tocsr(), features.index.to_numpy()
        raise InvalidDtypeError(
            "The 'item_features' parameter of IntraListDiversity must be a DataFrame indexed "
            f"by item_id, a (matrix, item_ids) tuple or a Dataset, got {type(features).__name__}."
        )

    def _user_values(self, topk: TopK) -> np.ndarray:
        x, (index, valid) = self._features()
        pos = index.get_indexer(topk.item)
        feat_row = np.where(pos >= 0, valid[np.maximum(pos, 0)], -1)
        keep = feat_row >= 0
        n_users = len(topk.user_ids)
        m = sp.csr_matrix(
            (np.ones(int(keep.sum())), (topk.user[keep], feat_row[keep])),
            shape=(n_users, x.shape[0]),
        )
        s = m @ x
        sq = np.asarray(s.multiply(s).sum(axis=1)).ravel()
        n = np.bincount(topk.user[keep], minlength=n_users).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = 1.0 - (sq - n) / (n * (n - 1.0))
        out[n < 2] = np.nan
        return out


# --------------------------------------------------------------- batches
def _check_metrics(metrics: Any) -> list[Metric]:
    if isinstance(metrics, Metric):
        metrics = [metrics]
    elif isinstance(metrics, Mapping):
        metrics = list(metrics.values())
    if not isinstance(metrics, Iterable):
        raise InvalidDtypeError(f"metrics must be a list of Metric objects, got {metrics!r}.")
    metrics = list(metrics)
    if not metrics:
        raise EmptyInputError("metrics is empty: pass at least one Metric.")
    for m in metrics:
        if not isinstance(m, Metric):
            raise InvalidDtypeError(
                f"metrics must hold Metric objects such as NDCG(k=10), got {m!r}."
            )
    labels = [m.label for m in metrics]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise DuplicateIdError(f"metrics has duplicate label(s) {dup}.")
    return metrics


def _max_k(metrics: list[Metric]) -> int | None:
    ks = [m.k for m in metrics]
    return None if any(k is None for k in ks) else max(ks)  # type: ignore[type-var]


def calc_metrics_per_user(
    metrics: Sequence[Metric] | Metric,
    reco: pd.DataFrame,
    test: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-user values of several metrics, sharing one validation and hit search.

    Parameters
    ----------
    metrics : sequence of Metric
        Per-user metrics (catalog-level ones such as CatalogCoverage are
        rejected).
    reco : pandas.DataFrame
        Recommendations ``user_id, item_id, rank``.
    test : pandas.DataFrame, optional
        Relevant ``user_id, item_id`` pairs (needed by ranking metrics).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``user_id`` (test users first, then users only in
        ``reco``), one column per metric label; NaN where undefined.
    """
    metrics = _check_metrics(metrics)
    for m in metrics:
        if not m.per_user:
            raise InvalidParameterError(
                f"{m.label} is a catalog-level metric with no per-user value."
            )
    return _calc(metrics, reco, test, per_user=True)  # type: ignore[return-value]


def calc_metrics(
    metrics: Sequence[Metric] | Metric,
    reco: pd.DataFrame,
    test: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Values of several metrics at once, sharing one validation and hit search.

    Equivalent to ``{m.label: m.calc(reco, test) for m in metrics}`` but the
    reco frame is validated and matched against ``test`` only once (at the
    largest ``k``).

    Parameters
    ----------
    metrics : sequence of Metric
    reco : pandas.DataFrame
        Recommendations ``user_id, item_id, rank``.
    test : pandas.DataFrame, optional
        Relevant ``user_id, item_id`` pairs (needed by ranking metrics).

    Returns
    -------
    dict of str to float
        Metric label -> value, in the order given.

    Examples
    --------
    >>> import pandas as pd
    >>> reco = pd.DataFrame({"user_id": [1, 1], "item_id": [7, 8], "rank": [1, 2]})
    >>> test = pd.DataFrame({"user_id": [1], "item_id": [8]})
    >>> calc_metrics([Precision(2), HitRate(1), MRR(2)], reco, test)
    {'Precision@2': 0.5, 'HitRate@1': 0.0, 'MRR@2': 0.5}
    """
    metrics = _check_metrics(metrics)
    return _calc(metrics, reco, test, per_user=False)  # type: ignore[return-value]


def _calc(metrics: list[Metric], reco: Any, test: Any, per_user: bool) -> Any:
    ranking = [m for m in metrics if isinstance(m, RankingMetric)]
    other = [m for m in metrics if not isinstance(m, RankingMetric)]
    for m in metrics:
        m._check_context()
    results: dict[str, Any] = {}
    topk: TopK | None = None
    prep: Prepared | None = None
    if ranking:
        _require_test(ranking[0], test)
        prep = prepare(reco, test, _max_k(metrics))
        if prep.n_test == 0:
            raise EmptyInputError("test is empty: there is no relevant item to evaluate.")
        topk = prep.topk
    elif other:
        topk = check_reco_topk(reco, _max_k(other))
    for m in metrics:
        if isinstance(m, RankingMetric):
            assert prep is not None
            values = m._values(prep)
            results[m.label] = m._series(prep) if per_user else _mean(values)
        elif isinstance(m, CatalogCoverage):
            results[m.label] = m._from_topk(m._topk(reco, topk))
        else:
            assert isinstance(m, _TopKMetric)
            sub = m._topk(reco, topk)
            values = m._user_values(sub)
            results[m.label] = (
                pd.Series(values, index=pd.Index(sub.user_ids, name=Columns.USER), name=m.label)
                if per_user else _mean(values)
            )
    if not per_user:
        return results
    frames = list(results.values())
    out = pd.concat(frames, axis=1, sort=False) if len(frames) > 1 else frames[0].to_frame()
    out.index.name = Columns.USER
    return out

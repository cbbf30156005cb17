"""Beyond-accuracy metrics: what a top-k list looks like, whatever the test set says.

CatalogCoverage, Novelty, PopularityBias and IntraListDiversity read the
recommendation frame alone (plus the training Dataset through
:meth:`~persona_rec.evaluation.base.Metric.bind` for popularity, catalog and
item features); none needs the ``test`` frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._text import fill_doc
from .._validation import check_choice, check_number
from ..columns import Columns
from ..exceptions import (
    DuplicateIdError,
    EmptyInputError,
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
)
from ._reco import TopK, check_reco_topk
from .base import _K_DOC, Metric, _catalog_index, _check_k, _mean
from .item_features import item_features_from_dataset

__all__ = ["CatalogCoverage", "Novelty", "PopularityBias", "IntraListDiversity"]


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


@fill_doc(k=_K_DOC)
class CatalogCoverage(_TopKMetric):
    r"""Share of the catalog that appears in at least one top-k list.

    .. math:: \mathrm{Coverage@k} = \frac{|\bigcup_u \mathrm{top}_k(u) \cap C|}{|C|}

    A catalog-level metric (:attr:`per_user` is False): ``calc_per_user``
    raises. ``evaluate(..., by=...)`` computes it within each group.

    Parameters
    ----------
    {k}
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


def _list_mean(topk: TopK, values: np.ndarray) -> np.ndarray:
    """Mean of the per-row ``values`` over each user's top-k list."""
    n = np.bincount(topk.user, minlength=len(topk.user_ids))
    total = np.bincount(topk.user, weights=values, minlength=len(topk.user_ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / n


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


@fill_doc(k=_K_DOC)
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
    {k}
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
        return _list_mean(topk, info)


@fill_doc(k=_K_DOC)
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
    {k}
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
        return _list_mean(topk, values)


@fill_doc(k=_K_DOC)
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
    {k}
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

"""Per-user propensity scores for an item set or category.

Three sources, all returning a ``pandas.Series`` indexed by ``user_id``
(higher = more likely to buy):

* :func:`recommender_propensity` - any fitted recommender with
  ``recommend(user_ids, k, ...)``: the sum of the user's top-``k`` scores
  inside the category / item set;
* :func:`scores_propensity` - a precomputed users x items score matrix;
* :func:`affinity_propensity` - no model: recency-weighted count of the
  user's past orders in the category (a strong, transparent baseline).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._text import CategorySep, category_item_mask, resolve_category_sep
from .._validation import check_choice, check_int, check_number
from ..columns import Columns
from ..exceptions import EmptyInputError, InvalidDtypeError, InvalidValueError
from ..profiles._context import parse_as_of

__all__ = [
    "recommender_propensity",
    "scores_propensity",
    "affinity_propensity",
    "category_item_mask",
]


def recommend_skip_unknown(model: Any, user_ids: np.ndarray, **kwargs: Any) -> pd.DataFrame:
    """Call ``model.recommend`` with ``on_unknown="skip"`` when its signature accepts it.

    Duck-typed models without that option are called without it. The
    signature is inspected rather than catching ``TypeError``, so a
    ``TypeError`` raised inside ``recommend`` (for example
    :class:`~persona_rec.exceptions.InvalidDtypeError`) is not mistaken for a
    missing option and reaches the caller.

    Parameters
    ----------
    model : Recommender or duck type
        Anything with a ``recommend(user_ids, **kwargs)`` method.
    user_ids : numpy.ndarray
        External user ids.
    **kwargs
        Passed on to ``recommend``.

    Returns
    -------
    pandas.DataFrame
        What ``recommend`` returns.
    """
    try:
        params = inspect.signature(model.recommend).parameters
    except (TypeError, ValueError):  # builtins or C extensions without a signature
        params = {}
    if "on_unknown" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs["on_unknown"] = "skip"
    return model.recommend(user_ids, **kwargs)


def recommender_propensity(
    model: Any,
    user_ids: Any,
    *,
    category: str | Sequence[str] | None = None,
    items: Any = None,
    k: int = 10,
    filter_seen: bool = False,
    agg: str = "sum",
    category_sep: CategorySep = None,
) -> pd.Series:
    """Propensity from a fitted recommender's scores.

    Parameters
    ----------
    model : Recommender or duck type
        Anything with ``recommend(user_ids, k=..., filter_seen=..., items=...,
        item_filter=...)`` returning ``user_id, item_id, score`` rows.
    user_ids : array-like
        Users to score.
    category : str or sequence of str, optional
        Restrict to items under this category path
        (``item_filter={"categories": category}``).
    items : array-like, optional
        Restrict to these item ids.
    k : int, default 10
        Top items per user that enter the aggregate.
    filter_seen : bool, default False
        Whether already-bought items are excluded. ``False`` suits
        replenishment-heavy shops (re-buying is a purchase too).
    agg : {"sum", "max"}, default "sum"
        How the top-``k`` scores are combined.
    category_sep : str, sequence of str or None, default None
        Separator(s) of the category path levels (None: package default,
        ``">"`` and ``"/"``; ``()``: flat categories).

    Returns
    -------
    pandas.Series
        Indexed by ``user_id`` in input order; NaN for users the model
        returned nothing for.
    """
    if not hasattr(model, "recommend"):
        raise InvalidDtypeError(
            f"model must have a recommend(user_ids, k, ...) method, got {type(model).__name__}."
        )
    k = check_int(k, "k", minimum=1)
    check_choice(agg, "agg", ("sum", "max"))
    ids = pd.Index(pd.unique(np.asarray(user_ids, dtype=object)))
    kwargs: dict[str, Any] = {"k": k, "filter_seen": filter_seen}
    if items is not None:
        kwargs["items"] = items
    if category is not None:
        kwargs["item_filter"] = {"categories": category}
        if category_sep is not None:
            kwargs["item_filter"]["category_sep"] = resolve_category_sep(category_sep)
    reco = recommend_skip_unknown(model, ids.to_numpy(), **kwargs)
    grouped = reco.groupby(reco[Columns.USER].astype(object))[Columns.SCORE]
    score = grouped.sum() if agg == "sum" else grouped.max()
    out = score.reindex(ids)
    out.index.name = Columns.USER
    out.name = "propensity"
    return out.astype(np.float64)


def scores_propensity(
    scores: Any,
    user_ids: Any,
    item_ids: Any,
    *,
    items: Any = None,
    item_categories: pd.Series | None = None,
    category: str | Sequence[str] | None = None,
    agg: str = "sum",
    category_sep: CategorySep = None,
) -> pd.Series:
    """Propensity from a users x items score matrix.

    Parameters
    ----------
    scores : array-like or sparse matrix, shape (n_users, n_items)
        Scores (e.g. predicted purchase probabilities).
    user_ids, item_ids : array-like
        Row and column ids of ``scores``.
    items : array-like, optional
        Target item ids (columns to aggregate).
    item_categories : pandas.Series, optional
        Category path per column (same order as ``item_ids``), with ``category``.
    category : str or sequence of str, optional
        Target category path(s).
    agg : {"sum", "max"}, default "sum"
        Aggregation over the target columns.
    category_sep : str, sequence of str or None, default None
        Separator(s) of the category path levels (None: package default).

    Returns
    -------
    pandas.Series
        Indexed by ``user_id``.

    Examples
    --------
    >>> import numpy as np
    >>> s = scores_propensity(np.array([[0.1, 0.5], [0.4, 0.0]]), ["u", "v"], ["a", "b"], items=["b"])
    >>> s.to_dict()
    {'u': 0.5, 'v': 0.0}
    """
    check_choice(agg, "agg", ("sum", "max"))
    mat = scores.tocsr() if sp.issparse(scores) else np.asarray(scores, dtype=np.float64)
    users = np.asarray(user_ids, dtype=object)
    itm = pd.Index(np.asarray(item_ids, dtype=object))
    if mat.ndim != 2 or mat.shape != (users.size, itm.size):
        raise InvalidValueError(
            f"scores must have shape (len(user_ids), len(item_ids)) = ({users.size}, {itm.size}), "
            f"got {mat.shape}."
        )
    col = np.ones(itm.size, dtype=bool)
    if items is not None:
        col &= itm.isin(pd.Index(np.asarray(items, dtype=object)))
    if category is not None:
        if item_categories is None:
            raise InvalidValueError("category needs item_categories (one path per item column).")
        col &= category_item_mask(pd.Series(np.asarray(item_categories, dtype=object)), category,
                                  sep=category_sep)
    if not col.any():
        raise EmptyInputError(f"No item column matches items={items!r} / category={category!r}.")
    sub = mat[:, np.flatnonzero(col)]
    if sp.issparse(sub):
        vals = np.asarray(sub.sum(axis=1) if agg == "sum" else sub.max(axis=1).toarray()).ravel()
    else:
        vals = sub.sum(axis=1) if agg == "sum" else sub.max(axis=1)
    return pd.Series(vals.astype(np.float64), index=pd.Index(users, name=Columns.USER), name="propensity")


def affinity_propensity(
    dataset: Any,
    category: str | Sequence[str],
    *,
    as_of: Any = None,
    half_life_days: float = 90.0,
    purchase_events: Sequence[str] = ("purchase", "order"),
    activity_weight: float = 0.01,
    category_sep: CategorySep = None,
) -> pd.Series:
    """Recency-weighted category affinity (no model needed).

    ``score = sum over the user's past purchase days in the category of
    0.5 ** (age_days / half_life_days) + activity_weight * (same sum over all
    purchase days)``; the second term only breaks ties among users without
    category history in favour of recently active ones.

    Parameters
    ----------
    dataset : Dataset
        Behaviour log; item attribute ``category`` must exist.
    category : str or sequence of str
        Target category path(s).
    as_of : timestamp-like, optional
        Only events strictly before this time count; default after the last event.
    half_life_days : float, default 90
        Age at which an order counts half.
    purchase_events : sequence of str, default ("purchase", "order")
        Event values that count (all events when there is no ``event`` column).
    activity_weight : float, default 0.01
        Weight of overall purchase recency/frequency.
    category_sep : str, sequence of str or None, default None
        Separator(s) of the category path levels (None: package default,
        ``">"`` and ``"/"``; ``()``: flat categories).

    Returns
    -------
    pandas.Series
        One value per dataset user (``user_map`` order), indexed by ``user_id``.
    """
    half = check_number(half_life_days, "half_life_days", low=0.0, low_inclusive=False)
    aw = check_number(activity_weight, "activity_weight", low=0.0)
    items = dataset.item_attributes()
    if "category" not in items.columns:
        raise InvalidValueError(
            f"dataset items need a 'category' column for affinity_propensity, got {list(items.columns)}."
        )
    in_cat = category_item_mask(items["category"], category, sep=category_sep)
    inter = dataset.internal_interactions
    ts = inter[Columns.TIMESTAMP].to_numpy()
    end = parse_as_of(as_of).to_datetime64() if as_of is not None else ts.max() + np.timedelta64(1, "s")
    keep = ts < end
    if Columns.EVENT in inter.columns:
        keep &= inter[Columns.EVENT].astype(str).isin(list(purchase_events)).to_numpy()
    u = inter["user_idx"].to_numpy()[keep]
    it = inter["item_idx"].to_numpy()[keep]
    day = ts[keep].astype("datetime64[D]")
    age = (end - ts[keep]) / np.timedelta64(1, "D")
    w = 0.5 ** (age / half)
    frame = pd.DataFrame({"u": u, "d": day, "c": in_cat[it], "w": w})
    cat_days = frame[frame["c"]].drop_duplicates(["u", "d"])
    all_days = frame.drop_duplicates(["u", "d"])
    n = dataset.n_users
    score = np.bincount(cat_days["u"].to_numpy(), weights=cat_days["w"].to_numpy(), minlength=n).astype(np.float64)
    score += aw * np.bincount(all_days["u"].to_numpy(), weights=all_days["w"].to_numpy(), minlength=n)
    return pd.Series(
        score, index=pd.Index(dataset.user_map.external_ids, name=Columns.USER), name="propensity"
    )

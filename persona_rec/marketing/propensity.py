"""Per-user propensity scores for an item set or category.

Three sources, all returning a ``pandas.Series`` indexed by ``user_id``
(higher = more likely to buy):

* :func:`recommender_propensity` - any fitted recommender with
  ``recommend(user_ids, k, ...)``: the sum of the user's top-``k`` scores
  inside the category / item set;
* :func:`scores_propensity` - a precomputed users x items score matrix;
* :func:`affinity_propensity` - no model: recency-weighted count of the
  user's past orders in the category (a strong, transparent baseline);
* :class:`LearnedPropensity` - a calibrated classifier of "buys (in the
  category) in the next window" on profile features, trained time-respecting.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._params import ParamsMixin
from .._progress import get_logger
from .._text import CategorySep, category_item_mask, resolve_category_sep
from .._validation import (
    as_of_or_after,
    as_timestamp,
    check_bool,
    check_choice,
    check_int,
    check_number,
)
from ..columns import Columns, PURCHASE_EVENTS
from ..exceptions import EmptyInputError, InvalidDtypeError, InvalidValueError

_log = get_logger(__name__)

__all__ = [
    "recommender_propensity",
    "scores_propensity",
    "affinity_propensity",
    "category_item_mask",
    "LearnedPropensity",
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
    purchase_events: Sequence[str] = PURCHASE_EVENTS,
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
        Separator(s) of the levels of the items' ``category`` paths (None:
        package default, ``">"`` and ``"/"``; ``()``: flat categories).

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
    end = as_timestamp(as_of, "as_of").to_datetime64() if as_of is not None else ts.max() + np.timedelta64(1, "s")
    keep = ts < end
    if Columns.EVENT in inter.columns:
        keep &= inter[Columns.EVENT].astype(str).isin(list(purchase_events)).to_numpy()
    u = inter[Columns.USER_IDX].to_numpy()[keep]
    it = inter[Columns.ITEM_IDX].to_numpy()[keep]
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


# ------------------------------------------------------------------ learned propensity
_CALIBRATIONS = ("isotonic", "sigmoid")


class LearnedPropensity(ParamsMixin):
    """Calibrated P(purchase in the next window), optionally in a category, learned from profiles.

    Time-respecting training: for a cut-off ``as_of`` and a window of ``w``
    days, features are profiles built at ``as_of - w`` (only events before
    it) and the label is "bought (an item of ``category``) in
    ``[as_of - w, as_of)``"; :meth:`predict` then builds profiles at a later
    cut-off (default the same ``as_of``) and scores ``[as_of, as_of + w)``.
    Nothing after a cut-off is ever used. With ``n_snapshots = k > 1`` the
    training set stacks ``k`` such snapshots, the ``j``-th one shifted
    ``j * snapshot_step_days`` earlier (features at
    ``as_of - w - j * step``, labels in the ``w`` days that follow): more
    customers and more label windows to learn from, every label window still
    ending at or before ``as_of``. The classifier is wrapped in
    scikit-learn's :class:`~sklearn.calibration.CalibratedClassifierCV`
    (``ensemble=False``: one logistic regression fitted on all rows, the
    calibration map fitted on its out-of-fold scores from ``cv`` stratified
    folds, no shuffling: the fit is deterministic), so scores are
    probabilities; they feed
    :func:`~persona_rec.marketing.select_audience` (``propensity=``).

    Users scored: every user with at least one event before the cut-off
    (attribute-only users have no behaviour to learn from and are not in
    the result; ``select_audience`` drops users without a score).

    Parameters
    ----------
    window_days : float, default 90
    category : str or sequence of str, optional
        Target category path(s) (display or slug form, see
        :func:`category_item_mask`); default: any purchase.
    C : float, default 0.1
        Inverse L2 strength of the logistic regression on the standardised
        profile features (1.0 in version 0.1). (Gradient boosting was tried
        on Online Retail and ranked worse at many times the cost; see
        ``docs/predictive.md``.)
    calibration : {"sigmoid", "isotonic"}, default "sigmoid"
        Map from the classifier's score to a probability, fitted on
        out-of-fold scores (``cv`` folds); the classifier itself is fitted
        once on all rows. ``"sigmoid"`` (Platt) is monotone, so the ranking
        (AUC) is the classifier's; ``"isotonic"`` (the default of version
        0.1) is a step function whose ties can cost ranking quality (on
        Online Retail: 0.03 AUC with one snapshot, none with three).
    cv : int, default 3
        Calibration folds (>= 2).
    builder : ProfileBuilder, optional
        Profiles used as features; default ``ProfileBuilder.default()``. Add a
        :class:`~persona_rec.profiles.PredictiveBuilder` for BG/NBD features.
    blocks : sequence of str, default ("numeric", "categorical", "affinity")
        Blocks of :meth:`Profiles.features`.
    n_snapshots : int, default 3
        Training snapshots stacked (>= 1); 1 is the single snapshot of
        version 0.1. An earlier snapshot whose feature date precedes every
        event is left out with a logged warning (``snapshots_`` lists the
        snapshots used); the latest one must have users.
    snapshot_step_days : float, default 30
        Days between consecutive training snapshots (> 0; used when
        ``n_snapshots > 1``).
    timing_features : bool, default True
        When ``builder`` is None, add a
        :class:`~persona_rec.profiles.PurchaseTimingBuilder` (purchase-day
        counts, gaps, due-ness, recent activity) to ``ProfileBuilder.default()``
        (on Online Retail: AUC 0.741 -> 0.743, Brier 0.225 -> 0.216 with the
        other defaults; ``docs/predictive.md``). Ignored when ``builder`` is
        given (add the builder to it yourself). ``False`` gives the features
        of version 0.1.

    Attributes
    ----------
    feature_names_ : list of str
    train_as_of_ : pandas.Timestamp
        The feature date of the latest training snapshot (``as_of - window_days``).
    snapshots_ : list of pandas.Timestamp
        The feature dates of the stacked training snapshots, latest first.
    n_train_, n_positive_ : int
        Training rows (users x snapshots) and rows with a purchase.
    model_ : sklearn.calibration.CalibratedClassifierCV

    Examples
    --------
    >>> from persona_rec.sample_data import synthetic
    >>> data = synthetic(n_users=400, n_items=80, n_events=15000, random_state=0)
    >>> lp = LearnedPropensity(window_days=60).fit(data.dataset, as_of=data.end - pd.Timedelta(days=60))
    >>> p = lp.predict(data.dataset)
    >>> p.name, bool(p.between(0, 1).all())
    ('propensity', True)
    """

    def __init__(
        self,
        window_days: float = 90.0,
        *,
        category: str | Sequence[str] | None = None,
        C: float = 0.1,
        calibration: str = "sigmoid",
        cv: int = 3,
        builder: Any = None,
        blocks: Sequence[str] = ("numeric", "categorical", "affinity"),
        n_snapshots: int = 3,
        snapshot_step_days: float = 30.0,
        timing_features: bool = True,
    ) -> None:
        own = "LearnedPropensity"
        self.window_days = check_number(window_days, "window_days", low=0, low_inclusive=False,
                                        owner=own)
        if category is not None and not isinstance(category, (str, Sequence)):
            raise InvalidDtypeError(
                f"category of LearnedPropensity must be a str or a list of str, got "
                f"{type(category).__name__}.")
        self.category = category
        self.C = check_number(C, "C", low=0, low_inclusive=False, owner=own)
        self.calibration = check_choice(calibration, "calibration", _CALIBRATIONS, owner=own)
        self.cv = check_int(cv, "cv", minimum=2, owner=own)
        from ..profiles import ProfileBuilder

        if builder is not None and not isinstance(builder, ProfileBuilder):
            raise InvalidDtypeError(
                f"builder of LearnedPropensity must be a ProfileBuilder, got "
                f"{type(builder).__name__}.")
        self.builder = builder
        self.blocks = tuple(blocks)
        self.n_snapshots = check_int(n_snapshots, "n_snapshots", minimum=1, owner=own)
        self.snapshot_step_days = check_number(snapshot_step_days, "snapshot_step_days", low=0,
                                               low_inclusive=False, owner=own)
        self.timing_features = check_bool(timing_features, "timing_features", owner=own)

    # ---------------------------------------------------------------- internals
    def _features(self, dataset: Any, cut: pd.Timestamp) -> tuple[Any, list[str], np.ndarray]:
        from ..profiles import ProfileBuilder, PurchaseTimingBuilder

        builder = self.builder
        if builder is None:
            builder = ProfileBuilder.default()
            if self.timing_features:
                builder = ProfileBuilder(builder.builders + [PurchaseTimingBuilder()])
        prof = builder.build(dataset, as_of=cut)
        x, names = prof.features(blocks=self.blocks)
        inter = dataset.internal_interactions
        ts = inter[Columns.TIMESTAMP].to_numpy()
        seen = np.zeros(dataset.n_users, dtype=bool)
        seen[inter[Columns.USER_IDX].to_numpy()[ts < cut.to_datetime64()]] = True
        return sp.csr_matrix(x)[np.flatnonzero(seen)], list(names), np.flatnonzero(seen)

    def _labels(self, dataset: Any, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Per internal user: a purchase (in the category) in ``[start, end)``."""
        inter = dataset.internal_interactions
        ts = inter[Columns.TIMESTAMP].to_numpy()
        keep = (ts >= start.to_datetime64()) & (ts < end.to_datetime64())
        if Columns.EVENT in inter.columns:
            keep &= inter[Columns.EVENT].astype(str).str.lower().isin(PURCHASE_EVENTS) \
                .to_numpy()
        if self.category is not None:
            items = dataset.item_attributes()
            if "category" not in items.columns:
                raise InvalidValueError(
                    f"LearnedPropensity(category={self.category!r}) needs an item 'category' "
                    f"column, got {list(items.columns)}.")
            in_cat = category_item_mask(items["category"], self.category)
            keep &= in_cat[inter[Columns.ITEM_IDX].to_numpy()]
        y = np.zeros(dataset.n_users, dtype=bool)
        y[inter[Columns.USER_IDX].to_numpy()[keep]] = True
        return y

    def _align(self, x: sp.csr_matrix, names: list[str],
               target: list[str] | None = None) -> sp.csr_matrix:
        """Columns of ``x`` in ``target`` order (default ``feature_names_``; absent ones are 0)."""
        target = self.feature_names_ if target is None else target
        pos = {n: i for i, n in enumerate(target)}
        src = np.array([i for i, n in enumerate(names) if n in pos], dtype=np.int64)
        dst = np.array([pos[names[i]] for i in src], dtype=np.int64)
        sel = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(len(names), len(target)))
        return sp.csr_matrix(x @ sel)

    # ---------------------------------------------------------------- public
    def fit(self, dataset: Any, as_of: Any) -> LearnedPropensity:
        """Train on features at ``as_of - window_days`` and labels in ``[as_of - window_days, as_of)``.

        With ``n_snapshots > 1``, also on the same pair shifted back by
        ``snapshot_step_days``, ``2 * snapshot_step_days`` ... (rows stacked;
        a feature absent from a snapshot, e.g. a category nobody had bought
        yet, is 0 there).

        Parameters
        ----------
        dataset : Dataset
        as_of : datetime-like
            End of the label window (no event at or after it is used).

        Returns
        -------
        LearnedPropensity
            ``self``, fitted.

        Raises
        ------
        EmptyInputError
            No user has an event before the feature date of the latest
            snapshot (``as_of - window_days``).
        InvalidValueError
            Fewer than ``cv`` training rows with (or without) a purchase in
            the label windows: the classes cannot be learned and calibrated.
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        last_end = as_timestamp(as_of, "as_of")
        first_start = last_end - pd.Timedelta(days=self.window_days)
        blocks: list[tuple[sp.csr_matrix, list[str]]] = []
        labels: list[np.ndarray] = []
        starts: list[pd.Timestamp] = []
        all_names: dict[str, None] = {}
        for j in range(self.n_snapshots):
            end = last_end - pd.Timedelta(days=j * self.snapshot_step_days)
            start = end - pd.Timedelta(days=self.window_days)
            x, names, users = self._features(dataset, start)
            if len(users) == 0 and j > 0:
                _log.warning(
                    "LearnedPropensity.fit: training snapshots %d-%d of n_snapshots=%d (feature "
                    "dates %s and earlier) are left out: no user has an event before them",
                    j + 1, self.n_snapshots, self.n_snapshots, start)
                break
            if len(users) == 0:
                raise EmptyInputError(
                    f"LearnedPropensity.fit: no user has an event before the feature date "
                    f"{start} (as_of={last_end} minus window_days={self.window_days:g}); move "
                    f"as_of later.")
            blocks.append((x, names))
            labels.append(self._labels(dataset, start, end)[users])
            starts.append(start)
            all_names.update(dict.fromkeys(names))
        y = np.concatenate(labels)
        n_pos, n_neg = int(y.sum()), int((~y).sum())
        if min(n_pos, n_neg) < self.cv:
            span = (f"the label window [{first_start}, {last_end})" if self.n_snapshots == 1
                    else f"the {self.n_snapshots} label windows ending {last_end} and earlier")
            raise InvalidValueError(
                f"LearnedPropensity.fit: {span} has {n_pos} user(s) "
                f"who bought{' in ' + repr(self.category) if self.category else ''} and {n_neg} "
                f"who did not; each class needs at least cv={self.cv}.")
        self.feature_names_ = list(all_names)
        x = sp.vstack([self._align(xb, nb) for xb, nb in blocks], format="csr")
        base = LogisticRegression(C=self.C, max_iter=2000)
        self.model_ = CalibratedClassifierCV(base, method=self.calibration, cv=self.cv,
                                             ensemble=False)
        self.model_.fit(x, y)
        self.train_as_of_ = first_start
        self.snapshots_ = starts
        self.n_train_ = len(y)
        self.n_positive_ = n_pos
        return self

    def predict(self, dataset: Any, as_of: Any = None) -> pd.Series:
        """P(purchase in ``[as_of, as_of + window_days)``) per user with an event before ``as_of``.

        Parameters
        ----------
        dataset : Dataset
        as_of : datetime-like, optional
            Feature cut-off; default the last event + 1 second.

        Returns
        -------
        pandas.Series
            Named ``"propensity"``, indexed by ``user_id``, values in [0, 1].
        """
        if not hasattr(self, "model_"):
            from ..exceptions import NotFittedError

            raise NotFittedError(
                "This LearnedPropensity is not fitted yet; call fit(dataset, as_of) first.")
        cut = as_of_or_after(as_of, dataset.time_range[1])
        x, names, users = self._features(dataset, cut)
        if len(users) == 0:
            return pd.Series([], dtype=np.float64, name="propensity",
                             index=pd.Index(dataset.user_map.external_ids[:0], name=Columns.USER))
        proba = self.model_.predict_proba(self._align(x, names))[:, 1]
        return pd.Series(proba, index=pd.Index(dataset.user_map.to_external(users),
                                               name=Columns.USER), name="propensity")

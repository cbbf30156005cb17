"""One-call evaluation of a model (or a reco frame) on a :class:`Split`.

:func:`evaluate` fits a model on ``split.train``, recommends for the test
users and returns a tidy table of metric values, optionally broken down by a
user attribute, a segment/tag/lifecycle mapping or the hot/warm/cold state,
with bootstrap confidence intervals. :func:`evaluate_per_user` gives the
per-user values that :func:`~persona_rec.evaluation.paired_test` compares
between two models. :func:`compare` runs several models on one split and
reports fit and recommend times as well.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._progress import get_logger, progress
from .._validation import check_instance, check_int, check_number
from ..columns import Columns
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
)
from ._reco import ALL_GROUP, MISSING_GROUP, warn_disjoint_id_types
from .metrics import Metric, _check_metrics, _max_k, calc_metrics_per_user
from .splitters import Split
from .significance import bootstrap_ci

__all__ = ["recommend_for_split", "evaluate", "evaluate_per_user", "compare"]

_log = get_logger(__name__)


def _check_split(split: Any) -> Split:
    return check_instance(split, Split, "split must be a persona_rec.evaluation.Split (from a "
                                        "splitter such as random_split)")


def _is_model(obj: Any) -> bool:
    return callable(getattr(obj, "fit", None)) and callable(getattr(obj, "recommend", None))


def recommend_for_split(
    model: Any,
    split: Split,
    k: int,
    *,
    filter_seen: bool | None = None,
    fit: bool = True,
    recommend_kwargs: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fit ``model`` on ``split.train`` and recommend ``k`` items to each test user.

    The model needs ``fit(dataset)`` and ``recommend(user_ids, k=,
    filter_seen=)``. When ``recommend`` accepts them, ``on_unknown="skip"``
    is passed (users the model cannot serve get no list and score 0) and, for
    splits with ``candidate_items`` (cold-item split), ``items=`` restricts
    the ranking to those items.

    Parameters
    ----------
    model : object
        A recommender (e.g. from :mod:`persona_rec.models`).
    split : Split
    k : int
        Items per user.
    filter_seen : bool, optional
        Passed to ``recommend``; default ``split.filter_seen``.
    fit : bool, default True
        Whether to fit first (False reuses an already fitted model).
    recommend_kwargs : mapping, optional
        Extra keyword arguments for ``recommend``.

    Returns
    -------
    (pandas.DataFrame, dict)
        The recommendations and ``{"fit_time_s": ..., "recommend_time_s": ...}``.
    """
    split = _check_split(split)
    k = check_int(k, "k", minimum=1, owner="recommend_for_split")
    if not _is_model(model):
        raise InvalidDtypeError(
            f"model must have fit(dataset) and recommend(user_ids, k=...), got "
            f"{type(model).__name__}."
        )
    kwargs = dict(recommend_kwargs or {})
    try:
        params = inspect.signature(model.recommend).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        params = {}
    if "on_unknown" in params:
        kwargs.setdefault("on_unknown", "skip")
    if split.candidate_items is not None and "items" in params:
        kwargs.setdefault("items", split.candidate_items)
    fs = split.filter_seen if filter_seen is None else bool(filter_seen)
    t0 = time.perf_counter()
    if fit:
        model.fit(split.train)
    t1 = time.perf_counter()
    _log.info("recommending %d items to %s test users with %s", k,
              f"{len(split.test_users):,}", type(model).__name__)
    reco = model.recommend(split.test_users, k=k, filter_seen=fs, **kwargs)
    t2 = time.perf_counter()
    check_instance(reco, pd.DataFrame, f"{type(model).__name__}.recommend must return a DataFrame")
    return reco, {"fit_time_s": t1 - t0 if fit else 0.0, "recommend_time_s": t2 - t1}


def _reco_for(model_or_reco: Any, split: Split, k: int, filter_seen: bool | None,
              recommend_kwargs: Mapping[str, Any] | None) -> tuple[pd.DataFrame, dict[str, float]]:
    if isinstance(model_or_reco, pd.DataFrame):
        reco = model_or_reco
        missing = [c for c in (Columns.USER, Columns.ITEM, Columns.RANK) if c not in reco.columns]
        if missing:
            raise MissingColumnError(
                f"reco is missing column(s) {missing}; it has {list(reco.columns)}."
            )
        keep = reco[Columns.USER].isin(split.test_users).to_numpy()
        warn_disjoint_id_types(Columns.USER, reco[Columns.USER].to_numpy(),
                               np.asarray(split.test_users), int(keep.sum()), stacklevel=4)
        return (reco if keep.all() else reco.loc[keep]), {}
    return recommend_for_split(model_or_reco, split, k, filter_seen=filter_seen,
                               recommend_kwargs=recommend_kwargs)


def _groups(by: Any, split: Split, users: np.ndarray) -> pd.Series | None:
    """Group label of each test user (index = user_id)."""
    index = pd.Index(users, name=Columns.USER)
    if by is None:
        return None
    if isinstance(by, str):
        if by == "state":
            values = split.train.user_state(users)
            return pd.Series(values, index=index, name="state")
        attrs = split.train.user_attributes(include_sensitive=True)
        if by not in attrs.columns:
            raise MissingColumnError(
                f"by={by!r} is neither 'state' nor a user attribute column; the train "
                f"Dataset's users have {list(attrs.columns)}. Pass a Series user_id -> group "
                f"for segments, tags or lifecycle stages."
            )
        groups = attrs[by].reindex(index)
        name = by
    elif isinstance(by, pd.Series):
        if not by.index.is_unique:
            raise InvalidParameterError("by must map each user_id to one group; its index "
                                        "has duplicates.")
        groups = by.reindex(index)
        name = by.name if by.name is not None else "group"
    elif isinstance(by, Mapping):
        keys = pd.Index(list(by.keys()), dtype=object, tupleize_cols=False)
        groups = pd.Series(list(by.values()), index=keys, dtype=object).reindex(index)
        name = "group"
    else:
        raise InvalidDtypeError(
            f"by must be None, 'state', a user attribute name, a Series or a mapping "
            f"user_id -> group, got {type(by).__name__}."
        )
    groups = groups.astype(object).where(groups.notna(), MISSING_GROUP)
    groups.name = str(name)
    return groups


def _bind(metrics: list[Metric], split: Split) -> list[Metric]:
    return [m.bind(split.train) for m in metrics]


def evaluate_per_user(
    model_or_reco: Any,
    split: Split,
    metrics: Sequence[Metric] | Metric,
    *,
    k: int | None = None,
    filter_seen: bool | None = None,
    recommend_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Per-user metric values of a model (or a reco frame) on a split.

    Parameters
    ----------
    model_or_reco : model or pandas.DataFrame
        A model with ``fit``/``recommend`` (fitted on ``split.train`` here) or
        recommendations ``user_id, item_id, rank`` for the test users.
    split : Split
    metrics : sequence of Metric
        Per-user metrics; context (train popularity, catalog, item features)
        is taken from ``split.train`` when not given.
    k : int, optional
        List length to request; default the largest metric ``k``.
    filter_seen : bool, optional
        Default ``split.filter_seen``.
    recommend_kwargs : mapping, optional
        Extra arguments for ``recommend``.

    Returns
    -------
    pandas.DataFrame
        Indexed by test ``user_id`` (every test user, in test order), one
        column per metric label.
    """
    split = _check_split(split)
    metrics = _bind(_check_metrics(metrics), split)
    kk = _request_k(metrics, k)
    reco, _ = _reco_for(model_or_reco, split, kk, filter_seen, recommend_kwargs)
    values = calc_metrics_per_user(metrics, reco, split.test)
    return values.reindex(pd.Index(split.test_users, name=Columns.USER))


def _request_k(metrics: list[Metric], k: int | None) -> int:
    if k is not None:
        return check_int(k, "k", minimum=1, owner="evaluate")
    mk = _max_k(metrics)
    if mk is None:
        raise InvalidParameterError(
            "evaluate needs k= (the list length to request) when a metric has k=None (AUC)."
        )
    return int(mk)


def evaluate(
    model_or_reco: Any,
    split: Split,
    metrics: Sequence[Metric] | Metric,
    *,
    by: Any = None,
    k: int | None = None,
    filter_seen: bool | None = None,
    ci: float | None = None,
    n_bootstrap: int = 1000,
    random_state: int | None = 0,
    recommend_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Evaluate a model (or given recommendations) on a split, in one call.

    A model is fitted on ``split.train`` and asked for ``k`` items per test
    user (see :func:`recommend_for_split`); a reco frame is used as is
    (restricted to the test users). Metric context missing from a metric
    (train popularity for novelty, the catalog for coverage and AUC, item
    attributes for diversity) is taken from ``split.train``.

    Parameters
    ----------
    model_or_reco : model or pandas.DataFrame
        A recommender with ``fit(dataset)`` and ``recommend(user_ids, k=,
        filter_seen=)``, or a reco frame ``user_id, item_id, score, rank``.
    split : Split
        From a splitter such as :func:`~persona_rec.evaluation.random_split`.
    metrics : sequence of Metric
        E.g. ``[NDCG(10), Recall(10), CatalogCoverage(10)]``.
    by : None, str, Series or mapping, optional
        Break every metric down by group: ``"state"`` (hot / warm / cold in
        ``split.train``), the name of a user attribute column of
        ``split.train`` (e.g. ``"gender"``, ``"city"``), or a Series/mapping
        ``user_id -> group`` (a segment, a tag such as
        ``user_tags.users_with(...)``, a lifecycle stage from
        ``profiles.frame["lifecycle_stage"]``). Users without a group go to
        ``"(missing)"``. Catalog-level metrics (coverage) are computed within
        each group.
    k : int, optional
        List length to request; default the largest metric ``k``.
    filter_seen : bool, optional
        Passed to ``recommend``; default ``split.filter_seen``.
    ci : float, optional
        Confidence level (e.g. 0.95) of percentile bootstrap intervals over
        users; None = no intervals.
    n_bootstrap : int, default 1000
        Bootstrap resamples.
    random_state : int, optional
        Seed of the bootstrap.
    recommend_kwargs : mapping, optional
        Extra arguments for ``recommend``.

    Returns
    -------
    pandas.DataFrame
        One row per (group, metric): columns ``group`` (``"all"`` for every
        evaluated user, then one row per group when ``by`` is given),
        ``metric``, ``value``, ``n_users`` (users with a defined value) and,
        with ``ci``, ``ci_low`` and ``ci_high``. ``df.attrs`` holds
        ``fit_time_s``, ``recommend_time_s``, ``n_test_users`` and
        ``n_users_without_reco``.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> from persona_rec.evaluation import leave_last_n_split, HitRate, evaluate
    >>> inter = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2],
    ...                       "item_id": ["a", "b", "c", "a", "c", "b"],
    ...                       "timestamp": pd.to_datetime(["2024-01-0%d" % d for d in range(1, 7)])})
    >>> split = leave_last_n_split(Dataset.from_frames(inter), n=1, filter_already_seen=False)
    >>> reco = pd.DataFrame({"user_id": [1, 2], "item_id": ["c", "c"], "rank": [1, 1]})
    >>> evaluate(reco, split, [HitRate(1)])
      group     metric  value  n_users
    0   all  HitRate@1    0.5        2
    """
    split = _check_split(split)
    metrics = _bind(_check_metrics(metrics), split)
    kk = _request_k(metrics, k)
    if ci is not None:
        ci = check_number(ci, "ci", low=0.0, high=1.0, low_inclusive=False,
                          high_inclusive=False, owner="evaluate")
    reco, timings = _reco_for(model_or_reco, split, kk, filter_seen, recommend_kwargs)
    users = split.test_users
    per_user_metrics = [m for m in metrics if m.per_user]
    global_metrics = [m for m in metrics if not m.per_user]
    if per_user_metrics:
        values = calc_metrics_per_user(per_user_metrics, reco, split.test)
        values = values.reindex(pd.Index(users, name=Columns.USER))
    else:
        values = pd.DataFrame(index=pd.Index(users, name=Columns.USER))
    groups = _groups(by, split, users)
    group_list: list[tuple[Any, np.ndarray]] = [(ALL_GROUP, np.ones(len(users), dtype=bool))]
    if groups is not None:
        labels = groups.to_numpy()
        for g in pd.unique(labels):
            group_list.append((g, labels == g))
    rows = []
    reco_users = reco[Columns.USER].to_numpy()
    for g_index, (g, mask) in enumerate(group_list):
        sub = values.loc[mask]
        if ci is not None and per_user_metrics:
            seed = None if random_state is None else int(random_state) + g_index
            intervals = bootstrap_ci(sub, n_bootstrap=n_bootstrap, ci=ci, random_state=seed)
        for m in metrics:
            row: dict[str, Any] = {"group": g, "metric": m.label}
            if m.per_user:
                col = sub[m.label]
                row["value"] = float(col.mean()) if col.notna().any() else np.nan
                row["n_users"] = int(col.notna().sum())
                if ci is not None:
                    row["ci_low"] = intervals.loc[m.label, "ci_low"]
                    row["ci_high"] = intervals.loc[m.label, "ci_high"]
            else:
                in_group = pd.Index(users[mask])
                sub_reco = reco.loc[in_group.get_indexer(reco_users) >= 0] if g != ALL_GROUP \
                    else reco
                row["value"] = m.calc(sub_reco) if len(sub_reco) else np.nan
                row["n_users"] = int(mask.sum())
                if ci is not None:
                    row["ci_low"] = row["ci_high"] = np.nan
            rows.append(row)
    out = pd.DataFrame(rows)
    n_with_reco = int(pd.Index(users).isin(reco_users).sum())
    out.attrs.update(timings)
    out.attrs["n_test_users"] = int(len(users))
    out.attrs["n_users_without_reco"] = int(len(users) - n_with_reco)
    if groups is not None:
        out.attrs["by"] = groups.name
    return out


def compare(
    models: Mapping[str, Any],
    split: Split,
    metrics: Sequence[Metric] | Metric,
    *,
    k: int | None = None,
    filter_seen: bool | None = None,
    plot: str | Path | None = None,
    recommend_kwargs: Mapping[str, Any] | None = None,
    verbose: bool | None = None,
) -> pd.DataFrame:
    """Fit and evaluate several models (or reco frames) on one split.

    Each model's stages (fit, recommend) are logged (logger ``persona_rec``, INFO).

    Parameters
    ----------
    models : mapping of str to model or reco frame
        Name -> recommender (fitted here on ``split.train``) or a reco frame.
    split : Split
    metrics : sequence of Metric
    k : int, optional
        List length to request; default the largest metric ``k``.
    filter_seen : bool, optional
        Default ``split.filter_seen``.
    plot : str or Path, optional
        Save a grouped bar chart (one group per metric, one bar per model) at
        this path (``.png``, ``.svg`` or ``.pdf``), drawn by
        :func:`~persona_rec.evaluation.plot_comparison` (which returns the
        figure; call it on the returned table to draw into your own axes).
        Needs matplotlib (the ``plot`` extra).
    recommend_kwargs : mapping, optional
        Extra arguments for ``recommend``.
    verbose : bool, optional
        Progress bar over the models; default: the process-wide switch
        (:func:`persona_rec.set_verbose`, off unless turned on).

    Returns
    -------
    pandas.DataFrame
        Indexed by model name: one column per metric label, then
        ``fit_time_s``, ``recommend_time_s`` (NaN for reco frames) and
        ``n_users_without_reco``.
    """
    split = _check_split(split)
    if not isinstance(models, Mapping) or not models:
        raise InvalidParameterError(
            f"models must be a non-empty mapping name -> model, got {type(models).__name__}."
        )
    metrics = _check_metrics(metrics)
    if plot is not None:
        from .._plotting import check_path

        check_path(plot, "compare")
    rows = {}
    _log.info("comparing %d models on %s test users", len(models),
              f"{len(split.test_users):,}")
    for name, model in progress(models.items(), verbose=verbose, desc="models",
                                total=len(models)):
        _log.info("evaluating %s", name)
        res = evaluate(model, split, metrics, k=k, filter_seen=filter_seen,
                       recommend_kwargs=recommend_kwargs)
        row = dict(zip(res["metric"], res["value"]))
        row["fit_time_s"] = res.attrs.get("fit_time_s", np.nan)
        row["recommend_time_s"] = res.attrs.get("recommend_time_s", np.nan)
        row["n_users_without_reco"] = res.attrs["n_users_without_reco"]
        rows[str(name)] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    if plot is not None:
        from .plot import plot_comparison

        plot_comparison(table, [m.label for m in metrics], path=plot)
    return table

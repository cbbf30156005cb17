"""Ranking and beyond-accuracy metrics for top-k recommendations: the families in one place.

The metrics live by family -- :mod:`~persona_rec.evaluation.accuracy`,
:mod:`~persona_rec.evaluation.beyond_accuracy`,
:mod:`~persona_rec.evaluation.item_features`, on the base of
:mod:`~persona_rec.evaluation.base` -- and this module gathers them (every
name stays importable from here) and computes several at once
(:func:`calc_metrics`, :func:`calc_metrics_per_user`).

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

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..columns import Columns
from ..exceptions import DuplicateIdError, EmptyInputError, InvalidDtypeError, InvalidParameterError
from ._reco import Prepared, TopK, check_reco_topk, prepare
from .accuracy import AUC, MAP, MRR, NDCG, HitRate, Precision, RankingMetric, Recall
from .base import Metric, _mean, _require_test
from .beyond_accuracy import CatalogCoverage, IntraListDiversity, Novelty, PopularityBias, _TopKMetric
from .item_features import item_features_from_dataset

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
    reco, test : pandas.DataFrame
        As in :func:`calc_metrics` (``test`` optional: needed by ranking metrics).

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

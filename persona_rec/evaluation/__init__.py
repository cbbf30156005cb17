"""Offline evaluation: splitters, ranking and beyond-accuracy metrics, reports.

See ``docs/evaluation.md`` for a walk-through on real data.
"""

from __future__ import annotations

from .evaluate import compare, evaluate, evaluate_per_user, recommend_for_split
from .metrics import (
    AUC,
    MAP,
    MRR,
    NDCG,
    CatalogCoverage,
    HitRate,
    IntraListDiversity,
    Metric,
    Novelty,
    PopularityBias,
    Precision,
    RankingMetric,
    Recall,
    calc_metrics,
    calc_metrics_per_user,
    item_features_from_dataset,
)
from .plot import comparison_frame, plot_comparison
from .splitters import (
    Split,
    cold_item_split,
    cold_user_split,
    leave_last_n_split,
    next_period_split,
    random_split,
    temporal_split,
)
from .significance import bootstrap_ci, paired_test

__all__ = [
    "AUC",
    "MAP",
    "MRR",
    "NDCG",
    "CatalogCoverage",
    "HitRate",
    "IntraListDiversity",
    "Metric",
    "Novelty",
    "PopularityBias",
    "Precision",
    "RankingMetric",
    "Recall",
    "calc_metrics",
    "calc_metrics_per_user",
    "item_features_from_dataset",
    "Split",
    "random_split",
    "temporal_split",
    "leave_last_n_split",
    "next_period_split",
    "cold_user_split",
    "cold_item_split",
    "evaluate",
    "evaluate_per_user",
    "recommend_for_split",
    "compare",
    "comparison_frame",
    "plot_comparison",
    "bootstrap_ci",
    "paired_test",
]

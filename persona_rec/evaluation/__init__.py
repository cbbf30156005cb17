"""Offline evaluation: splitters, ranking and beyond-accuracy metrics, reports.

See ``docs/evaluation.md`` for a walk-through on real data.
"""

from __future__ import annotations

from . import metrics, plot, significance, splitters
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

# the package exports the public names of its modules (``evaluate``'s are written out:
# once imported, ``evaluate`` names the function, not the module)
__all__: list[str] = []
__all__ += metrics.__all__
__all__ += splitters.__all__
__all__ += ["evaluate", "evaluate_per_user", "recommend_for_split", "compare"]
__all__ += plot.__all__
__all__ += significance.__all__

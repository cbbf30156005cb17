"""Precision marketing: audiences, campaign plans, send times and campaign evaluation."""

from __future__ import annotations

from .audience import AudienceTooSmallError, select_audience
from .campaign_analysis import (
    ABReport,
    analyze_ab,
    campaign_metrics,
    campaign_outcomes,
    plot_ab_result,
    plot_qini,
)
from .ab_stats import (
    SampleSize,
    SRMResult,
    TestResult,
    mean_diff_ci,
    power_means,
    power_proportions,
    proportion_diff_ci,
    proportion_ratio_ci,
    sample_ratio_mismatch,
    sample_size_means,
    sample_size_proportions,
    two_proportion_ztest,
    welch_ttest,
)
from .playbook import TACTIC_DESCRIPTIONS, Playbook, PlaybookRule
from .propensity import (
    LearnedPropensity,
    affinity_propensity,
    category_item_mask,
    recommender_propensity,
    scores_propensity,
)
from .send_time import SendTimeModel, segment_labels
from .uplift import perfect_qini_curve, qini_auc, qini_curve, uplift_at_k, uplift_auc, uplift_curve

__all__ = [
    "Playbook",
    "PlaybookRule",
    "TACTIC_DESCRIPTIONS",
    "AudienceTooSmallError",
    "SendTimeModel",
    "LearnedPropensity",
    "affinity_propensity",
    "category_item_mask",
    "recommender_propensity",
    "scores_propensity",
    "segment_labels",
    "select_audience",
    "ABReport",
    "SRMResult",
    "SampleSize",
    "TestResult",
    "analyze_ab",
    "campaign_metrics",
    "campaign_outcomes",
    "mean_diff_ci",
    "perfect_qini_curve",
    "plot_ab_result",
    "plot_qini",
    "power_means",
    "power_proportions",
    "proportion_diff_ci",
    "proportion_ratio_ci",
    "qini_auc",
    "qini_curve",
    "sample_ratio_mismatch",
    "sample_size_means",
    "sample_size_proportions",
    "two_proportion_ztest",
    "uplift_at_k",
    "uplift_auc",
    "uplift_curve",
    "welch_ttest",
]

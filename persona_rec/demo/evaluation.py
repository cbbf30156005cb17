"""A longer evaluation section for the demo data: not among :data:`~persona_rec.demo.SECTIONS`; call it directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..dataset import Dataset
from ..evaluation import (
    MAP,
    NDCG,
    CatalogCoverage,
    HitRate,
    PopularityBias,
    Recall,
    compare,
    evaluate,
    evaluate_per_user,
    next_period_split,
    paired_test,
    recommend_for_split,
)
from ..exceptions import InvalidDtypeError
from ..models import EASERecommender, PopularRecommender, RepurchaseRecommender
from ..profiles import ProfileBuilder
from ._context import format_table, split_time

__all__ = ["evaluation_section"]


def _fmt(frame: pd.DataFrame) -> str:
    return format_table(frame, floatfmt="{:,.4f}", index=True)


def evaluation_section(
    dataset: Dataset,
    *,
    models: Mapping[str, Any] | None = None,
    random_state: int = 0,
    n_bootstrap: int = 500,
) -> str:
    """Text of the demo's evaluation section.

    Splits ``dataset`` into "before T" and "the next 30 days" (T from
    :func:`~persona_rec.demo.split_time`; repeat purchases count), compares ``models``
    (default: repeat-purchase, EASE and 30-day popularity) on accuracy,
    coverage, long-tail share and fit/recommend time, breaks the best model
    down by lifecycle stage (profiles built on the train part only, as of T)
    with 95 % bootstrap intervals, and tests it against popularity with the
    paired t-test and Wilcoxon test.

    Parameters
    ----------
    dataset : Dataset
        Behaviour data with timestamps (e.g. Online Retail).
    models : mapping of str to model, optional
        Models to compare; the last one is the baseline of the paired test.
    random_state : int, default 0
        Seed of the models and the bootstrap.
    n_bootstrap : int, default 500
        Bootstrap resamples.

    Returns
    -------
    str
    """
    if not isinstance(dataset, Dataset):
        raise InvalidDtypeError(f"dataset must be a Dataset, got {type(dataset).__name__}.")
    at = split_time(dataset)
    split = next_period_split(dataset, at, "30D", filter_already_seen=False,
                              filter_cold_items=False)
    if models is None:
        models = {
            "repurchase": RepurchaseRecommender(random_state=random_state),
            "ease": EASERecommender(),
            "popular_30d": PopularRecommender(window_days=30),
        }
    metrics = [NDCG(10), Recall(10), MAP(10), HitRate(10), CatalogCoverage(10),
               PopularityBias(10, measure="long_tail_share")]
    table = compare(models, split, metrics)
    best = str(table["NDCG@10"].idxmax())
    baseline = list(models)[-1]
    info = split.info
    lines = [
        f"next-period split at {at.date()} (30 days): train {info['n_train_interactions']:,} "
        f"events; test {info['n_test_users']:,} users active in both periods, "
        f"{info['n_test_pairs']:,} (user, item) pairs; dropped {info['dropped']}, "
        f"{info['n_discarded_interactions']:,} later events discarded",
        _fmt(table),
    ]
    profiles = ProfileBuilder.default().build(split.train, as_of=at)
    stages = profiles.frame["lifecycle_stage"]
    reco_best, _ = recommend_for_split(models[best], split, 10)  # fit once, reuse the lists
    by_stage = evaluate(reco_best, split, [NDCG(10), Recall(10)], by=stages, ci=0.95,
                        n_bootstrap=n_bootstrap, random_state=random_state)
    lines += ["", f"{best} by lifecycle stage (profiles as of {at.date()}, 95% bootstrap CI):",
              _fmt(by_stage.set_index(["group", "metric"]))]
    if best != baseline:
        reco_base, _ = recommend_for_split(models[baseline], split, 10)
        a = evaluate_per_user(reco_base, split, [NDCG(10), Recall(10)])
        b = evaluate_per_user(reco_best, split, [NDCG(10), Recall(10)])
        test = paired_test(a, b)
        lines += ["", f"paired tests, {best} (b) vs {baseline} (a), per user:", _fmt(test)]
    return "\n".join(lines)

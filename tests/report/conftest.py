"""Real inputs for the report: the bundled Online Retail sample through the whole pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("matplotlib")


@dataclass
class Run:
    """Everything build_report takes, from one run on the sample."""

    dataset: Any
    profiles: Any
    tags: Any
    segments: Any
    evaluation: pd.DataFrame
    campaign: pd.DataFrame
    audience: pd.DataFrame

    def kwargs(self) -> dict[str, Any]:
        return {"tags": self.tags, "segments": self.segments, "evaluation": self.evaluation,
                "campaign": self.campaign, "audience": self.audience}


@pytest.fixture(scope="session")
def sample_run() -> Run:
    from persona_rec.demo import DemoContext, split_time
    from persona_rec.demo.marketing import marketing_section
    from persona_rec.sample_data import load_sample
    from persona_rec.evaluation import NDCG, HitRate, Recall, compare, next_period_split
    from persona_rec.models import PopularRecommender, RepurchaseRecommender
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.segments import rfm_segments
    from persona_rec.tags import Tagger, Taxonomy

    ds = load_sample()
    profiles = ProfileBuilder.default().build(ds)
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    segments = rfm_segments(profiles)
    split = next_period_split(ds, split_time(ds), "30D", filter_already_seen=False)
    evaluation = compare({"buy again": RepurchaseRecommender(), "popular": PopularRecommender(window_days=30)},
                         split, [NDCG(10), Recall(10), HitRate(10)], filter_seen=False)
    ctx = DemoContext(dataset=ds)
    ctx.results.update(profiles=profiles, user_tags=tags, model=PopularRecommender().fit(ds))
    marketing_section(ctx)
    return Run(ds, profiles, tags, segments, evaluation, ctx.results["plan"], ctx.results["audience"])


@pytest.fixture(scope="session")
def full_report(sample_run: Run) -> str:
    from persona_rec.report import build_report

    return build_report(sample_run.profiles, title="Sample shop <test>", **sample_run.kwargs())

"""The demo's evaluation section (persona_rec.demo.evaluation) on the evaluation tests' shop."""

from __future__ import annotations

import pandas as pd

from persona_rec.demo import split_time
from persona_rec.demo.evaluation import evaluation_section


def test_demo_section_reports_comparison_breakdown_and_tests(shop):
    at = split_time(shop)
    assert at == (shop.time_range[1] - pd.Timedelta(days=30)).normalize()
    text = evaluation_section(shop, n_bootstrap=50)
    assert f"next-period split at {at.date()}" in text
    for name in ("repurchase", "ease", "popular_30d", "NDCG@10", "LongTailShare@10",
                 "fit_time_s", "by lifecycle stage", "ci_low"):
        assert name in text
    assert "paired tests" in text or "popular_30d by lifecycle stage" in text

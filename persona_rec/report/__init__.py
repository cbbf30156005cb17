"""A visual report: one self-contained HTML page of profiles, tags, segments, models and a campaign.

:func:`build_report` returns the page as a string and :func:`write_report`
writes it; ``persona-rec report --out report.html`` builds it on the bundled
sample (:func:`main_cli`). Every chart is also available as a plot helper
that returns a matplotlib ``Figure``, accepts ``ax=`` and writes a file only
when given ``path=``. Needs matplotlib (``pip install 'persona-rec[plot]'``).
See ``docs/report.md``.
"""

from __future__ import annotations

from ._build import REPORT_CHARTS, build_report, write_report
from ._charts import (
    plot_audience_funnel,
    plot_campaign_tactics,
    plot_categories,
    plot_lifecycle_funnel,
    plot_price_bands,
    plot_rfm_map,
    plot_top_tags,
)
from ._cli import main_cli, report_from_dataset

__all__ = [
    "REPORT_CHARTS",
    "build_report",
    "write_report",
    "report_from_dataset",
    "main_cli",
    "plot_rfm_map",
    "plot_lifecycle_funnel",
    "plot_top_tags",
    "plot_price_bands",
    "plot_categories",
    "plot_campaign_tactics",
    "plot_audience_funnel",
]

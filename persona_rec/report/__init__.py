"""A visual report: one self-contained HTML page of profiles, tags, segments, models and a campaign.

:func:`build_report` returns the page as a string and :func:`write_report`
writes it; ``persona-rec report --out report.html`` builds it on the bundled
sample (:func:`main_cli`). Every chart is also available as a plot helper
that returns a matplotlib ``Figure``, accepts ``ax=`` and writes a file only
when given ``path=``. Needs matplotlib (``pip install 'persona-rec[plot]'``).
See ``docs/report.md``.

Names are loaded on first use, so the ``persona-rec`` command can register
the ``report`` options without importing the report's dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
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
    from ._cli import build_parser, main_cli, report_from_dataset

#: Public name -> submodule defining it.
_WHERE: dict[str, str] = {
    "REPORT_CHARTS": "_build",
    "build_report": "_build",
    "write_report": "_build",
    "report_from_dataset": "_cli",
    "main_cli": "_cli",
    "build_parser": "_cli",
    "plot_rfm_map": "_charts",
    "plot_lifecycle_funnel": "_charts",
    "plot_top_tags": "_charts",
    "plot_price_bands": "_charts",
    "plot_categories": "_charts",
    "plot_campaign_tactics": "_charts",
    "plot_audience_funnel": "_charts",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

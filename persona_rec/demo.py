"""The end-to-end demo behind ``persona-rec demo``.

The demo is a list of sections run in order over a shared
:class:`DemoContext`. Each section is a small function that takes the
context, may store results on it for later sections (profiles, tags, a fitted
model ...) and returns the text it prints.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import pandas as pd

from .dataset import Dataset

__all__ = ["DemoContext", "SECTIONS", "run_demo", "format_table"]


@dataclass
class DemoContext:
    """State shared by demo sections.

    Parameters
    ----------
    dataset : Dataset
        The data the demo runs on.
    source : str
        Human-readable description of where the data came from.
    random_state : int
        Seed passed to every stochastic step.
    """

    dataset: Dataset
    source: str = ""
    random_state: int = 0
    results: dict[str, Any] = field(default_factory=dict)


def format_table(frame: pd.DataFrame, *, floatfmt: str = "{:,.3f}", index: bool = False) -> str:
    """Render a DataFrame as a plain-text table for terminal reports.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    floatfmt : str, default "{:,.3f}"
        Format applied to float cells.
    index : bool, default False
        Whether to print the index.

    Returns
    -------
    str
    """
    formatters = {
        c: (lambda v, f=floatfmt: "" if pd.isna(v) else f.format(v))
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    return frame.to_string(index=index, formatters=formatters)


def _section_dataset(ctx: DemoContext) -> str:
    s = ctx.dataset.summary()
    lines = [
        f"source               : {ctx.source}",
        f"interactions         : {s['interactions']:,}",
        f"users                : {s['users']:,} ({s['users_with_interactions']:,} with "
        f"interactions, {s['attribute_only_users']:,} attribute-only)",
        f"items                : {s['items']:,} ({s['items_with_interactions']:,} with interactions)",
        f"density              : {s['density']:.4%}",
        f"time range           : {s['first_event']} .. {s['last_event']}",
        f"user attributes      : {', '.join(map(str, s['user_attributes'])) or '-'}",
        f"item attributes      : {', '.join(map(str, s['item_attributes'])) or '-'}",
        f"sensitive columns    : {', '.join(s['sensitive_columns']) or '-'}",
    ]
    if "events" in s:
        lines.append("events               : " + ", ".join(f"{k}={v:,}" for k, v in s["events"].items()))
    return "\n".join(lines)


def _section_cleaning(ctx: DemoContext) -> str:
    reports = ctx.dataset.cleaning_reports
    if not reports:
        return "no cleaning was needed (every input row was valid)"
    return "\n".join(str(r) for r in reports)


#: The demo's sections, in order: (title, function).
SECTIONS: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("Dataset", _section_dataset),
    ("Cleaning report", _section_cleaning),
]


def run_demo(
    dataset: Dataset | None = None,
    *,
    source: str = "",
    out: TextIO | None = None,
    random_state: int = 0,
) -> DemoContext:
    """Run every demo section and print a readable report.

    Parameters
    ----------
    dataset : Dataset, optional
        Data to run on; defaults to the bundled Online Retail sample
        (:func:`persona_rec.datasets.load_sample`).
    source : str, optional
        Description of the data printed in the report.
    out : text stream, optional
        Where to print (default ``sys.stdout``).
    random_state : int, default 0
        Seed for every stochastic step.

    Returns
    -------
    DemoContext
        The context with every section's results.
    """
    out = out or sys.stdout
    if dataset is None:
        from .datasets import load_sample

        dataset = load_sample()
        source = source or "bundled Online Retail sample (UCI, CC BY 4.0)"
    ctx = DemoContext(dataset=dataset, source=source, random_state=random_state)
    print("persona_rec demo", file=out)
    for title, section in SECTIONS:
        start = time.perf_counter()
        text = section(ctx)
        elapsed = time.perf_counter() - start
        print(f"\n== {title} ({elapsed:.1f}s) " + "=" * max(0, 60 - len(title)), file=out)
        print(text, file=out)
    return ctx

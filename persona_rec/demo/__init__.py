"""The end-to-end demo behind ``persona-rec demo``.

The demo is a list of sections (:data:`SECTIONS`) run in order over a shared
:class:`DemoContext`. Each section is a small function that takes the
context, may store results on it for later sections (profiles, tags, a fitted
model ...) and returns the text it prints. The sections live in this package,
one module per step of the pipeline, and use only the public API of the
packages they show (``tests/test_architecture.py`` checks it), so the demo
doubles as a worked example of that API.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ..dataset import Dataset
from ..sample_data import load_sample
from ._context import DemoContext, format_table, split_time
from .data_summary import cleaning_section, dataset_section
from .marketing import marketing_section
from .profiles import profiles_section
from .recommendations import recommendations_section
from .segments import segments_section
from .social import social_section
from .tags import tags_section

__all__ = ["DemoContext", "SECTIONS", "run_demo", "format_table", "split_time"]


def _dataset(ctx: DemoContext) -> str:
    return dataset_section(ctx.dataset, ctx.source)


def _cleaning(ctx: DemoContext) -> str:
    return cleaning_section(ctx.dataset)


def _profiles(ctx: DemoContext) -> str:
    profiles, text = profiles_section(ctx.dataset)
    ctx.results["profiles"] = profiles
    return text


def _tags(ctx: DemoContext) -> str:
    user_tags, text = tags_section(ctx.results["profiles"])
    ctx.results["user_tags"] = user_tags
    return text


def _segments(ctx: DemoContext) -> str:
    return segments_section(ctx.results["profiles"], ctx.results.get("user_tags"),
                            random_state=ctx.random_state)


def _recommendations(ctx: DemoContext) -> str:
    model, text = recommendations_section(ctx.dataset, user_tags=ctx.results.get("user_tags"),
                                          random_state=ctx.random_state)
    ctx.results["model"] = model
    return text


def _social(ctx: DemoContext) -> str:
    return social_section(ctx.random_state)


#: The demo's sections, in order: (title, function of the context returning the text).
SECTIONS: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("Dataset", _dataset),
    ("Cleaning report", _cleaning),
    ("Profiles", _profiles),
    ("Tags", _tags),
    ("Segments", _segments),
    ("Recommendations", _recommendations),
    ("Campaign plan", marketing_section),
    ("Social graph and feedback (synthetic)", _social),
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
        (:func:`persona_rec.sample_data.load_sample`).
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

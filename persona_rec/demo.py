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

from ._text import format_table
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


def _section_profiles(ctx: DemoContext) -> str:
    from .profiles._demo import demo_section

    profiles, text = demo_section(ctx.dataset)
    ctx.results["profiles"] = profiles
    return text


def _section_tags(ctx: DemoContext) -> str:
    from .tags._demo import demo_section

    user_tags, text = demo_section(ctx.results["profiles"])
    ctx.results["user_tags"] = user_tags
    return text


def _section_segments(ctx: DemoContext) -> str:
    from .segments._demo import demo_section

    return demo_section(ctx.results["profiles"], ctx.results.get("user_tags"),
                        random_state=ctx.random_state)


def _split_time(dataset: Dataset) -> pd.Timestamp:
    """2011-11-09 for Online Retail data, else 30 days before the last event."""
    first, last = dataset.time_range
    t = pd.Timestamp("2011-11-09")
    if not first < t < last:
        t = (last - pd.Timedelta(days=30)).normalize()
    return t


def _section_recommendations(ctx: DemoContext) -> str:
    from .evaluation import NDCG, HitRate, Recall, evaluate, next_period_split
    from .models import EASERecommender, PopularRecommender, RepurchaseRecommender
    from .models.persona import PersonaRecommender

    ds = ctx.dataset
    at = _split_time(ds)
    split = next_period_split(ds, at, "30D", filter_already_seen=False)
    models = {
        "PersonaRecommender": PersonaRecommender(random_state=ctx.random_state),
        "Repurchase (buy again)": RepurchaseRecommender(),
        "EASE": EASERecommender(),
        "Popular (30 days)": PopularRecommender(window_days=30),
    }
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        res = evaluate(model, split, [NDCG(10), Recall(10), HitRate(10)], filter_seen=False)
        row = dict(zip(res["metric"], res["value"]))
        row = {"model": name, **row, "seconds": time.perf_counter() - start}
        rows.append(row)
    persona = models["PersonaRecommender"]
    ctx.results["model"] = persona
    table = pd.DataFrame(rows)
    lines = [
        f"next-30-days split at {at.date()}: {split.info['n_test_users']:,} test users, "
        f"{split.info['n_test_pairs']:,} (user, item) pairs bought in the window; "
        "repeats allowed (filter_seen=False)",
        format_table(table),
        "",
        f"PersonaRecommender: internal {persona.ranker_.validation_['kind']} split "
        f"({persona.ranker_.validation_['label_users']} label users); serving "
        f"{persona.ranker_.choice_.get('all', '-')} (repeats) / "
        f"{persona.ranker_.choice_['new']} (new items)",
        "internal NDCG@10 (guard): " + "; ".join(
            f"{task}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
            for task, scores in persona.ranker_.guard_.items()),
    ]
    train = split.train
    hot = train.user_map.external_ids[train.hot_user_mask()]
    warm = train.user_map.external_ids[~train.hot_user_mask()]
    names = None
    attrs = train.item_attributes()
    for col in ("description", "title"):
        if col in attrs.columns:
            names = attrs[col]
            break
    examples = [("a user with purchases", hot[0])]
    if len(warm):
        examples.append(("an attribute-only user (registered, no purchases)", warm[0]))
    examples.append(("a brand-new user", "new-customer-001"))
    for label, uid in examples:
        reco = persona.recommend([uid], k=3, filter_seen=False, on_unknown="fallback")
        reco = persona.explain(reco, user_tags=ctx.results.get("user_tags"), item_names=names,
                               filter_seen=False)
        if names is not None:
            reco.insert(2, "name", reco["item_id"].map(names).astype(str).str.slice(0, 32))
        cols = [c for c in ("item_id", "name", "score", "source", "reason", "tags")
                if c in reco.columns]
        shown = uid.item() if hasattr(uid, "item") else uid
        lines += ["", f"{label}: {shown!r}", format_table(reco[cols])]
    return "\n".join(lines)


def _section_marketing(ctx: DemoContext) -> str:
    from .marketing._demo import demo_section

    return demo_section(ctx)


def _section_social(ctx: DemoContext) -> str:
    from .social._demo import demo_section

    return demo_section(ctx.random_state)


#: The demo's sections, in order: (title, function).
SECTIONS: list[tuple[str, Callable[[DemoContext], str]]] = [
    ("Dataset", _section_dataset),
    ("Cleaning report", _section_cleaning),
    ("Profiles", _section_profiles),
    ("Tags", _section_tags),
    ("Segments", _section_segments),
    ("Recommendations", _section_recommendations),
    ("Campaign plan", _section_marketing),
    ("Social graph and feedback (synthetic)", _section_social),
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

"""The recommendation section of ``persona-rec demo``: four models on a next-30-days split, and
explained top-3 lists for a user with purchases, an attribute-only user and a brand-new user."""

from __future__ import annotations

import time

import pandas as pd

from ..dataset import Dataset
from ..evaluation import NDCG, HitRate, Recall, evaluate, next_period_split
from ..models import EASERecommender, PopularRecommender, RepurchaseRecommender
from ..models.persona import PersonaRecommender
from ..tags import UserTags
from ._context import format_table, split_time

__all__ = ["recommendations_section"]


def recommendations_section(
    dataset: Dataset, *, user_tags: UserTags | None = None, random_state: int = 0
) -> tuple[PersonaRecommender, str]:
    """Compare the flagship with three baselines, then explain its lists for three kinds of user.

    The split is :func:`~persona_rec.demo.split_time` plus 30 days, repeat
    purchases allowed (``filter_seen=False``); each model is scored with
    NDCG, recall and hit rate at 10 and timed.

    Parameters
    ----------
    dataset : Dataset
        Behaviour data with timestamps.
    user_tags : UserTags, optional
        Tags quoted in the explanations.
    random_state : int, default 0
        Seed of the flagship model.

    Returns
    -------
    (PersonaRecommender, str)
        The fitted flagship (for later sections) and the section's text.
    """
    at = split_time(dataset)
    split = next_period_split(dataset, at, "30D", filter_already_seen=False)
    models = {
        "PersonaRecommender": PersonaRecommender(random_state=random_state),
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
        reco = persona.explain(reco, user_tags=user_tags, item_names=names, filter_seen=False)
        if names is not None:
            reco.insert(2, "name", reco["item_id"].map(names).astype(str).str.slice(0, 32))
        cols = [c for c in ("item_id", "name", "score", "source", "reason", "tags")
                if c in reco.columns]
        shown = uid.item() if hasattr(uid, "item") else uid
        lines += ["", f"{label}: {shown!r}", format_table(reco[cols])]
    return persona, "\n".join(lines)

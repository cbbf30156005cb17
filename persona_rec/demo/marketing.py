"""The precision-marketing section of ``persona-rec demo``."""

from __future__ import annotations

import pandas as pd

from ..columns import Columns
from ..marketing import (
    AudienceTooSmallError,
    Playbook,
    SendTimeModel,
    affinity_propensity,
    select_audience,
)
from ..models import PopularRecommender
from ..profiles import ProfileBuilder, slugify
from ..tags import Tagger, Taxonomy
from ._context import DemoContext

__all__ = ["marketing_section"]


def marketing_section(ctx: DemoContext) -> str:
    """Build a short campaign plan on the demo data and return it as text.

    Reuses ``ctx.results["profiles"]``, ``ctx.results["user_tags"]`` and
    ``ctx.results["model"]`` when earlier sections stored them; otherwise
    builds profiles and tags itself and uses a popularity model. Stores the
    audience and plan in ``ctx.results["audience"]`` / ``ctx.results["plan"]``.

    Parameters
    ----------
    ctx : DemoContext
        The demo's data, seed and earlier results.

    Returns
    -------
    str
        Audience funnel and the first rows of the campaign plan.
    """
    ds = ctx.dataset
    results = ctx.results
    profiles = results.get("profiles")
    if profiles is None:
        profiles = ProfileBuilder.default().build(ds)
        results["profiles"] = profiles
    user_tags = results.get("user_tags")
    if user_tags is None:
        user_tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
        results["user_tags"] = user_tags
    model = results.get("model")
    if model is None:
        model = PopularRecommender().fit(ds)

    items = ds.item_attributes()
    lines: list[str] = []
    propensity = None
    label = None
    if "category" in items.columns and items["category"].notna().any():
        top = profiles.frame.get("top_category")
        l1 = items["category"].dropna().str.split(" > ").str[0]
        if top is not None and top.notna().any():
            slug = top.value_counts().index[0]
            names = {slugify(c): c for c in l1.unique()}
            label = names.get(slug, l1.value_counts().index[0])
        else:
            label = l1.value_counts().index[0]
        propensity = affinity_propensity(ds, label, as_of=profiles.as_of)
    expression = "!churned" if "churned" in user_tags.tag_ids else None
    budget = max(10, min(200, profiles.frame.shape[0] // 10))
    try:
        audience = select_audience(
            user_tags, expression=expression, propensity=propensity, budget=budget,
            as_of=profiles.as_of, label=f"category {label}" if label else None,
            random_state=ctx.random_state, min_audience_size=min(50, budget),
        )
    except AudienceTooSmallError as err:
        return f"no campaign: {err}"
    results["audience"] = audience
    lines.append(
        f"campaign: {'promote ' + label if label else 'personalised'}; "
        f"audience = {expression or 'all users'}"
        + (f", ranked by {label} propensity" if label else "")
        + f", budget {budget}"
    )
    lines.append("funnel  : " + ", ".join(f"{k} {v}" for k, v in audience.attrs["funnel"].items()))
    stm = SendTimeModel().fit(ds, as_of=profiles.as_of)
    start = pd.Timestamp(profiles.as_of).ceil("D") + pd.Timedelta(hours=8)
    plan = Playbook.default().plan(
        user_tags, user_ids=audience[Columns.USER], recommender=model, k=3,
        send_time_model=stm, campaign_start=start, dataset=ds, profiles=profiles,
    )
    results["plan"] = plan
    mix = plan["tactic"].value_counts()
    lines.append("tactics : " + ", ".join(f"{t} {n}" for t, n in mix.items()))
    show = plan[[Columns.USER, "tactic", "items", "send_at"]].head(8).copy()
    show["items"] = show["items"].map(lambda v: ", ".join(map(str, v)))
    show["send_at"] = pd.to_datetime(show["send_at"]).dt.strftime("%a %Y-%m-%d %H:00")
    lines.append("")
    lines.append(show.to_string(index=False))
    lines.append("")
    lines.append("reason (first user): " + str(audience["reason"].iloc[0]))
    return "\n".join(lines)

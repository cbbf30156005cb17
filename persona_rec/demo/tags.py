"""The tags section of ``persona-rec demo``."""

from __future__ import annotations

from ..profiles import Profiles
from ..tags import Tagger, Taxonomy, UserTags

__all__ = ["tags_section"]


def tags_section(
    profiles: Profiles, *, top: int = 3, taxonomy: Taxonomy | None = None
) -> tuple[UserTags, str]:
    """Tag the profiles with the default taxonomy and describe the result.

    Sensitive tags are left out of the text (privacy default).

    Parameters
    ----------
    profiles : Profiles
        Built profiles.
    top : int, default 3
        How many of the most common rule-based tags to name per layer.
    taxonomy : Taxonomy, optional
        Defaults to ``Taxonomy.default(profiles)``.

    Returns
    -------
    (UserTags, str)
        The tags (for later demo sections) and the report text.

    Examples
    --------
    >>> from persona_rec.sample_data import load_sample
    >>> from persona_rec.profiles import ProfileBuilder
    >>> tags, text = tags_section(ProfileBuilder.default().build(load_sample()))
    >>> print(text.splitlines()[0])  # doctest: +ELLIPSIS
    taxonomy default-1: ... tags (... sensitive) over ... users; ... assignments after roll-up
    """
    tax = taxonomy if taxonomy is not None else Taxonomy.default(profiles)
    ut = Tagger(tax).assign(profiles)
    per_tag = ut.counts(include_sensitive=False)
    per_layer = ut.counts("layer", include_sensitive=False)
    leaves = per_tag[per_tag["tag_id"].map(lambda t: tax.rule_of(t) is not None)]
    rows = []
    for layer in per_layer["layer"]:
        sub = leaves[leaves["layer"] == layer].sort_values("n_users", ascending=False).head(top)
        rows.append(", ".join(f"{t} {n:,}" for t, n in zip(sub["tag_id"], sub["n_users"])) or "-")
    table = per_layer.assign(share=(per_layer["share"] * 100).round(1), top_tags=rows)
    table = table.rename(columns={"share": "users_%"})
    lines = [
        f"taxonomy {tax.version}: {len(tax)} tags ({len(tax.sensitive_ids)} sensitive) over "
        f"{ut.n_users:,} users; {ut.matrix.nnz:,} assignments after roll-up",
        "",
        table.to_string(index=False),
    ]
    expr = "interest/kitchen & novelty_seeker & !churned"
    lines += ["", f"example audience {expr!r}: {int(ut.mask(expr).sum()):,} users"]
    return ut, "\n".join(lines)

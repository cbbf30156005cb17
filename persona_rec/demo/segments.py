"""The segmentation section of ``persona-rec demo``."""

from __future__ import annotations

from pathlib import Path

from ..exceptions import EmptyInputError
from ..profiles import Profiles
from ..segments import DEFAULT_MIN_SIZE, KMeansSegmenter, RFMSegmentMap, RuleSegmenter, Segmentation
from ..tags import UserTags, parse_tag_expression

__all__ = ["segments_section", "DEMO_RULES"]

#: Rule-based segments shown by the demo (tags of the default taxonomy).
DEMO_RULES: list[tuple[str, str]] = [
    ("win_back_vips", "high_value & (churn_risk | churned)"),
    ("vips", "high_value"),
    ("bargain_hunters", "price_sensitive"),
    ("newcomers", "new_user"),
    ("lapsed", "churned"),
]


def segments_section(
    profiles: Profiles,
    user_tags: UserTags | None = None,
    *,
    min_size: int = DEFAULT_MIN_SIZE,
    random_state: int = 0,
    plot_path: str | Path | None = None,
) -> str:
    """Text of the demo's segmentation section.

    Runs the default RFM segment map, k-means on category affinities (k by
    silhouette in 2..8; on RFM columns when the items have no categories)
    and, when ``user_tags`` is given, :data:`DEMO_RULES` (rules whose tags
    the taxonomy lacks are skipped). Each segmentation is described with
    :meth:`Segmentation.report`; segments smaller than ``min_size`` are
    suppressed.

    Parameters
    ----------
    profiles : Profiles
        Built profiles.
    user_tags : UserTags, optional
        Tags for tag lifts and rule-based segments.
    min_size : int, default 10
        Privacy threshold for reports.
    random_state : int, default 0
        Seed of k-means.
    plot_path : str or pathlib.Path, optional
        If given, the k-means segmentation is plotted there (PNG).

    Returns
    -------
    str
    """
    parts: list[str] = []
    smap = RFMSegmentMap()
    rfm = smap.assign(profiles)
    parts.append("RFM segments (default map: R x FM grid, see docs/segments.md)")
    parts.append(rfm.report(profiles, user_tags, min_size=min_size))

    try:
        km = KMeansSegmenter(k_range=(2, 8), random_state=random_state).fit(profiles)
        what = "category affinities"
    except EmptyInputError:
        km = KMeansSegmenter(
            k_range=(2, 8),
            features=["recency_days", "frequency", "monetary", "avg_order_value"],
            random_state=random_state,
        ).fit(profiles)
        what = "RFM columns (no category affinities)"
    sil = ", ".join(f"k={k}: {s:.3f}" for k, s in km.silhouette_.items())
    parts.append("")
    parts.append(f"k-means segments on {what}; k={km.k_} chosen by silhouette ({sil})")
    parts.append(km.segmentation_.report(profiles, user_tags, min_size=min_size))
    if plot_path is not None:
        out = km.segmentation_.plot(plot_path, profiles, min_size=min_size)
        parts.append(f"plot saved to {out}")

    if user_tags is not None:
        known = set(user_tags.tag_ids)
        rules = [(n, e) for n, e in DEMO_RULES if _uses_only(e, known)]
        if rules:
            seg: Segmentation = RuleSegmenter(rules).assign(user_tags)
            used = RuleSegmenter(rules).tags
            parts.append("")
            parts.append("Rule-based segments (first match wins): " + "; ".join(f"{n} = {e}" for n, e in rules))
            parts.append(seg.report(profiles, user_tags, min_size=min_size, exclude_tags=sorted(used)))
    return "\n".join(parts)


def _uses_only(expr: str, known: set[str]) -> bool:
    return parse_tag_expression(expr).tags <= known

"""Social tags (``social/influencer``, ``social/connector``, ``social/community/<id>``) for the taxonomy."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._types import ProfileSource
from .._validation import check_instance, check_int, check_number
from ..exceptions import InvalidDtypeError, InvalidValueError
from ..tags.taxonomy import Tag

__all__ = ["join_profile_columns", "social_taxonomy_tags"]


def social_taxonomy_tags(
    features: pd.DataFrame,
    *,
    influencer_share: float = 0.01,
    connector_share: float = 0.05,
    connector_min_span: int = 2,
    min_community_size: int = 10,
    max_communities: int = 50,
) -> list[Tag]:
    """Tags over the columns of :func:`~persona_rec.social.social_features`.

    Add them to a taxonomy (``Taxonomy(Taxonomy.default(profiles).tags + tags)``
    style) and tag a profile frame that holds the social columns (join the
    features onto ``profiles.frame``).

    * ``social`` (layer ``behaviour``): grouping node;
    * ``social/influencer``: PageRank in the top ``influencer_share`` of users
      (confidence = the PageRank percentile);
    * ``social/connector``: 2-hop reach in the top ``connector_share`` and direct
      links into at least ``connector_min_span`` other communities (a bridge);
    * ``social/community/<id>``: member of community ``id`` (communities with at
      least ``min_community_size`` members, the ``max_communities`` largest).

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`~persona_rec.social.social_features`; tags whose
        columns are absent are left out.
    influencer_share, connector_share : float, default 0.01, 0.05
        Top shares of users (in (0, 1]).
    connector_min_span : int, default 2
    min_community_size : int, default 10
    max_communities : int, default 50

    Returns
    -------
    list of Tag

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"social_influence_pct": [0.5, 1.0], "social_community": [0, 0]})
    >>> [t.id for t in social_taxonomy_tags(f, min_community_size=1)]
    ['social', 'social/influencer', 'social/community', 'social/community/0']
    """
    check_instance(features, pd.DataFrame, "features must be a pandas.DataFrame")
    owner = "social_taxonomy_tags"
    inf = check_number(influencer_share, "influencer_share", low=0, high=1, low_inclusive=False, owner=owner)
    con = check_number(connector_share, "connector_share", low=0, high=1, low_inclusive=False, owner=owner)
    span = check_int(connector_min_span, "connector_min_span", minimum=1, owner=owner)
    min_size = check_int(min_community_size, "min_community_size", minimum=1, owner=owner)
    max_comm = check_int(max_communities, "max_communities", minimum=0, owner=owner)
    cols = set(features.columns)
    tags = [Tag("social", "Social", layer="behaviour",
                description="Position in the social graph (followers, shares, referrals).")]
    if "social_influence_pct" in cols:
        tags.append(Tag("social/influencer", "Influencer", parent="social",
                        description=f"Weighted PageRank in the top {inf:.1%} of users.",
                        rule=f"social_influence_pct > {1 - inf:.6g}", confidence="social_influence_pct"))
    if {"social_reach_pct", "social_community_span"} <= cols:
        tags.append(Tag("social/connector", "Connector", parent="social",
                        description=f"2-hop reach in the top {con:.1%} and links into >= {span} "
                                    "other communities.",
                        rule=f"social_reach_pct > {1 - con:.6g} and social_community_span >= {span}",
                        confidence="social_reach_pct"))
    if "social_community" in cols:
        sizes = features["social_community"].value_counts()
        keep = sizes[sizes >= min_size].sort_values(ascending=False, kind="stable").index[:max_comm]
        if len(keep):
            tags.append(Tag("social/community", "Communities", parent="social",
                            description="Detected community (Leiden, modularity)."))
            for cid in sorted(int(c) for c in keep):
                tags.append(Tag(f"social/community/{cid}", f"Community {cid}", parent="social/community",
                                description=f"Member of community {cid} ({int(sizes[cid])} users).",
                                rule=f"social_community == {cid}"))
    return tags


def join_profile_columns(profiles: ProfileSource, *frames: pd.DataFrame) -> Any:
    """Profiles with extra per-user columns (social or feedback features) joined onto the frame.

    Users of ``profiles`` missing from a frame get NaN (a rule on a NaN column is
    false, so they get no social/feedback tag); users only in a frame are left
    out (profiles define the user base).

    Parameters
    ----------
    profiles : Profiles
        Built by :class:`~persona_rec.profiles.ProfileBuilder`.
    *frames : pandas.DataFrame
        Indexed by user id with unique ids and new column names.

    Returns
    -------
    Profiles
        A new object (the input is not modified) with the same affinities,
        cycles and metadata.

    Raises
    ------
    InvalidDtypeError
        ``profiles`` has no ``frame`` or a frame is not a DataFrame.
    InvalidValueError
        A frame repeats a user id or a column name already present.
    """
    import copy

    if not isinstance(getattr(profiles, "frame", None), pd.DataFrame):
        raise InvalidDtypeError(f"profiles must be a Profiles, got {type(profiles).__name__}.")
    frame = profiles.frame
    for i, f in enumerate(frames):
        check_instance(f, pd.DataFrame, f"frames[{i}] must be a pandas.DataFrame")
        if not f.index.is_unique:
            raise InvalidValueError(f"frames[{i}] repeats user id(s) {f.index[f.index.duplicated()][:3].tolist()}.")
        clash = sorted(set(f.columns) & set(frame.columns))
        if clash:
            raise InvalidValueError(f"frames[{i}] has column(s) {clash} that the profiles already hold.")
        frame = frame.join(f.reindex(frame.index))
    out = copy.copy(profiles)
    out.frame = frame
    return out

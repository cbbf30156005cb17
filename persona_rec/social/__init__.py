"""Social-graph profiles and seeding audiences (``persona_rec.social``).

* :class:`SocialGraph` - a validated follow/friend/share/referral graph;
* :func:`social_features` - degree, weighted PageRank, k-core, 2-hop reach and
  Leiden communities per user (profile columns);
* :func:`social_taxonomy_tags` - ``social/influencer``, ``social/connector`` and
  ``social/community/<id>`` tags for the taxonomy; :func:`join_profile_columns`
  puts the feature columns (social or feedback) on a Profiles;
* :func:`select_seeds`, :func:`simulate_spread`, :func:`compare_seeding` -
  influence maximisation under independent cascade.

k-core and communities need python-igraph (``pip install 'persona-rec[social]'``).
"""

from __future__ import annotations

from .graph import EDGE_KINDS, SocialGraph, social_features
from .seeding import compare_seeding, edge_probabilities, select_seeds, simulate_spread
from .tags import join_profile_columns, social_taxonomy_tags

__all__ = [
    "EDGE_KINDS",
    "SocialGraph",
    "compare_seeding",
    "edge_probabilities",
    "join_profile_columns",
    "select_seeds",
    "simulate_spread",
    "social_features",
    "social_taxonomy_tags",
]

"""Recommenders with a uniform interface, item filters, persistence and a fallback chain.

Every model derives from :class:`Recommender`: ``fit(dataset, profiles=None)``
returns ``self``; ``recommend(user_ids, k=10, *, filter_seen=True, items=None,
exclude=None, item_filter=None, on_unknown="raise")`` returns a DataFrame
``user_id, item_id, score, rank, source`` with external ids; ``save``/``load``
use one ``.npz`` file (no pickle).
"""

from __future__ import annotations

from .base import FALLBACK_SOURCE, ON_UNKNOWN, SIMILAR_ITEM, Recommender
from .filters import ItemFilter, build_item_mask
from .persistence import load_model, read_header, registered_models, save_model
from .ease import EASERecommender
from .fallback import FallbackChain
from .knn import ItemKNNRecommender
from .matrix_factorization import ALSRecommender, BPRRecommender
from .popular import PopularRecommender, SegmentPopularRecommender

# hybrid / side-information models (written by the models-hybrid helper)
from .als_features import ALSFeaturesRecommender
from .attributes import AttributeRecommender
from .association import CoPurchaseRecommender, cooccurrence_rules
from .content import ContentRecommender
from .lightfm import LightFMRecommender
from .repurchase import BuyAgainRecommender, RepurchaseRecommender
from .social import SocialRecommender  # "bought by people you follow" (needs a SocialGraph)

__all__ = [
    "Recommender",
    "ItemFilter",
    "build_item_mask",
    "PopularRecommender",
    "SegmentPopularRecommender",
    "ItemKNNRecommender",
    "EASERecommender",
    "ALSRecommender",
    "BPRRecommender",
    "FallbackChain",
    "ALSFeaturesRecommender",
    "AttributeRecommender",
    "CoPurchaseRecommender",
    "cooccurrence_rules",
    "ContentRecommender",
    "LightFMRecommender",
    "RepurchaseRecommender",
    "BuyAgainRecommender",
    "SocialRecommender",
    "save_model",
    "load_model",
    "read_header",
    "registered_models",
    "ON_UNKNOWN",
    "SIMILAR_ITEM",
    "FALLBACK_SOURCE",
]

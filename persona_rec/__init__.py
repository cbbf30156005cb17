"""persona_rec: user profiles, tag taxonomies, segments and recommendations.

Turns an e-commerce platform's users, items and behaviour events into user
profiles (用户画像), a hierarchical tag taxonomy, segments, recommendations and
marketing audiences.

The main entry points::

    from persona_rec import Dataset, PersonaRecommender
    from persona_rec.datasets import load_sample
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.tags import Taxonomy, Tagger
    from persona_rec.segments import rfm_segments, kmeans_segments
    from persona_rec.evaluation import next_period_split, NDCG, evaluate
    from persona_rec.marketing import select_audience
"""

from __future__ import annotations

from . import datasets, evaluation, exceptions, marketing, models, profiles, segments, tags
from .categories import get_category_sep, set_category_sep
from .cleaning import CleaningReport
from .columns import Columns
from .dataset import DEFAULT_EVENT_WEIGHTS, Dataset, UserState
from .identifiers import IdMap
from .models import FallbackChain, Recommender
from .models.persona import PersonaRecommender
from .profiles import ProfileBuilder, Profiles
from .tags import Tagger, Taxonomy, UserTags

__version__ = "0.1.0"

__all__ = [
    "CleaningReport",
    "Columns",
    "Dataset",
    "DEFAULT_EVENT_WEIGHTS",
    "FallbackChain",
    "IdMap",
    "PersonaRecommender",
    "ProfileBuilder",
    "Profiles",
    "Recommender",
    "Tagger",
    "Taxonomy",
    "UserState",
    "UserTags",
    "datasets",
    "evaluation",
    "exceptions",
    "marketing",
    "models",
    "profiles",
    "segments",
    "tags",
    "get_category_sep",
    "set_category_sep",
    "__version__",
]

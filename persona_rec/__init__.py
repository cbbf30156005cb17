"""persona_rec: user profiles, tag taxonomies, segments and recommendations.

Turns an e-commerce platform's users, items and behaviour events into user
profiles (用户画像), a hierarchical tag taxonomy, segments, recommendations and
marketing audiences.

The main entry points::

    from persona_rec import Dataset, PersonaRecommender
    from persona_rec.sample_data import load_sample
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.tags import Taxonomy, Tagger
    from persona_rec.segments import rfm_segments, kmeans_segments
    from persona_rec.evaluation import next_period_split, NDCG, evaluate
    from persona_rec.marketing import select_audience

Names and subpackages are imported on first use (PEP 562), so
``import persona_rec`` stays fast and a script pays only for what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY_NAMES = {
    "CleaningReport": ".cleaning",
    "Columns": ".columns",
    "Dataset": ".dataset",
    "DEFAULT_EVENT_WEIGHTS": ".dataset",
    "UserState": ".dataset",
    "IdMap": ".identifiers",
    "FallbackChain": ".models",
    "Recommender": ".models",
    "PersonaRecommender": ".models.persona",
    "ProfileBuilder": ".profiles",
    "Profiles": ".profiles",
    "Tagger": ".tags",
    "Taxonomy": ".tags",
    "UserTags": ".tags",
    "set_verbose": "._progress",
    "get_category_sep": ".categories",
    "set_category_sep": ".categories",
}
_SUBPACKAGES = ("datasets", "evaluation", "exceptions", "marketing", "models", "profiles",
                "sample_data", "segments", "tags")  # datasets: deprecated alias of sample_data

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
    "evaluation",
    "exceptions",
    "marketing",
    "models",
    "profiles",
    "sample_data",
    "segments",
    "set_verbose",
    "tags",
    "get_category_sep",
    "set_category_sep",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'persona_rec' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import evaluation, exceptions, marketing, models, profiles, sample_data, segments, tags
    from ._progress import set_verbose
    from .categories import get_category_sep, set_category_sep
    from .cleaning import CleaningReport
    from .columns import Columns
    from .dataset import DEFAULT_EVENT_WEIGHTS, Dataset, UserState
    from .identifiers import IdMap
    from .models import FallbackChain, Recommender
    from .models.persona import PersonaRecommender
    from .profiles import ProfileBuilder, Profiles
    from .tags import Tagger, Taxonomy, UserTags

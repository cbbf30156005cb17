"""persona_rec: user profiles, tag taxonomies, segments and recommendations.

Turns an e-commerce platform's users, items and behaviour events into user
profiles (用户画像), a hierarchical tag taxonomy, segments, recommendations and
marketing audiences.
"""

from __future__ import annotations

from .columns import Columns
from .dataset import DEFAULT_EVENT_WEIGHTS, Dataset, UserState
from .identifiers import IdMap
from . import exceptions

__version__ = "0.1.0"

__all__ = [
    "Columns",
    "Dataset",
    "DEFAULT_EVENT_WEIGHTS",
    "IdMap",
    "UserState",
    "exceptions",
    "__version__",
]

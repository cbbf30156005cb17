"""User profiles (用户画像): composable, point-in-time profile builders.

``ProfileBuilder.default().build(dataset, as_of=T)`` turns the events before
``T`` into :class:`Profiles`: a tidy frame indexed by ``user_id`` (RFM value,
activity, affinities, price sensitivity, novelty seeking, lifecycle stage,
repurchase cycle, demographics), affinity matrices and ``features()`` ready to
be used as side information. See ``docs/profiles.md``.
"""

from __future__ import annotations

from typing import Any

from . import builders
from ._context import ProfileContext, slugify
from .builders import *  # noqa: F403 - the package re-exports the builders' public names
from .incremental import IncrementalRFM
from .predictive import BGNBD, GammaGamma, PredictiveBuilder
from .profiles import FEATURE_BLOCKS, ProfileBuilder, Profiles
from .timing import PurchaseTimingBuilder

__all__ = ["ProfileBuilder", "Profiles", "ProfileContext"]
__all__ += builders.__all__
__all__ += [
    "PredictiveBuilder",
    "PurchaseTimingBuilder",
    "BGNBD",
    "GammaGamma",
    "IncrementalRFM",
    "FEATURE_BLOCKS",
    "slugify",
]


def __getattr__(name: str) -> Any:
    # deprecated alias, removed in 0.3 (the one import up the flow that tests/test_architecture.py allows)
    if name == "demo_section":
        from .._deprecation import warn_renamed
        from ..demo.profiles import profiles_section

        warn_renamed("persona_rec.profiles.demo_section",
                     "persona_rec.demo.profiles.profiles_section")
        return profiles_section
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

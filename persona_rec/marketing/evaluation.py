"""Deprecated alias of :mod:`persona_rec.marketing.campaign_analysis` (renamed so that it is not
confused with :mod:`persona_rec.evaluation`, the offline evaluation of recommenders).

It imports the same objects as before and emits a :class:`DeprecationWarning`; it is removed in 0.3.
"""

from __future__ import annotations

from .._deprecation import warn_renamed
from .campaign_analysis import *  # noqa: F403 - the alias re-exports every public name
from .campaign_analysis import __all__

warn_renamed("persona_rec.marketing.evaluation", "persona_rec.marketing.campaign_analysis")

"""Deprecated alias of :mod:`persona_rec.marketing.ab_stats` (renamed so that the name says its
job, A/B-test statistics, apart from :mod:`persona_rec.evaluation.significance`).

It imports the same objects as before and emits a :class:`DeprecationWarning`; it is removed in 0.3.
"""

from __future__ import annotations

from .._deprecation import warn_renamed
from .ab_stats import *  # noqa: F403 - the alias re-exports every public name
from .ab_stats import __all__

warn_renamed("persona_rec.marketing.stats", "persona_rec.marketing.ab_stats")

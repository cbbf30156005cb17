"""Deprecated alias of :mod:`persona_rec.evaluation.significance` (renamed so that the name
says its job, significance over users, apart from the A/B statistics of
:mod:`persona_rec.marketing.ab_stats`).

It imports the same objects as before and emits a :class:`DeprecationWarning`; it is removed in 0.3.
"""

from __future__ import annotations

from .._deprecation import warn_renamed
from .significance import *  # noqa: F403 - the alias re-exports every public name
from .significance import __all__

warn_renamed("persona_rec.evaluation.stats", "persona_rec.evaluation.significance")

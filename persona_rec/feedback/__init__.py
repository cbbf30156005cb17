"""Customer feedback analysis (``persona_rec.feedback``): reviews and ratings as satisfaction signals.

The package is the one module :mod:`persona_rec.feedback.reviews`; it
re-exports that module's public names (its ``__all__``).
"""

from __future__ import annotations

from .reviews import *  # noqa: F403 - the package re-exports every public name of its one module
from .reviews import __all__

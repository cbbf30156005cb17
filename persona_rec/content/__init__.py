"""Content marketing (``persona_rec.content``): match a content catalogue to users by their tags.

See :class:`ContentMatcher`.
"""

from __future__ import annotations

from .matching import ContentMatcher

__all__ = ["ContentMatcher"]

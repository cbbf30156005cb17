"""Customer feedback analysis (``persona_rec.feedback``): reviews and ratings as satisfaction signals.

See :mod:`persona_rec.feedback.reviews`.
"""

from __future__ import annotations

from .reviews import (
    IssueTopics,
    SentimentModel,
    check_reviews,
    feedback_features,
    feedback_taxonomy_tags,
    issue_topics,
)

__all__ = [
    "IssueTopics",
    "SentimentModel",
    "check_reviews",
    "feedback_features",
    "feedback_taxonomy_tags",
    "issue_topics",
]

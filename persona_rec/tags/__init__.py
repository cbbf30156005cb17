"""Tag taxonomy, rule-based tagging and tag expressions (``persona_rec.tags``)."""

from __future__ import annotations

from .expressions import TagExpression, is_valid_tag_id, parse_tag_expression

__all__ = ["TagExpression", "is_valid_tag_id", "parse_tag_expression"]

"""Tag taxonomy, rule-based tagging and tag expressions (``persona_rec.tags``).

* :class:`Taxonomy` / :class:`Tag`: a validated, declarative tag hierarchy
  (dict/JSON round-trip), with :meth:`Taxonomy.default` for e-commerce;
* :func:`parse_rule`: the safe rule language tags use over profile columns;
* :class:`Tagger` -> :class:`UserTags`: the users x tags confidence matrix,
  rolled up to ancestors; :func:`diff` / :func:`diff_users` between runs;
* :func:`parse_tag_expression`: boolean tag expressions for audiences/segments.
"""

from __future__ import annotations

from .expressions import TagExpression, is_valid_tag_id, parse_tag_expression
from .rules import FUNCTIONS, Rule, parse_rule
from .tagger import Tagger, UserTags, diff, diff_users
from .taxonomy import LAYERS, Tag, Taxonomy

__all__ = [
    "LAYERS",
    "FUNCTIONS",
    "Rule",
    "Tag",
    "TagExpression",
    "Tagger",
    "Taxonomy",
    "UserTags",
    "diff",
    "diff_users",
    "is_valid_tag_id",
    "parse_rule",
    "parse_tag_expression",
]

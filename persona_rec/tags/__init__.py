"""Tag taxonomy, rule-based tagging and tag expressions (``persona_rec.tags``).

* :class:`Taxonomy` / :class:`Tag`: a validated, declarative tag hierarchy
  (dict/JSON round-trip), with :meth:`Taxonomy.default` for e-commerce;
* :func:`parse_rule`: the safe rule language tags use over profile columns;
* :class:`Tagger` -> :class:`UserTags`: the users x tags confidence matrix,
  rolled up to ancestors; :func:`diff` / :func:`diff_users` between runs;
* :func:`parse_tag_expression`: boolean tag expressions for audiences/segments;
* :func:`validate_tags`: does each tag predict what it claims in the next
  window (lift, bootstrap CI, coverage); :func:`tag_stability`,
  :func:`tag_agreement`.
"""

from __future__ import annotations

from .expressions import TagExpression, is_valid_tag_id, parse_tag_expression
from .rules import FUNCTIONS, Rule, parse_rule
from .tagger import Tagger, UserTags, diff, diff_users
from .taxonomy import LAYERS, Tag, Taxonomy
from .validate import TagValidation, tag_agreement, tag_stability, validate_tags

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
    "TagValidation",
    "validate_tags",
    "tag_stability",
    "tag_agreement",
]

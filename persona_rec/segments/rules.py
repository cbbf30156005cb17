"""Rule-based segments: an ordered list of (segment, tag expression), first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_number
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    RuleSyntaxError,
)
from ..tags.expressions import TagExpression, parse_tag_expression
from ._result import SUPPRESSED, Segmentation

__all__ = ["RuleSegmenter"]


class RuleSegmenter:
    """Assign users to segments by ordered tag-expression rules.

    Rules are checked in order and the first one a user matches decides the
    segment; users matching none get ``default``. Expressions use the syntax
    of :func:`persona_rec.tags.expressions.parse_tag_expression` (tag ids,
    ``&``, ``|``, ``!``, parentheses) and are parsed when the segmenter is
    built, so a typo fails early.

    Parameters
    ----------
    rules : sequence of (str, str)
        ``(segment name, tag expression)`` pairs, highest priority first.
        Several rules may name the same segment (their matches are united).
    default : str or None, default "other"
        Segment of users that match no rule; None leaves them unassigned.
    min_confidence : float, default 0.0
        A user has a tag when its confidence is > 0 and >= this value.

    Raises
    ------
    InvalidParameterError
        ``rules`` is empty or a rule is not a (name, expression) pair.
    RuleSyntaxError
        An expression is malformed (the message names the segment).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from types import SimpleNamespace
    >>> tags = SimpleNamespace(
    ...     matrix=sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)),
    ...     user_ids=np.array(["u1", "u2", "u3"]), tag_ids=["high_value", "churn_risk", "new_user"])
    >>> seg = RuleSegmenter([("save", "high_value & churn_risk"), ("vip", "high_value")]).assign(tags)
    >>> seg.labels.tolist()
    ['save', 'vip', 'other']
    """

    def __init__(
        self,
        rules: Sequence[tuple[str, str]],
        *,
        default: str | None = "other",
        min_confidence: float = 0.0,
    ) -> None:
        if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence) or len(rules) == 0:
            raise InvalidParameterError(
                f"The 'rules' parameter of RuleSegmenter must be a non-empty sequence of "
                f"(segment, tag expression) pairs, got {rules!r}."
            )
        parsed: list[tuple[str, TagExpression]] = []
        for i, rule in enumerate(rules):
            if (
                not isinstance(rule, (tuple, list))
                or len(rule) != 2
                or not isinstance(rule[0], str)
                or not rule[0]
            ):
                raise InvalidParameterError(
                    f"RuleSegmenter rule {i} must be a (segment name, tag expression) pair with a "
                    f"non-empty str name, got {rule!r}."
                )
            name, expr = rule
            if name == SUPPRESSED:
                raise InvalidParameterError(
                    f"RuleSegmenter rule {i}: segment name '{SUPPRESSED}' is reserved for reports."
                )
            try:
                parsed.append((name, parse_tag_expression(expr)))
            except RuleSyntaxError as err:
                raise RuleSyntaxError(f"RuleSegmenter rule {i} (segment {name!r}): {err}") from err
        if default is not None and (not isinstance(default, str) or not default or default == SUPPRESSED):
            raise InvalidParameterError(
                f"The 'default' parameter of RuleSegmenter must be a non-empty str (not "
                f"'{SUPPRESSED}') or None, got {default!r}."
            )
        self.rules = parsed
        self.default = default
        self.min_confidence = check_number(
            min_confidence, "min_confidence", low=0.0, high=1.0, owner="RuleSegmenter"
        )

    @property
    def segments(self) -> list[str]:
        """Segment names in rule order (``default`` last)."""
        names: list[str] = []
        for name, _ in self.rules:
            if name not in names:
                names.append(name)
        if self.default is not None and self.default not in names:
            names.append(self.default)
        return names

    @property
    def tags(self) -> frozenset[str]:
        """Every tag id used by the rules."""
        out: set[str] = set()
        for _, expr in self.rules:
            out |= expr.tags
        return frozenset(out)

    def __repr__(self) -> str:
        shown = ", ".join(f"({n!r}, {str(e)!r})" for n, e in self.rules)
        return f"RuleSegmenter([{shown}], default={self.default!r})"

    def assign(self, user_tags: Any) -> Segmentation:
        """Segment the users of ``user_tags``.

        Parameters
        ----------
        user_tags : UserTags
            Object with ``.matrix`` (users x tags), ``.user_ids``, ``.tag_ids``.

        Returns
        -------
        Segmentation
            ``method="rules"``; ``info["matched"]`` holds, per rule, how many
            users matched it (before first-match resolution).

        Raises
        ------
        UnknownIdError
            A rule uses a tag that ``user_tags`` does not have.
        """
        if not hasattr(user_tags, "user_ids"):
            raise InvalidDtypeError(
                f"user_tags must be a UserTags object with .matrix, .user_ids and .tag_ids, "
                f"got {type(user_tags).__name__}."
            )
        user_ids = np.asarray(user_tags.user_ids)
        names = self.segments
        code_of = {n: i for i, n in enumerate(names)}
        codes = np.full(len(user_ids), -1, dtype=np.int64)
        open_ = np.ones(len(user_ids), dtype=bool)
        matched = []
        for name, expr in self.rules:
            hit = expr.evaluate(user_tags, min_confidence=self.min_confidence)
            matched.append((name, str(expr), int(hit.sum())))
            take = hit & open_
            codes[take] = code_of[name]
            open_ &= ~take
        if self.default is not None:
            codes[open_] = code_of[self.default]
        labels = pd.Series(
            pd.Categorical.from_codes(codes, categories=names), index=pd.Index(user_ids)
        )
        return Segmentation(
            labels, segments=names, method="rules", info={"matched": matched}
        )

"""Rule-based segments: ordered tag-expression rules, first match wins."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from persona_rec.exceptions import InvalidParameterError, RuleSyntaxError, UnknownIdError
from persona_rec.segments import RuleSegmenter

from .conftest import FakeUserTags

TAGS = ["high_value", "churn_risk", "new_user", "interest/home", "interest/home/kitchen"]
#          hv  cr  new home kitchen
ROWS = [
    [1, 1, 0, 1, 1],  # a: high value at risk -> "save" (also matches "vip" and "home")
    [1, 0, 0, 1, 0],  # b: vip (also home) -> "vip" because vip comes before home
    [0, 0, 1, 1, 1],  # c: new user who likes kitchen -> "home"
    [0, 0, 1, 0, 0],  # d: new user only -> "welcome"
    [0, 0, 0, 0, 0],  # e: nothing -> default
    [0.3, 0, 0, 0, 0],  # f: weak high_value confidence
]


@pytest.fixture
def tags():
    return FakeUserTags(
        sp.csr_matrix(np.array(ROWS, dtype=np.float32)), np.array(list("abcdef")), TAGS
    )


RULES = [
    ("save", "high_value & churn_risk"),
    ("vip", "high_value"),
    ("home", "interest/home & !churn_risk"),
    ("welcome", "new_user"),
]


def test_first_match_wins(tags):
    seg = RuleSegmenter(RULES).assign(tags)
    assert seg.labels.tolist() == ["save", "vip", "home", "welcome", "other", "vip"]
    assert seg.segments == ["save", "vip", "home", "welcome", "other"]
    assert seg.method == "rules"
    # matches counted before first-match resolution
    assert [m[2] for m in seg.info["matched"]] == [1, 3, 2, 2]


def test_order_matters(tags):
    rules = [RULES[1], RULES[0]] + RULES[2:]
    seg = RuleSegmenter(rules).assign(tags)
    assert seg.sizes()["save"] == 0
    assert seg.labels["a"] == "vip"


def test_min_confidence_and_default_none(tags):
    seg = RuleSegmenter(RULES, default=None, min_confidence=0.5).assign(tags)
    assert seg.labels["f"] != seg.labels["f"]  # NaN: weak tag no longer counts, no default
    assert seg.labels.isna().sum() == 2
    assert seg.segments == ["save", "vip", "home", "welcome"]


def test_same_segment_in_several_rules(tags):
    seg = RuleSegmenter([("engaged", "high_value"), ("engaged", "new_user")]).assign(tags)
    assert seg.sizes().to_dict() == {"engaged": 5, "other": 1}


def test_describe_excludes_defining_tags(tags):
    seg = RuleSegmenter(RULES).assign(tags)
    table = seg.describe(user_tags=tags, min_size=None).set_index("segment")
    # c alone: new_user and kitchen have lift 3 (2 of 6 users), interest/home lift 2 (3 of 6)
    assert [t for t, _, _ in table.loc["home", "top_tags"]] == [
        "new_user", "interest/home/kitchen", "interest/home",
    ]
    segm = RuleSegmenter(RULES)
    table = seg.describe(user_tags=tags, min_size=None, exclude_tags=segm.tags).set_index("segment")
    assert [t for t, _, _ in table.loc["home", "top_tags"]] == ["interest/home/kitchen"]


def test_bad_rules(tags):
    with pytest.raises(RuleSyntaxError, match=r"rule 1 \(segment 'b'\): Tag expression 'x &' is malformed"):
        RuleSegmenter([("a", "x"), ("b", "x &")])
    with pytest.raises(InvalidParameterError, match="non-empty sequence"):
        RuleSegmenter([])
    with pytest.raises(InvalidParameterError, match=r"rule 0 must be a \(segment name, tag expression\) pair"):
        RuleSegmenter([("only-name",)])
    with pytest.raises(InvalidParameterError, match="'default' parameter of RuleSegmenter"):
        RuleSegmenter(RULES, default="")
    with pytest.raises(InvalidParameterError, match="reserved"):
        RuleSegmenter([("suppressed", "x")])
    with pytest.raises(UnknownIdError, match="unknown tag"):
        RuleSegmenter([("a", "high_valu")]).assign(tags)

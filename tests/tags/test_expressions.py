"""Tests for the tag expression parser and evaluator."""

from __future__ import annotations

import itertools
import string

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from persona_rec.tags.expressions import is_valid_tag_id, parse_tag_expression

TAGS = ["a", "b", "c"]
INDEX = {t: i for i, t in enumerate(TAGS)}
# every combination of three booleans, one row per combination
ALL = np.array(list(itertools.product([False, True], repeat=3)), dtype=bool)
A, B, C = ALL[:, 0], ALL[:, 1], ALL[:, 2]


def ev(text: str) -> np.ndarray:
    return parse_tag_expression(text).evaluate_matrix(ALL, INDEX)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a", A),
        ("!a", ~A),
        ("a & b", A & B),
        ("a | b", A | B),
        # ! binds tighter than &, & tighter than |
        ("a | b & c", A | (B & C)),
        ("a & b | c", (A & B) | C),
        ("!a & b", (~A) & B),
        ("!a | b & !c", (~A) | (B & ~C)),
        ("(a | b) & c", (A | B) & C),
        ("!(a | b)", ~(A | B)),
        ("!!a", A),
        ("a and b or not c", (A & B) | ~C),
        ("A AND NOT b".replace("A ", "a "), A & ~B),
        ("a && b || c", (A & B) | C),
        ("((a))", A),
        ("  a\t&\nb  ", A & B),
    ],
)
def test_semantics_and_precedence(text: str, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(ev(text), expected)


def test_tags_and_str() -> None:
    e = parse_tag_expression("interest/home/kitchen & price_sensitive & !churned | active_hours/night")
    assert e.tags == {"interest/home/kitchen", "price_sensitive", "churned", "active_hours/night"}
    assert str(e) == "interest/home/kitchen & price_sensitive & !churned | active_hours/night"
    assert str(parse_tag_expression("(a | b) & !(c & a)")) == "(a | b) & !(c & a)"
    assert parse_tag_expression("a&b") == parse_tag_expression(" a  and b ")
    ids = "v1.2 x-y seg_3 中文 tag/2011-12"
    assert parse_tag_expression(" | ".join(ids.split())).tags == set(ids.split())


@pytest.mark.parametrize(
    "text, pos, what",
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("a &", 3, "expected a tag id"),
        ("a & & b", 4, "found '&'"),
        ("& a", 0, "expected a tag id"),
        ("a b", 2, "found 'b'"),
        ("(a | b", 6, r"expected '\)' to close the '\(' at position 0"),
        ("a | b)", 5, r"found '\)'"),
        ("()", 1, r"found '\)'"),
        ("a == b", 2, "unexpected character '='"),
        ("a & $b", 4, r"unexpected character '\$'"),
        ("!", 1, "end of the expression"),
        ("not", 3, "end of the expression"),
        ("a | and", 4, "found 'and'"),
    ],
)
def test_syntax_errors_name_expression_and_position(text: str, pos: int, what: str) -> None:
    with pytest.raises(RuleSyntaxError, match=rf"Tag expression '.*' is malformed at position {pos}: .*{what}"):
        parse_tag_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo hi')",
        "os.system('ls')",
        "eval('1')",
        "a; import os",
        "lambda: 0",
        "a[0]",
        "{}.__class__",
        "'a'",
    ],
)
def test_code_is_a_syntax_error(text: str) -> None:
    with pytest.raises(RuleSyntaxError, match="malformed at position"):
        parse_tag_expression(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "中", max_size=40))
def test_never_executes_code_only_syntax_error_or_expression(text: str) -> None:
    # either a parse with ids drawn only from the text, or RuleSyntaxError; nothing else
    try:
        e = parse_tag_expression(text)
    except RuleSyntaxError as err:
        assert "malformed" in str(err)
        return
    for t in e.tags:
        assert is_valid_tag_id(t) and t in text
    # the rendered form parses back to the same expression
    assert parse_tag_expression(str(e)) == e


@st.composite
def _expr_tree(draw, depth: int = 0):
    if depth >= 4 or draw(st.booleans()):
        return draw(st.sampled_from(TAGS))
    op = draw(st.sampled_from(["&", "|", "!"]))
    if op == "!":
        return ("!", draw(_expr_tree(depth + 1)))
    return (op, draw(_expr_tree(depth + 1)), draw(_expr_tree(depth + 1)))


def _to_text(tree) -> str:
    if isinstance(tree, str):
        return tree
    if tree[0] == "!":
        return f"!({_to_text(tree[1])})"
    return f"({_to_text(tree[1])} {tree[0]} {_to_text(tree[2])})"


def _truth(tree) -> np.ndarray:
    if isinstance(tree, str):
        return ALL[:, INDEX[tree]]
    if tree[0] == "!":
        return ~_truth(tree[1])
    left, right = _truth(tree[1]), _truth(tree[2])
    return left & right if tree[0] == "&" else left | right


@settings(max_examples=200, deadline=None)
@given(_expr_tree())
def test_random_fully_parenthesised_trees_match_python_truth(tree) -> None:
    text = _to_text(tree)
    e = parse_tag_expression(text)
    np.testing.assert_array_equal(e.evaluate_matrix(ALL, INDEX), _truth(tree))
    # pretty-printing keeps the meaning
    np.testing.assert_array_equal(parse_tag_expression(str(e)).evaluate_matrix(ALL, INDEX), _truth(tree))


def test_sparse_dense_and_min_confidence() -> None:
    conf = np.array([[0.9, 0.0, 0.3], [0.1, 0.5, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    e = parse_tag_expression("a | c")
    for m in (conf, sp.csr_matrix(conf), sp.csc_matrix(conf), conf.astype(bool)):
        np.testing.assert_array_equal(e.evaluate_matrix(m, INDEX), [True, True, False])
    np.testing.assert_array_equal(
        e.evaluate_matrix(sp.csr_matrix(conf), INDEX, min_confidence=0.2), [True, False, False]
    )
    np.testing.assert_array_equal(e.evaluate_matrix(conf, INDEX, min_confidence=0.95), [False] * 3)
    # explicit zeros stored in a sparse matrix do not count as having the tag
    z = sp.csr_matrix((np.array([0.0, 1.0]), np.array([0, 2]), np.array([0, 2, 2, 2])), shape=(3, 3))
    np.testing.assert_array_equal(parse_tag_expression("a").evaluate_matrix(z, INDEX), [False] * 3)
    np.testing.assert_array_equal(parse_tag_expression("!a").evaluate_matrix(z, INDEX), [True] * 3)


def test_evaluate_with_user_tags_like_object() -> None:
    class UT:
        matrix = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32))
        tag_ids = TAGS

    np.testing.assert_array_equal(parse_tag_expression("b & c").evaluate(UT()), [False, True])
    with pytest.raises(InvalidDtypeError, match="UserTags"):
        parse_tag_expression("a").evaluate(np.zeros((2, 3)))


def test_unknown_tags_and_bad_parameters() -> None:
    e = parse_tag_expression("a & churnd | zz")
    with pytest.raises(UnknownIdError, match=r"'a & churnd \| zz' uses unknown tag\(s\): 'churnd' at position 4, 'zz' at position 13"):
        e.evaluate_matrix(np.zeros((1, 2)), {"a": 0, "churned": 1})
    with pytest.raises(UnknownIdError, match="Did you mean"):
        e.validate(["a", "churned", "zz"])
    with pytest.raises(InvalidParameterError, match="min_confidence"):
        parse_tag_expression("a").evaluate_matrix(ALL, INDEX, min_confidence=2)
    with pytest.raises(InvalidParameterError, match="outside the matrix"):
        parse_tag_expression("c").evaluate_matrix(np.zeros((2, 2)), INDEX)
    with pytest.raises(InvalidDtypeError, match="must be a str"):
        parse_tag_expression(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidDtypeError, match="2-D"):
        parse_tag_expression("a").evaluate_matrix(np.zeros(3), INDEX)


def test_validate_sensitive() -> None:
    class Tax:
        tag_ids = ["basic/gender/female", "interest/home", "churned"]
        sensitive_ids = frozenset({"basic/gender/female"})

    ok = parse_tag_expression("interest/home & !churned")
    assert ok.validate(Tax()) is ok
    bad = parse_tag_expression("interest/home & basic/gender/female")
    with pytest.raises(TaxonomyError, match=r"sensitive tag\(s\) \['basic/gender/female'\].*allow_sensitive=True"):
        bad.validate(Tax())
    assert bad.validate(Tax(), allow_sensitive=True) is bad
    with pytest.raises(InvalidDtypeError, match="got a str"):
        bad.validate("interest/home")


def test_deep_nesting_is_bounded() -> None:
    ok = "(" * 50 + "a" + ")" * 50
    assert parse_tag_expression(ok).tags == {"a"}
    with pytest.raises(RuleSyntaxError, match="nesting deeper than"):
        parse_tag_expression("(" * 500 + "a" + ")" * 500)
    with pytest.raises(RuleSyntaxError, match="nesting deeper than"):
        parse_tag_expression("!" * 500 + "a")
    long_chain = " & ".join(["a", "b", "c"] * 3000)
    np.testing.assert_array_equal(parse_tag_expression(long_chain).evaluate_matrix(ALL, INDEX), A & B & C)
    assert len(str(parse_tag_expression(long_chain))) == len(long_chain)


def test_is_valid_tag_id() -> None:
    assert is_valid_tag_id("interest/home-garden/v1.2_x")
    for bad in ("", "a b", "a&b", "OR", "x(y)", 3, None):
        assert not is_valid_tag_id(bad)

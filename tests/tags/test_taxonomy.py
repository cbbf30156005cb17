"""Tests for Taxonomy: validation, round-trips, roll-up (hypothesis random trees)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.exceptions import (
    InvalidDtypeError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from persona_rec.tags import LAYERS, Tag, Tagger, Taxonomy

BASE = [
    {"id": "behaviour", "layer": "behaviour"},
    {"id": "price_sensitive", "parent": "behaviour", "rule": "price_sensitivity >= 0.6",
     "confidence": "price_sensitivity"},
    {"id": "value", "layer": "value"},
    {"id": "high_value", "parent": "value", "rule": "m_score >= 5"},
]


def tax_with(*extra: dict) -> Taxonomy:
    return Taxonomy.from_dict({"version": "t", "tags": BASE + list(extra)})


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "extra, exc, pattern",
    [
        ({"id": "high_value", "parent": "value"}, TaxonomyError, r"Tag id 'high_value' is defined more than once"),
        ({"id": "vip", "parent": "valeu"}, TaxonomyError, r"Tag 'vip' has unknown parent 'valeu'"),
        ({"id": "loop", "parent": "loop", "layer": "value"}, TaxonomyError, r"Tag 'loop' is its own parent"),
        ({"id": "orphan"}, TaxonomyError, r"Root tag 'orphan' needs a 'layer'"),
        ({"id": "x", "parent": "value", "layer": "interest"}, TaxonomyError,
         r"Tag 'x' has layer 'interest' but its parent 'value' is in layer 'value'"),
        ({"id": "x", "layer": "money"}, TaxonomyError, r"Tag 'x': 'layer' must be one of"),
        ({"id": "bad id", "parent": "value"}, TaxonomyError, r"Tag id 'bad id' is invalid"),
        ({"id": "not", "parent": "value"}, TaxonomyError, r"Tag id 'not' is invalid: it is a reserved word"),
        ({"id": "x", "parent": "value", "rule": "m_score >="}, RuleSyntaxError,
         r"Tag 'x' has a malformed rule: Rule 'm_score >=' is malformed at position 10"),
        ({"id": "x", "parent": "value", "rule": "m_score"}, TaxonomyError, r"never"),
        ({"id": "x", "parent": "value", "rule": "monetary * 2"}, RuleSyntaxError,
         r"Tag 'x': the rule 'monetary \* 2' is a value, not a condition"),
        ({"id": "x", "parent": "value", "rule": "m_score > 1", "confidence": "m_score > 1"}, RuleSyntaxError,
         r"Tag 'x': the confidence 'm_score > 1' is a condition"),
        ({"id": "x", "parent": "value", "rule": "m_score > 1", "confidence": "quantile("}, RuleSyntaxError,
         r"Tag 'x' has a malformed confidence"),
        ({"id": "x", "parent": "value", "confidence": 0.5}, TaxonomyError, r"Tag 'x' has a 'confidence' but no 'rule'"),
        ({"id": "x", "parent": "value", "rule": "m_score > 1", "confidence": 1.5}, TaxonomyError,
         r"Tag 'x': a constant 'confidence' must be in \(0, 1\], got 1.5"),
        ({"id": "x", "parent": "value", "sensitive": "yes"}, TaxonomyError, r"Tag 'x': 'sensitive' must be a bool"),
        ({"id": "x", "parent": "value", "colour": "red"}, TaxonomyError, r"Tag 'x' has unknown field\(s\) \['colour'\]"),
        ({"parent": "value"}, TaxonomyError, r"A tag has no 'id'"),
    ],
)
def test_validation_errors_name_the_tag(extra: dict, exc: type, pattern: str) -> None:
    if pattern == "never":  # a bare column is a valid condition (boolean column)
        tax_with(extra)
        return
    with pytest.raises(exc, match=pattern):
        tax_with(extra)


def test_cycles_are_rejected_with_the_path() -> None:
    with pytest.raises(TaxonomyError, match=r"Tag 'a' is in a parent cycle: a -> c -> b -> a \(child -> parent\)"):
        Taxonomy([{"id": "a", "parent": "c"}, {"id": "b", "parent": "a"}, {"id": "c", "parent": "b"}])
    with pytest.raises(TaxonomyError, match=r"parent cycle: (x -> y -> x|y -> x -> y)"):
        tax_with({"id": "x", "parent": "y"}, {"id": "y", "parent": "x"}, {"id": "z", "parent": "x"})


def test_validate_against_profiles_names_tag_and_column(profiles) -> None:
    tax = tax_with({"id": "spender", "parent": "value", "rule": "monetray > 100"})
    with pytest.raises(TaxonomyError, match=r"Tag 'spender': rule 'monetray > 100' references unknown "
                       r"profile column 'monetray'\. Did you mean \['monetary'"):
        tax.validate(profiles)
    tax = tax_with({"id": "spender", "parent": "value", "rule": "monetary > 100", "confidence": "quantile(spend)"})
    with pytest.raises(TaxonomyError, match=r"Tag 'spender': confidence 'quantile\(spend\)' references unknown profile column 'spend'"):
        tax.validate(profiles)
    tax = tax_with({"id": "score", "parent": "value", "rule": "m_score"})
    with pytest.raises(TaxonomyError, match=r"Tag 'score': rule 'm_score': column 'm_score' \(dtype float64\) is used as a condition"):
        tax.validate(profiles)
    tax = tax_with({"id": "stage", "parent": "value", "rule": "lifecycle_stage > 3"})
    with pytest.raises(TaxonomyError, match=r"Tag 'stage'.*compares text column 'lifecycle_stage' with the number 3"):
        tax.validate(profiles)
    tax = tax_with({"id": "g", "parent": "value", "rule": 'affinity("category_l1", "garden") > 0.1'})
    with pytest.raises(TaxonomyError, match=r"Tag 'g'.*unknown category_l1 value 'garden'"):
        tax.validate(profiles)
    # a tag derived from a sensitive column must be flagged sensitive
    tax = tax_with({"id": "basic", "layer": "basic"}, {"id": "women", "parent": "basic", "rule": "gender == 'F'"})
    with pytest.raises(TaxonomyError, match=r"Tag 'women' is derived from sensitive profile column\(s\) \['gender'\]"):
        tax.validate(profiles)
    ok = tax_with({"id": "basic", "layer": "basic"},
                  {"id": "women", "parent": "basic", "rule": "gender == 'F'", "sensitive": True})
    assert ok.validate(profiles) is ok


def test_structure_accessors() -> None:
    tax = tax_with({"id": "vip", "parent": "high_value", "rule": "monetary > 1000", "confidence": 0.9},
                   {"id": "basic", "layer": "basic"},
                   {"id": "basic/gender", "parent": "basic", "sensitive": True},
                   {"id": "basic/gender/f", "parent": "basic/gender", "rule": "gender == 'F'"})
    assert tax.roots == ["behaviour", "value", "basic"]
    assert tax.ancestors("vip") == ["high_value", "value"]
    assert tax.descendants("value") == ["high_value", "vip"]
    assert tax.children("value") == ["high_value"]
    assert tax.depth_of("vip") == 2 and tax.layer_of("vip") == "value"
    assert tax.sensitive_ids == {"basic/gender", "basic/gender/f"}
    assert tax.confidence_of("vip") == 0.9 and tax.confidence_of("high_value") == 1.0
    assert tax.rule_of("value") is None and tax.rule_of("vip").columns == {"monetary"}
    assert tax.in_layer("basic") == ["basic", "basic/gender", "basic/gender/f"]
    assert "vip" in tax and len(tax) == 8 and tax["vip"].parent == "high_value"
    with pytest.raises(UnknownIdError, match="Unknown tag id 'nope'"):
        tax.ancestors("nope")
    smaller = tax.without(["basic/gender"])
    assert "basic/gender/f" not in smaller and "basic" in smaller
    bigger = tax.with_tags([Tag("bargain", parent="behaviour", rule="discount_share > 0.5")])
    assert bigger.tag_ids[-1] == "bargain"
    with pytest.raises(TaxonomyError, match="defined more than once"):
        tax.with_tags([{"id": "vip", "parent": "value"}])
    replaced = tax.with_tags([{"id": "vip", "parent": "value", "rule": "monetary > 5000"}], replace=True)
    assert replaced["vip"].rule == "monetary > 5000"


def test_json_round_trip(tmp_path) -> None:
    tax = Taxonomy.default()
    text = tax.to_json()
    assert Taxonomy.from_json(text) == tax
    path = tmp_path / "tax.json"
    tax.to_json(path)
    again = Taxonomy.from_json(path)
    assert again == tax and again.version == tax.version
    assert json.loads(text)["tags"][0] == {
        "id": "basic", "name": "Basic attributes", "parent": None, "layer": "basic",
        "description": "Demographic and registration attributes.", "sensitive": False,
        "rule": None, "confidence": None,
    }
    with pytest.raises(TaxonomyError, match="The taxonomy JSON is invalid"):
        Taxonomy.from_json("{not json")
    with pytest.raises(TaxonomyError, match="needs a 'tags' list"):
        Taxonomy.from_dict({"version": "1"})
    with pytest.raises(TaxonomyError, match=r"unknown key\(s\) \['tag'\]"):
        Taxonomy.from_dict({"tag": []})
    with pytest.raises(InvalidDtypeError, match="use Taxonomy.from_dict"):
        Taxonomy({"tags": []})  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- random trees
@st.composite
def random_forest(draw, max_tags: int = 25):
    """A random forest in definition (topological) order with rules over columns x0..xN."""
    n = draw(st.integers(1, max_tags))
    tags = []
    for i in range(n):
        parent = None if i == 0 else draw(st.one_of(st.none(), st.integers(0, i - 1)))
        has_rule = draw(st.booleans())
        d = {
            "id": f"t{i}" if draw(st.booleans()) else f"g/{i}-x.{i}",
            "name": draw(st.text(max_size=8)),
            "parent": None if parent is None else tags[parent]["id"],
            "layer": draw(st.sampled_from(LAYERS)) if parent is None else None,
            "description": draw(st.text(max_size=12)),
            "sensitive": draw(st.booleans()) and draw(st.booleans()),
            "rule": f"x{i} >= {draw(st.sampled_from([0.2, 0.5, 0.8]))}" if has_rule else None,
            "confidence": (draw(st.sampled_from([None, f"c{i}", 0.5])) if has_rule else None),
        }
        tags.append(d)
    return {"version": draw(st.sampled_from(["1", "2024-01", "v3.1"])), "tags": tags}


@settings(max_examples=60, deadline=None)
@given(random_forest())
def test_round_trip_dict_taxonomy_dict(d) -> None:
    tax = Taxonomy.from_dict(d)
    assert tax.to_dict() == d
    assert Taxonomy.from_json(tax.to_json()) == tax
    # any definition order gives the same structure
    shuffled = Taxonomy(list(reversed(d["tags"])), version=d["version"])
    for t in tax.tag_ids:
        assert shuffled.ancestors(t) == tax.ancestors(t)
        assert shuffled.layer_of(t) == tax.layer_of(t)
        assert shuffled.is_sensitive(t) == tax.is_sensitive(t)


@settings(max_examples=40, deadline=None)
@given(random_forest(), st.integers(0, 2**31 - 1), st.booleans())
def test_rollup_every_ancestor_with_max_confidence(d, seed, rollup_sensitive) -> None:
    tax = Taxonomy.from_dict(d)
    rng = np.random.default_rng(seed)
    n_users, n = 30, len(d["tags"])
    frame = pd.DataFrame(
        {**{f"x{i}": rng.random(n_users) for i in range(n)},
         **{f"c{i}": np.where(rng.random(n_users) < 0.1, np.nan, rng.random(n_users)) for i in range(n)}},
        index=pd.Index([f"u{k}" for k in range(n_users)], name="user_id"),
    )
    floor = 0.01
    ut = Tagger(tax, confidence_floor=floor, rollup_sensitive=rollup_sensitive).assign(frame)
    m = ut.matrix.toarray()
    assert ut.tag_ids == tax.tag_ids and list(ut.user_ids) == list(frame.index)

    # expected: own rule confidence, then max over the tag's subtree (within the sensitive boundary)
    own = np.zeros((n_users, n))
    for j, t in enumerate(d["tags"]):
        if t["rule"] is None:
            continue
        hit = frame[f"x{j}"].to_numpy() >= float(t["rule"].split(">= ")[1])
        c = t["confidence"]
        if c is None:
            val = np.ones(n_users)
        elif isinstance(c, float):
            val = np.full(n_users, c)
        else:
            val = np.clip(np.nan_to_num(frame[c].to_numpy(), nan=floor), floor, 1)
        own[:, j] = np.where(hit, val, 0)
    index = {t: j for j, t in enumerate(tax.tag_ids)}
    expected = own.copy()
    for j, t in enumerate(tax.tag_ids):
        for a in tax.ancestors(t):
            if tax.is_sensitive(t) and not tax.is_sensitive(a) and not rollup_sensitive:
                break
            expected[:, index[a]] = np.maximum(expected[:, index[a]], own[:, j])
    np.testing.assert_allclose(m, expected.astype(np.float32), rtol=1e-6)

    # the property in words: each assigned tag's ancestors are assigned with >= confidence
    for j, t in enumerate(tax.tag_ids):
        for a in tax.ancestors(t):
            if tax.is_sensitive(t) and not tax.is_sensitive(a) and not rollup_sensitive:
                break
            assert (m[:, index[a]] >= m[:, j]).all()
    # privacy: without rollup_sensitive, non-sensitive tags never come from sensitive ones alone
    if not rollup_sensitive:
        for j, t in enumerate(tax.tag_ids):
            if not tax.is_sensitive(t):
                subtree = [t] + [s for s in tax.descendants(t) if not tax.is_sensitive(s)]
                np.testing.assert_allclose(m[:, j], own[:, [index[s] for s in subtree]].max(axis=1), rtol=1e-6)

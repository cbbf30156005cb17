"""Segmentation: sizes, describe (tag lift, feature means), suppression, relabel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec.exceptions import (
    DuplicateIdError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.segments import SUPPRESSED, Segmentation

from .conftest import FakeProfiles, FakeUserTags

IDS = pd.Index([f"u{i}" for i in range(10)], name="user_id")
#            u0   u1   u2   u3   u4   u5   u6   u7   u8   u9
LABELS = ["A", "A", "A", "A", "B", "B", "B", "B", "B", "C"]
#   tags:   t_a held by u0-u3 (all of A) and u4 -> share 5/10; in A 4/4 -> lift 2.0
#           t_b held by u4-u8 (all of B) -> overall 5/10; in B 5/5 -> lift 2.0; in A 0
#           t_all held by everyone -> lift 1.0 everywhere (never "over-represented")
#           t_rare held by u3 only -> in A 1/4 = 25%, overall 10% -> lift 2.5
TAGS = ["t_a", "t_b", "t_all", "t_rare"]
MATRIX = np.zeros((10, 4), dtype=np.float32)
MATRIX[[0, 1, 2, 3, 4], 0] = 1.0
MATRIX[[4, 5, 6, 7, 8], 1] = 0.8
MATRIX[:, 2] = 1.0
MATRIX[3, 3] = 1.0


@pytest.fixture
def seg():
    return Segmentation(pd.Series(LABELS, index=IDS), segments=["A", "B", "C", "D"], method="test")


@pytest.fixture
def tags():
    # rows in a different order than the segmentation: alignment is by user id
    order = np.arange(10)[::-1]
    return FakeUserTags(sp.csr_matrix(MATRIX[order]), IDS.to_numpy()[order], TAGS)


@pytest.fixture
def profiles():
    frame = pd.DataFrame(
        {
            "recency_days": [10.0, 20, 30, 40, 100, 110, 120, 130, 140, np.nan],
            "frequency": [5.0, 5, 5, 5, 1, 1, 1, 1, 1, 3],
            "age": [20.0, 21, 22, 23, 60, 61, 62, 63, 64, 40],
            "city": ["x"] * 10,
        },
        index=IDS,
    )
    return FakeProfiles(frame, sensitive_columns=frozenset({"age"}))


def test_sizes_and_to_frame(seg):
    assert seg.sizes().to_dict() == {"A": 4, "B": 5, "C": 1, "D": 0}
    assert seg.sizes(min_size=2).to_dict() == {"A": 4, "B": 5, "D": 0, SUPPRESSED: 1}
    out = seg.to_frame(min_size=5)
    assert list(out.columns) == ["user_id", "segment"]
    assert out["segment"].tolist() == [SUPPRESSED] * 4 + ["B"] * 5 + [SUPPRESSED]
    assert seg.to_frame()["segment"].tolist() == LABELS
    assert len(seg) == 10 and "A=4" in repr(seg)


def test_tag_shares_and_lift(seg, tags):
    shares, overall = seg.tag_shares(tags, min_size=None)
    assert overall.to_dict() == pytest.approx({"t_a": 0.5, "t_b": 0.5, "t_all": 1.0, "t_rare": 0.1})
    assert shares.loc["A"].tolist() == pytest.approx([1.0, 0.0, 1.0, 0.25])
    assert shares.loc["B"].tolist() == pytest.approx([0.2, 1.0, 1.0, 0.0])
    assert list(shares.index) == ["A", "B", "C"]  # empty D left out
    # threshold: t_b has confidence 0.8, so nobody holds it at 0.9
    shares9, overall9 = seg.tag_shares(tags, threshold=0.9, min_size=None)
    assert overall9["t_b"] == 0.0 and shares9.loc["B", "t_b"] == 0.0


def test_describe_over_represented_tags(seg, tags):
    table = seg.describe(user_tags=tags, min_size=None, n_tags=2).set_index("segment")
    # A: t_a share 100% lift 2.0 (score 1.0 * ln 2 = 0.69), t_rare 25% lift 2.5 (0.25 * ln 2.5
    # = 0.23); t_all (lift 1) is never named
    assert table.loc["A", "top_tags"] == [
        ("t_a", pytest.approx(1.0), pytest.approx(2.0)),
        ("t_rare", pytest.approx(0.25), pytest.approx(2.5)),
    ]
    assert "t_a 100% (x2.0), t_rare 25% (x2.5)" in table.loc["A", "description"]
    by_lift = seg.describe(user_tags=tags, min_size=None, rank_tags_by="lift").set_index("segment")
    assert [t for t, _, _ in by_lift.loc["A", "top_tags"]] == ["t_rare", "t_a"]
    assert [t for t, _, _ in table.loc["B", "top_tags"]] == ["t_b"]  # t_a in B: 20% vs 50%, lift < 1
    # min_tag_share hides the rare tag; exclude_tags hides the defining one
    table = seg.describe(user_tags=tags, min_size=None, min_tag_share=0.3).set_index("segment")
    assert [t for t, _, _ in table.loc["A", "top_tags"]] == ["t_a"]
    table = seg.describe(user_tags=tags, min_size=None, exclude_tags=["t_a"]).set_index("segment")
    assert [t for t, _, _ in table.loc["A", "top_tags"]] == ["t_rare"]


def test_describe_feature_means(seg, profiles):
    table = seg.describe(profiles, min_size=None, n_features=2).set_index("segment")
    # overall recency (NaN skipped) = 700 / 9 = 77.8; A = 25, B = 120
    a_feats = dict((c, (m, o)) for c, m, o in table.loc["A", "top_features"])
    assert a_feats["recency_days"] == (pytest.approx(25.0), pytest.approx(700 / 9))
    assert a_feats["frequency"] == (pytest.approx(5.0), pytest.approx(2.8))
    assert "recency_days 25.0 vs 77.8 overall" in table.loc["A", "description"]
    assert table.loc["A", "description"].startswith("4 users (40.0%)")
    # sensitive 'age' is never described by default, and the str column is ignored
    means = seg.feature_means(profiles, min_size=None)
    assert list(means.columns) == ["recency_days", "frequency"]
    assert list(means.index) == ["A", "B", "C", "overall"]
    assert np.isnan(means.loc["C", "recency_days"])
    with pytest.raises(InvalidParameterError, match=r"sensitive column\(s\) \['age'\]"):
        seg.feature_means(profiles, ["age"])
    aged = seg.feature_means(profiles, ["age"], include_sensitive=True, min_size=None)
    assert aged.loc["A", "age"] == pytest.approx(21.5)
    z = seg.feature_means(profiles, ["frequency"], min_size=None, zscore=True)
    std = profiles.frame["frequency"].std(ddof=0)
    assert z.loc["A", "frequency"] == pytest.approx((5 - 2.8) / std)
    assert z.loc["overall", "frequency"] == pytest.approx(0.0)


def test_min_size_suppression(seg, profiles, tags):
    table = seg.describe(profiles, tags, min_size=5)
    assert table["segment"].tolist() == ["B", SUPPRESSED]
    row = table.set_index("segment").loc[SUPPRESSED]
    assert row["size"] == 5 and row["top_tags"] == [] and row["top_features"] == []
    assert "2 segment(s) with fewer than min_size=5 users" in row["description"]
    # no mean of a small segment leaks through feature_means or tag_shares
    assert list(seg.feature_means(profiles, min_size=5).index) == ["B", "overall"]
    assert list(seg.tag_shares(tags, min_size=5)[0].index) == ["B"]
    # default min_size=10 suppresses everything here
    assert seg.describe(profiles)["segment"].tolist() == [SUPPRESSED]
    text = seg.report(profiles, tags, min_size=2)
    assert text.splitlines()[0] == "test segmentation of 10 users:"
    assert "C" not in [line.split()[0] for line in text.splitlines()[1:]]


def test_unassigned_users():
    labels = pd.Series(["A", None, "A"], index=[1, 2, 3])
    seg = Segmentation(labels)
    assert seg.segments == ["A"]
    assert seg.sizes().to_dict() == {"A": 2}
    out = seg.to_frame()["segment"]
    assert out.isna().tolist() == [False, True, False] and out[0] == "A"
    assert "(1 in no segment)" in seg.report(min_size=None)


def test_relabel(seg):
    merged = seg.relabel({"C": "B", "D": "B"})
    assert merged.segments == ["A", "B"]
    assert merged.sizes().to_dict() == {"A": 4, "B": 6}
    with pytest.raises(UnknownIdError, match=r"unknown segment\(s\) \['Z'\]"):
        seg.relabel({"Z": "A"})


def test_integer_labels_and_categorical_order():
    seg = Segmentation(pd.Series([2, 1, 2], index=["a", "b", "c"]))
    assert seg.segments == ["2", "1"]
    cat = pd.Series(pd.Categorical(["y", "x"], categories=["x", "y", "z"]), index=[1, 2])
    assert Segmentation(cat).segments == ["x", "y", "z"]


def test_bad_inputs(seg, profiles, tags):
    with pytest.raises(InvalidDtypeError, match="labels must be a pandas.Series"):
        Segmentation(["a"])
    with pytest.raises(DuplicateIdError, match=r"1 duplicated user id\(s\), e.g. \['x'\]"):
        Segmentation(pd.Series(["a", "b"], index=["x", "x"]))
    with pytest.raises(InvalidValueError, match=r"not listed in segments \['a'\]: \['b'\]"):
        Segmentation(pd.Series(["a", "b"], index=[1, 2]), segments=["a"])
    with pytest.raises(InvalidValueError, match="'suppressed' is reserved"):
        Segmentation(pd.Series(["suppressed"], index=[1]))
    with pytest.raises(InvalidParameterError, match=r"'min_size' parameter of Segmentation reports must be an int >= 1, got 0"):
        seg.sizes(min_size=0)
    with pytest.raises(MissingColumnError, match=r"\['nope'\]"):
        seg.feature_means(profiles, ["nope"])
    with pytest.raises(InvalidDtypeError, match=r"\['city'\] have dtype"):
        seg.feature_means(profiles, ["city"])
    short = FakeProfiles(profiles.frame.iloc[:5])
    with pytest.raises(UnknownIdError, match=r"profiles has no row for 5 user\(s\)"):
        seg.describe(short)
    short_tags = FakeUserTags(tags.matrix[:3], tags.user_ids[:3], TAGS)
    with pytest.raises(UnknownIdError, match=r"user_tags has no row for 7 user\(s\)"):
        seg.describe(user_tags=short_tags)
    with pytest.raises(InvalidDtypeError, match="user_tags must be a UserTags"):
        seg.describe(user_tags=object())
    with pytest.raises(InvalidParameterError, match=r"'rank_tags_by' parameter of describe must be one of"):
        seg.describe(user_tags=tags, rank_tags_by="share")
    with pytest.raises(InvalidParameterError, match="'threshold' parameter of tag_shares"):
        seg.tag_shares(tags, threshold=1.5)


def test_describe_names_identical_tags_once_and_hides_sensitive(seg):
    # "t_a/child" is held by exactly the users of "t_a"; "gender/f" is sensitive
    tags = ["t_a", "t_a/child", "gender/f", "t_x"]
    m = np.zeros((10, 4), dtype=np.float32)
    m[[0, 1, 2, 3], 0] = 1.0
    m[[0, 1, 2, 3], 1] = 1.0
    m[[0, 1, 2], 2] = 1.0
    m[[0, 1, 2, 3, 9, 8, 7, 6], 3] = 1.0  # same counts would not make it a duplicate
    user_tags = FakeUserTags(sp.csr_matrix(m), IDS.to_numpy(), tags)
    user_tags.sensitive_ids = frozenset({"gender/f"})
    table = seg.describe(user_tags=user_tags, min_size=None, n_tags=5).set_index("segment")
    assert [t for t, _, _ in table.loc["A", "top_tags"]] == ["t_a", "t_x"]
    table = seg.describe(user_tags=user_tags, min_size=None, n_tags=5, include_sensitive=True)
    assert [t for t, _, _ in table.set_index("segment").loc["A", "top_tags"]] == ["t_a", "gender/f", "t_x"]  # lift tie 2.5: column order


def test_tag_shares_hides_sensitive_tags_unless_asked(seg, tags):
    tags.sensitive_ids = frozenset({"t_b"})
    shares, overall = seg.tag_shares(tags, min_size=None)
    assert list(shares.columns) == ["t_a", "t_all", "t_rare"] and "t_b" not in overall.index
    shares, overall = seg.tag_shares(tags, min_size=None, include_sensitive=True)
    assert list(shares.columns) == TAGS and overall["t_b"] == pytest.approx(0.5)
    with pytest.raises(InvalidParameterError, match="include_sensitive"):
        seg.tag_shares(tags, include_sensitive="no")

"""RFM segment maps on literal score tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    UnknownIdError,
)
from persona_rec.segments import RFMSegmentMap, Segmentation, rfm_segments

# The documented default grid, written out cell by cell (rows R=5..1, columns FM=1..5).
DOC_GRID = {
    5: ["new", "potential", "potential", "champions", "champions"],
    4: ["new", "potential", "potential", "loyal", "loyal"],
    3: ["hibernating", "hibernating", "potential", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "at_risk"],
    1: ["lost", "lost", "at_risk", "at_risk", "at_risk"],
}


def frame_of(rows):
    r, f, m = zip(*rows)
    return pd.DataFrame(
        {"r_score": r, "f_score": f, "m_score": m},
        index=pd.Index([f"u{i}" for i in range(len(rows))], name="user_id"),
        dtype="float64",
    )


def test_default_grid_matches_documentation():
    grid = RFMSegmentMap().grid()
    for r, row in DOC_GRID.items():
        assert grid.loc[r].tolist() == row


def test_every_cell_with_f_equal_m():
    rows = [(r, x, x) for r in range(1, 6) for x in range(1, 6)]
    seg = rfm_segments(frame_of(rows))
    expected = [DOC_GRID[r][x - 1] for r, x, _ in rows]
    assert seg.labels.tolist() == expected
    assert seg.method == "rfm"


def test_fm_rounds_half_up_and_prospects():
    # (f+m)/2: 4.5 -> 5, 3.5 -> 4, 1.5 -> 2, 2.5 -> 3
    frame = frame_of([(5, 4, 5), (4, 3, 4), (1, 1, 2), (2, 2, 3), (np.nan, np.nan, np.nan)])
    labels = rfm_segments(frame).labels.tolist()
    assert labels == ["champions", "loyal", "lost", "at_risk", "prospect"]


def test_no_purchase_none_leaves_nan():
    frame = frame_of([(5, 5, 5), (np.nan, np.nan, np.nan)])
    seg = RFMSegmentMap(no_purchase=None).assign(frame)
    assert seg.labels.iloc[0] == "champions"
    assert pd.isna(seg.labels.iloc[1])
    assert "prospect" not in seg.segments
    assert int(seg.sizes().sum()) == 1


def test_sizes_list_every_segment_in_order():
    frame = frame_of([(5, 5, 5), (5, 5, 4), (1, 1, 1)])
    sizes = rfm_segments(frame).sizes()
    assert list(sizes.index) == [
        "champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost", "prospect",
    ]
    assert sizes["champions"] == 2 and sizes["lost"] == 1 and sizes["loyal"] == 0


def test_custom_map_on_f_only():
    smap = RFMSegmentMap(
        {"vip": "[4-5][4-5]", "recent": ["[4-5][1-3]"], "lapsed": "[1-3][1-5]"}, x="f", no_purchase="none_yet"
    )
    frame = frame_of([(5, 5, 1), (4, 2, 5), (2, 5, 5), (np.nan, np.nan, np.nan)])
    assert smap.assign(frame).labels.tolist() == ["vip", "recent", "lapsed", "none_yet"]
    # a set spec [135]
    odd = RFMSegmentMap({"odd": "[1-5][135]", "even": "[1-5][24]"}, x="m")
    assert odd.assign(frame_of([(3, 1, 3), (3, 1, 4)])).labels.tolist() == ["odd", "even"]


def test_rename_and_merge():
    smap = RFMSegmentMap().rename({"lost": "hibernating", "prospect": "lead"})
    assert smap.segments[-2:] == ["hibernating", "lead"]
    assert smap.assign(frame_of([(1, 1, 1)])).labels.tolist() == ["hibernating"]


def test_unknown_segment_labels_in_rename():
    with pytest.raises(UnknownIdError, match=r"unknown RFM segment label\(s\) \['vips'\]"):
        RFMSegmentMap().rename({"vips": "x"})


def test_overlap_and_holes_rejected():
    regions = dict(RFMSegmentMap().regions)
    regions["extra"] = "55"
    with pytest.raises(InvalidParameterError, match=r"cell R=5, FM=5 is claimed by both 'champions' and 'extra'"):
        RFMSegmentMap(regions)
    regions = dict(RFMSegmentMap().regions)
    del regions["lost"]
    with pytest.raises(InvalidParameterError, match=r"leave 2 cell\(s\).*R=1,FM=1"):
        RFMSegmentMap(regions)


@pytest.mark.parametrize("pattern", ["6[1-5]", "5", "[4-5", "a1", "5[4-5]x", ""])
def test_malformed_pattern(pattern):
    with pytest.raises(InvalidParameterError, match="is malformed"):
        RFMSegmentMap({"a": pattern, "b": "[1-5][1-5]"})


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match=r"'x' parameter of RFMSegmentMap must be one of"):
        RFMSegmentMap(x="rf")
    with pytest.raises(InvalidParameterError, match="clashes with no_purchase"):
        RFMSegmentMap({"prospect": "[1-5][1-5]"})
    with pytest.raises(InvalidParameterError, match="'suppressed'"):
        RFMSegmentMap({"suppressed": "[1-5][1-5]"})
    with pytest.raises(InvalidDtypeError, match="segment_map must be an RFMSegmentMap"):
        rfm_segments(frame_of([(1, 1, 1)]), segment_map={"a": "11"})


def test_bad_scores_and_columns():
    with pytest.raises(MissingColumnError, match=r"missing RFM score column\(s\) \['m_score'\]"):
        rfm_segments(frame_of([(1, 1, 1)]).drop(columns="m_score"))
    with pytest.raises(InvalidValueError, match=r"profiles\['r_score'\] must hold integer scores 1-5.*\[6\.0\]"):
        rfm_segments(frame_of([(6, 1, 1)]))
    with pytest.raises(InvalidValueError, match=r"with r_score but no f_score/m_score"):
        rfm_segments(frame_of([(3, np.nan, 1)]))
    with pytest.raises(InvalidDtypeError, match="must be a Profiles object"):
        rfm_segments([1, 2, 3])


def test_accepts_profiles_like_object(planted):
    profiles, _ = planted
    frame = profiles.frame.copy()
    n = len(frame)
    rng = np.random.default_rng(0)
    for c in ("r_score", "f_score", "m_score"):
        frame[c] = rng.integers(1, 6, n).astype(float)
    frame.loc[frame["n_events"] == 0, ["r_score", "f_score", "m_score"]] = np.nan
    profiles.frame = frame
    seg = rfm_segments(profiles)
    assert isinstance(seg, Segmentation)
    assert seg.sizes()["prospect"] == int((frame["n_events"] == 0).sum())
    assert int(seg.sizes().sum()) == n


def test_purchase_log_without_price_says_price_is_needed():
    """Price is optional, but the FM map needs m_score: the message said only
    'r_score but no f_score/m_score'. It names price and the way out (x='f')."""
    from persona_rec import Dataset
    from persona_rec.profiles import ProfileBuilder
    orders = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u3"], "item_id": ["a", "b", "a", "c"],
                           "timestamp": ["2011-01-01", "2011-02-01", "2011-01-15", "2011-03-01"],
                           "event": ["purchase"] * 4})
    profiles = ProfileBuilder.default().build(Dataset.from_frames(orders))
    with pytest.raises(InvalidValueError, match=r"no m_score for 3 of 3 buyer\(s\).*no price\. "
                       r"RFMSegmentMap\(x='fm'\) needs the monetary score: give the purchase "
                       r"events a 'price' column.*RFMSegmentMap\(x='f'\)"):
        rfm_segments(profiles)
    with pytest.raises(InvalidValueError, match=r"RFMSegmentMap\(x='m'\) needs the monetary"):
        rfm_segments(profiles, RFMSegmentMap(x="m"))
    by_f = rfm_segments(profiles, RFMSegmentMap(x="f"))  # what can be computed without price
    assert by_f.labels.notna().all()
    priced = ProfileBuilder.default().build(Dataset.from_frames(orders.assign(price=2.5)))
    assert rfm_segments(priced).labels.notna().all()

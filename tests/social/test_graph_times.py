"""SocialGraph.from_edges reads edge times and as_of with the Dataset's one parser."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.exceptions import InvalidValueError
from persona_rec.social import SocialGraph

JAN1, JAN5 = 1704067200, 1704412800  # 2024-01-01 and 2024-01-05 00:00 UTC, epoch seconds


def _edges(times: list) -> pd.DataFrame:
    return pd.DataFrame({"source": [1, 2], "target": [2, 3], "kind": "follow", "timestamp": times})


@pytest.mark.parametrize("times", [
    [JAN1, JAN5],
    [JAN1 * 1000, JAN5 * 1000],
    ["2024-01-01T01:00+01:00", "2024-01-05T01:00+01:00"],
    list(pd.to_datetime(["2024-01-01", "2024-01-05"])),
])
def test_as_of_leaves_out_future_edges_whatever_the_spelling(times: list) -> None:
    assert SocialGraph.from_edges(_edges(times), as_of="2024-01-04").n_edges == 1


@pytest.mark.parametrize("as_of", [JAN5 + 3600, "2024-01-05T02:00+01:00",
                                   pd.Timestamp("2024-01-05 01:00", tz="UTC")])
def test_epoch_and_aware_as_of(as_of: object) -> None:
    g = SocialGraph.from_edges(_edges(["2024-01-01", "2024-01-05"]), as_of=as_of)
    assert g.n_edges == 2
    g = SocialGraph.from_edges(_edges(["2024-01-01", "2024-01-05 02:00"]), as_of=as_of)
    assert g.n_edges == 1


def test_unparseable_edge_time_and_as_of_are_typed_errors() -> None:
    with pytest.raises(InvalidValueError, match=r"edges column 'timestamp' must hold valid times.*'later'"):
        SocialGraph.from_edges(_edges(["2024-01-01", "later"]))
    with pytest.raises(InvalidValueError, match="as_of must be a date/time"):
        SocialGraph.from_edges(_edges(["2024-01-01", "2024-01-05"]), as_of="someday")


def test_missing_edge_times_are_allowed_without_as_of() -> None:
    assert SocialGraph.from_edges(_edges(["2024-01-01", None])).n_edges == 2

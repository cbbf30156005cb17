"""segment_labels: one segment per user, or a typed error."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.exceptions import DuplicateIdError
from persona_rec.marketing import segment_labels


def test_segments_with_duplicate_users_are_rejected() -> None:
    segs = pd.DataFrame({"user_id": ["a", "a", "b"], "segment": ["x", "y", "x"]})
    with pytest.raises(DuplicateIdError, match=r"one segment per user_id.*\['a'\]"):
        segment_labels(segs, ["a", "b"])
    assert segment_labels(segs.iloc[1:], ["a", "c"]).tolist() == ["y", None]

"""Property tests: suppression never leaks a small segment and never loses users."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_rec.segments import SUPPRESSED, Segmentation

labels_st = st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(labels=labels_st, min_size=st.integers(1, 20))
def test_suppression_conserves_users_and_hides_small_segments(labels, min_size):
    seg = Segmentation(pd.Series(labels, index=np.arange(len(labels))), segments=list("abcde"))
    raw = seg.sizes()
    shown = seg.sizes(min_size=min_size)
    assert int(shown.sum()) == int(raw.sum()) == sum(v is not None for v in labels)
    named = shown.drop(SUPPRESSED, errors="ignore")
    assert ((named == 0) | (named >= min_size)).all()
    small = [s for s, n in raw.items() if 0 < n < min_size]
    assert (SUPPRESSED in shown.index) == bool(small)
    frame = seg.to_frame(min_size=min_size)
    counts = frame["segment"].value_counts()
    for s, n in shown.items():
        assert counts.get(s, 0) == n
    table = seg.describe(min_size=min_size)
    described = table[table["segment"] != SUPPRESSED]
    assert (described["size"] >= min_size).all()
    assert int(table["size"].sum()) == int(raw.sum())

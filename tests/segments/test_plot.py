"""The PNG plot helper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError
from persona_rec.segments import Segmentation, plot_segments

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def seg_and_frame():
    rng = np.random.default_rng(1)
    labels = np.repeat(["a", "b", "c", "tiny"], [40, 30, 20, 3])
    frame = pd.DataFrame(
        {
            "recency_days": rng.exponential(50, len(labels)),
            "frequency": rng.poisson(3, len(labels)).astype(float),
            "monetary": rng.lognormal(5, 1, len(labels)),
        },
        index=pd.Index(np.arange(len(labels)), name="user_id"),
    )
    frame.loc[labels == "a", "recency_days"] += 200
    return Segmentation(pd.Series(labels, index=frame.index), method="test"), frame


def test_writes_png_with_heatmap(tmp_path, seg_and_frame):
    seg, frame = seg_and_frame
    out = seg.plot(tmp_path / "segments.png", frame)
    assert out.read_bytes()[:8] == PNG_MAGIC
    sizes_only = plot_segments(seg, tmp_path / "sizes.png", min_size=None)
    assert sizes_only.stat().st_size > 1000


def test_plot_bad_arguments(tmp_path, seg_and_frame):
    seg, frame = seg_and_frame
    with pytest.raises(InvalidParameterError, match=r"must end in \.png"):
        seg.plot(tmp_path / "x.jpg", frame)
    with pytest.raises(InvalidParameterError, match="missing folder"):
        seg.plot(tmp_path / "no" / "x.png", frame)
    with pytest.raises(InvalidDtypeError, match="segmentation must be a Segmentation"):
        plot_segments("seg", tmp_path / "x.png")

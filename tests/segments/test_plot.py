"""The plot helper: returns a Figure, draws on given axes, writes a file only when asked."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError, MissingDependencyError
from persona_rec.segments import Segmentation, plot_segments

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

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
    fig = seg.plot(tmp_path / "segments.png", frame)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # sizes, heatmap, colour bar
    assert (tmp_path / "segments.png").read_bytes()[:8] == PNG_MAGIC
    plot_segments(seg, tmp_path / "sizes.png", min_size=None)
    assert (tmp_path / "sizes.png").stat().st_size > 1000
    plot_segments(seg, tmp_path / "sizes.svg")
    assert (tmp_path / "sizes.svg").read_text().lstrip().startswith("<?xml")


def test_returns_figure_without_writing(tmp_path, seg_and_frame):
    seg, frame = seg_and_frame
    fig = plot_segments(seg, profiles=frame)
    bars = fig.axes[0]
    # the 3-user segment is merged into "suppressed" (min_size=10 by default)
    assert [t.get_text() for t in bars.get_yticklabels()] == ["a", "b", "c", "suppressed"]
    assert [p.get_width() for p in bars.patches] == [40, 30, 20, 3]
    assert list(tmp_path.iterdir()) == []


def test_draws_on_given_axes(seg_and_frame):
    seg, frame = seg_and_frame
    host = Figure(figsize=(10, 4))
    left, right = host.subplots(1, 2)
    got = plot_segments(seg, ax=left, min_size=None, title="mine")
    assert got is host
    assert left.get_title() == "mine"
    assert len(left.patches) == 4 and not right.patches
    host2 = Figure(figsize=(10, 4))
    pair = host2.subplots(1, 2)
    assert plot_segments(seg, profiles=frame, ax=pair) is host2
    assert pair[1].images  # the heatmap went into the second axes


def test_plot_bad_arguments(tmp_path, seg_and_frame):
    seg, frame = seg_and_frame
    with pytest.raises(InvalidParameterError, match=r"must end in \.png, \.svg or \.pdf, got '.*x\.jpg'"):
        seg.plot(tmp_path / "x.jpg", frame)
    with pytest.raises(InvalidParameterError, match="missing folder"):
        seg.plot(tmp_path / "no" / "x.png", frame)
    with pytest.raises(InvalidDtypeError, match="segmentation must be a Segmentation"):
        plot_segments("seg", tmp_path / "x.png")
    with pytest.raises(InvalidDtypeError, match="'ax' parameter of plot_segments must be a matplotlib Axes, got str"):
        plot_segments(seg, ax="left")
    one = Figure().subplots()
    with pytest.raises(InvalidParameterError, match=r"must be a pair \(sizes_ax, heatmap_ax\).*got 1 axes"):
        plot_segments(seg, profiles=frame, ax=one)


def test_missing_matplotlib_is_a_typed_error(monkeypatch, seg_and_frame):
    seg, _ = seg_and_frame
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for name in [m for m in sys.modules if m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"plot_segments needs matplotlib.*persona-rec\[plot\]") as info:
        plot_segments(seg)
    assert isinstance(info.value, ImportError)

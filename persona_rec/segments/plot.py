"""Plot of a segmentation: sizes (bar chart) and a feature profile heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._plotting import check_axes, check_path, figure_of, new_figure, save_figure
from .._types import ProfileSource
from .._validation import check_instance, check_int
from ..exceptions import InvalidParameterError
from ._result import DEFAULT_MIN_SIZE, SUPPRESSED, Segmentation

__all__ = ["plot_segments"]


def plot_segments(
    segmentation: Segmentation,
    path: str | Path | None = None,
    profiles: ProfileSource | None = None,
    *,
    ax: Any = None,
    columns: Sequence[str] | None = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    include_sensitive: bool = False,
    title: str | None = None,
    clip: float = 2.5,
    dpi: int = 120,
) -> Any:
    """Draw segment sizes (bars) and z-scored feature means (heatmap).

    The left panel shows the number of users per segment (small segments
    merged into ``"suppressed"`` per ``min_size``). The right panel, drawn
    when ``profiles`` is given, shows for each reported segment and feature
    ``(segment mean - overall mean) / overall std`` on a diverging scale
    clipped at ``+-clip``, annotated with the raw segment mean.

    Parameters
    ----------
    segmentation : Segmentation
        What to plot.
    path : str or pathlib.Path, optional
        Also write the figure to this file (``.png``, ``.svg`` or ``.pdf``;
        the folder must exist). Nothing is written when None.
    profiles : Profiles or pandas.DataFrame, optional
        Profiles for the heatmap; sizes only when None.
    ax : matplotlib Axes or pair of Axes, optional
        Draw into these axes instead of a new figure: one Axes for the sizes
        alone (``profiles=None``), a pair ``(sizes_ax, heatmap_ax)`` with
        ``profiles``. ``title`` then titles the sizes axes.
    columns : sequence of str, optional
        Feature columns (default as in :meth:`Segmentation.feature_means`).
    min_size : int or None, default 10
        Privacy threshold (see :meth:`Segmentation.sizes`).
    include_sensitive : bool, default False
        Whether sensitive columns may be shown.
    title : str, optional
        Figure title (default: method and user count).
    clip : float, default 2.5
        Colour scale limit in standard deviations.
    dpi : int, default 120
        Resolution of a written PNG.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the one holding ``ax`` when given).

    Raises
    ------
    InvalidDtypeError
        ``segmentation`` is not a Segmentation, or ``ax`` is not an Axes / a
        pair of Axes.
    InvalidParameterError
        ``path`` does not end in ``.png``, ``.svg`` or ``.pdf``, its folder
        does not exist, or ``ax`` has the wrong number of axes for
        ``profiles``.
    MissingDependencyError
        matplotlib is not installed (``pip install 'persona-rec[plot]'``).

    Examples
    --------
    >>> import pandas as pd
    >>> seg = Segmentation(pd.Series(["a"] * 12 + ["b"] * 3, index=pd.RangeIndex(15, name="user_id")))
    >>> fig = plot_segments(seg, min_size=10)  # no file written
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'suppressed']
    """
    check_instance(segmentation, Segmentation, "segmentation must be a Segmentation")
    path = check_path(path, "plot_segments")
    dpi = check_int(dpi, "dpi", minimum=20, owner="plot_segments")
    sizes = segmentation.sizes(min_size=min_size)
    sizes = sizes[sizes > 0]

    means = z = None
    if profiles is not None:
        means = segmentation.feature_means(
            profiles, columns, min_size=min_size, include_sensitive=include_sensitive
        )
        z = segmentation.feature_means(
            profiles, columns, min_size=min_size, include_sensitive=include_sensitive, zscore=True
        )
        means = means.drop(index="overall")
        z = z.drop(index="overall")

    n_seg = max(len(sizes), 1)
    n_feat = 0 if z is None else z.shape[1]
    owned = ax is None
    if owned:
        height = max(3.0, 0.45 * n_seg + 1.8)
        if z is None:
            fig = new_figure("plot_segments", 7.0, height)
            ax_bar, ax_heat = fig.subplots(), None
        else:
            width = 4.5 + max(5.0, 0.75 * n_feat)
            fig = new_figure("plot_segments", width, height)
            ax_bar, ax_heat = fig.subplots(
                1, 2, gridspec_kw={"width_ratios": [1.0, max(1.5, 0.16 * n_feat)]}
            )
    else:
        ax_bar, ax_heat = _split_axes(ax, z is not None)
        fig = figure_of(ax_bar)
    labels = [str(s) for s in sizes.index]
    ypos = np.arange(len(labels))
    colors = ["#b0b0b0" if s == SUPPRESSED else "#4C72B0" for s in labels]
    ax_bar.barh(ypos, sizes.to_numpy(), color=colors)
    ax_bar.set_yticks(ypos, labels)
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel("users")
    ax_bar.set_title("segment sizes")
    total = max(int(sizes.sum()), 1)
    xmax = float(sizes.max()) if len(sizes) else 1.0
    for y, v in zip(ypos, sizes.to_numpy()):
        ax_bar.text(v + 0.01 * xmax, y, f"{v} ({100 * v / total:.0f}%)", va="center", fontsize=8)
    ax_bar.set_xlim(0, xmax * 1.35)
    ax_bar.spines[["top", "right"]].set_visible(False)

    if ax_heat is not None and z is not None and means is not None:
        rows = [s for s in labels if s in z.index]
        zz = z.loc[rows].to_numpy(dtype=np.float64)
        mm = means.loc[rows].to_numpy(dtype=np.float64)
        shown = np.clip(np.nan_to_num(zz, nan=0.0), -clip, clip)
        im = ax_heat.imshow(shown, cmap="RdBu_r", vmin=-clip, vmax=clip, aspect="auto")
        ax_heat.set_yticks(np.arange(len(rows)), rows)
        ax_heat.set_xticks(np.arange(n_feat), list(z.columns), rotation=40, ha="right", fontsize=8)
        for i in range(len(rows)):
            for j in range(n_feat):
                if np.isfinite(mm[i, j]):
                    v = mm[i, j]
                    txt = f"{v:.0f}" if abs(v) >= 100 else (f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}")
                    ax_heat.text(
                        j, i, txt, ha="center", va="center", fontsize=7,
                        color="white" if abs(shown[i, j]) > 0.6 * clip else "black",
                    )
        ax_heat.set_title("feature means (colour: z-score vs all users)")
        cbar = fig.colorbar(im, ax=ax_heat, fraction=0.03, pad=0.02)
        cbar.set_label("std. deviations from overall mean")
    n_users = segmentation.n_users
    if owned:
        fig.suptitle(title or f"{segmentation.method} segments ({n_users} users)")
        fig.tight_layout()
    elif title is not None:
        ax_bar.set_title(title)
    save_figure(fig, path, "plot_segments", dpi=dpi)
    return fig


def _split_axes(ax: Any, heatmap: bool) -> tuple[Any, Any]:
    """Check ``ax`` (one Axes, or a pair when a heatmap is drawn)."""
    if heatmap:
        axes = list(np.asarray(ax, dtype=object).ravel()) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
        if len(axes) != 2:
            raise InvalidParameterError(
                f"The 'ax' parameter of plot_segments must be a pair (sizes_ax, heatmap_ax) when "
                f"profiles are given, got {len(axes)} axes."
            )
        return check_axes(axes[0], "ax", "plot_segments"), check_axes(axes[1], "ax", "plot_segments")
    if isinstance(ax, (Sequence, np.ndarray)):
        axes = list(np.asarray(ax, dtype=object).ravel())
        if len(axes) != 1:
            raise InvalidParameterError(
                f"The 'ax' parameter of plot_segments must be one Axes when profiles is None, "
                f"got {len(axes)} axes."
            )
        ax = axes[0]
    return check_axes(ax, "ax", "plot_segments"), None

"""PNG plot of a segmentation: sizes (bar chart) and a feature profile heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidDtypeError, InvalidParameterError
from ._result import DEFAULT_MIN_SIZE, SUPPRESSED, Segmentation

__all__ = ["plot_segments"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_segments needs matplotlib; install it with `pip install persona-rec[plot]`."
        ) from err
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_segments(
    segmentation: Segmentation,
    path: str | Path,
    profiles: Any = None,
    *,
    columns: Sequence[str] | None = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    include_sensitive: bool = False,
    title: str | None = None,
    clip: float = 2.5,
    dpi: int = 120,
) -> Path:
    """Save a PNG: segment sizes (bars) and z-scored feature means (heatmap).

    The left panel shows the number of users per segment (small segments
    merged into ``"suppressed"`` per ``min_size``). The right panel, drawn
    when ``profiles`` is given, shows for each reported segment and feature
    ``(segment mean - overall mean) / overall std`` on a diverging scale
    clipped at ``+-clip``, annotated with the raw segment mean.

    Parameters
    ----------
    segmentation : Segmentation
        What to plot.
    path : str or pathlib.Path
        Output PNG file (parent folder must exist).
    profiles : Profiles or pandas.DataFrame, optional
        Profiles for the heatmap; sizes only when None.
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
        Resolution.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InvalidDtypeError
        ``segmentation`` is not a Segmentation.
    InvalidParameterError
        ``path`` does not end in ``.png`` or its folder does not exist.
    """
    if not isinstance(segmentation, Segmentation):
        raise InvalidDtypeError(
            f"segmentation must be a Segmentation, got {type(segmentation).__name__}."
        )
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InvalidParameterError(f"The 'path' parameter of plot_segments must end in .png, got {str(path)!r}.")
    if not path.parent.is_dir():
        raise InvalidParameterError(
            f"The 'path' parameter of plot_segments points into a missing folder: {str(path.parent)!r}."
        )
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

    plt = _pyplot()
    n_seg = max(len(sizes), 1)
    n_feat = 0 if z is None else z.shape[1]
    height = max(3.0, 0.45 * n_seg + 1.8)
    if z is None:
        fig, ax_bar = plt.subplots(figsize=(7.0, height))
        ax_heat = None
    else:
        width = 4.5 + max(5.0, 0.75 * n_feat)
        fig, (ax_bar, ax_heat) = plt.subplots(
            1, 2, figsize=(width, height), gridspec_kw={"width_ratios": [1.0, max(1.5, 0.16 * n_feat)]}
        )
    try:
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
        fig.suptitle(title or f"{segmentation.method} segments ({n_users} users)")
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
    return path

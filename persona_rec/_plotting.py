"""Shared plumbing of the plot helpers: optional matplotlib, figures, files, SVG.

Every public plot helper of persona_rec follows one contract: it draws on the
``ax`` it is given (or on a new figure of its own), returns the matplotlib
:class:`~matplotlib.figure.Figure`, and writes a file only when ``path`` is
given. New figures are created without :mod:`matplotlib.pyplot` (a bare
``Figure`` with an Agg canvas), so nothing is registered in pyplot's global
figure list and nothing needs closing.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ._validation import check_instance
from .exceptions import InvalidParameterError, MissingDependencyError

__all__ = [
    "FILE_SUFFIXES",
    "require_matplotlib",
    "new_figure",
    "figure_of",
    "check_axes",
    "check_path",
    "save_figure",
    "figure_to_svg",
]

#: File types the plot helpers write (by path suffix).
FILE_SUFFIXES: tuple[str, ...] = (".png", ".svg", ".pdf")


def require_matplotlib(feature: str) -> Any:
    """Import matplotlib or raise a :class:`MissingDependencyError` naming ``feature``.

    Parameters
    ----------
    feature : str
        What needs it, e.g. ``"plot_segments"``; used in the message.

    Returns
    -------
    module
        The ``matplotlib`` module.
    """
    try:
        import matplotlib
    except ImportError as err:
        raise MissingDependencyError(
            f"{feature} needs matplotlib, which is not installed; install the plot extra: "
            f"pip install 'persona-rec[plot]'."
        ) from err
    return matplotlib


def new_figure(feature: str, width: float, height: float, dpi: int = 100) -> Any:
    """A pyplot-free ``Figure`` with an Agg canvas.

    Parameters
    ----------
    feature : str
        Name used in the missing-matplotlib message.
    width, height : float
        Size in inches.
    dpi : int, default 100
        Resolution.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_matplotlib(feature)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def check_axes(ax: Any, name: str, owner: str) -> Any:
    """Check that ``ax`` is a matplotlib ``Axes``.

    Parameters
    ----------
    ax : object
        The value to check.
    name : str
        Argument name for the message.
    owner : str
        Function name for the message.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` itself.

    Raises
    ------
    InvalidDtypeError
        ``ax`` is not an Axes.
    """
    require_matplotlib(owner)
    from matplotlib.axes import Axes

    check_instance(ax, Axes, f"The '{name}' parameter of {owner} must be a matplotlib Axes")
    return ax


def figure_of(ax: Any) -> Any:
    """The figure an ``Axes`` belongs to (the root figure for sub-figures)."""
    fig = ax.figure
    root = getattr(fig, "figure", None)
    return root if root is not None and root is not fig else fig


def axes_or_new_figure(ax: Any, owner: str, width: float, height: float) -> tuple[Any, Any, bool]:
    """The figure and axes a plot helper draws on, and whether it made the figure.

    ``ax=None`` makes a new ``width`` x ``height`` inch figure with one axes
    (the helper then owns its layout); otherwise ``ax`` is checked and drawn on.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes, bool)
    """
    if ax is None:
        fig = new_figure(owner, width, height)
        return fig, fig.subplots(), True
    ax = check_axes(ax, "ax", owner)
    return figure_of(ax), ax, False


def finish_figure(fig: Any, owned: bool, path: str | Path | None, owner: str, dpi: int) -> Any:
    """Tighten the layout of a figure the helper made, write it when ``path`` is set, return it."""
    if owned:
        fig.tight_layout()
    save_figure(fig, path, owner, dpi=dpi)
    return fig


def check_path(path: str | Path | None, owner: str) -> Path | None:
    """Validate an optional output file path (checked before any drawing).

    Parameters
    ----------
    path : str, pathlib.Path or None
        Output file ending in ``.png``, ``.svg`` or ``.pdf``.
    owner : str
        Function name for error messages.

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    InvalidDtypeError
        ``path`` is neither None, str nor Path.
    InvalidParameterError
        The suffix is not supported or the folder does not exist.
    """
    if path is None:
        return None
    check_instance(path, (str, Path), f"The 'path' parameter of {owner} must be a str or pathlib.Path")
    p = Path(path)
    if p.suffix.lower() not in FILE_SUFFIXES:
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} must end in {', '.join(FILE_SUFFIXES[:-1])} or "
            f"{FILE_SUFFIXES[-1]}, got {str(p)!r}."
        )
    if not p.parent.is_dir():
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} points into a missing folder: {str(p.parent)!r}."
        )
    return p


def save_figure(fig: Any, path: str | Path | None, owner: str, *, dpi: int = 120) -> Path | None:
    """Write ``fig`` to ``path`` when it is given; the format follows the suffix.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str, pathlib.Path or None
        Output file ending in ``.png``, ``.svg`` or ``.pdf``; None writes nothing.
    owner : str
        Function name for error messages.
    dpi : int, default 120
        Resolution of raster output.

    Returns
    -------
    pathlib.Path or None
        The written file.

    Raises
    ------
    InvalidParameterError
        The suffix is not supported or the folder does not exist.
    """
    p = check_path(path, owner)
    if p is None:
        return None
    fig.savefig(p, dpi=dpi, metadata=_no_date(p.suffix.lower()))
    return p


def _no_date(suffix: str) -> dict[str, Any]:
    # Reproducible files: no creation timestamp in SVG/PDF metadata.
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}


_ID = re.compile(r'\bid="([^"]+)"')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'href="#([^"]+)"')


def figure_to_svg(fig: Any, id_prefix: str) -> str:
    """Render ``fig`` as an inline ``<svg>`` element for an HTML page.

    Text stays text (``svg.fonttype = "none"``), the creator metadata and
    comments are dropped (no date, no link), and every internal id (and reference to it) is prefixed with
    ``id_prefix`` so several figures can live in one document without id
    clashes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    id_prefix : str
        Prefix for internal ids, e.g. the chart's element id.

    Returns
    -------
    str
        The ``<svg ...>...</svg>`` markup (no XML prolog).
    """
    matplotlib = require_matplotlib("figure_to_svg")
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": id_prefix}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = _COMMENT.sub("", _METADATA.sub("", svg))  # creator/licence metadata: links, not content
    svg = _ID.sub(lambda m: f'id="{id_prefix}-{m.group(1)}"', svg)
    svg = _URL.sub(lambda m: f"url(#{id_prefix}-{m.group(1)})", svg)
    svg = _HREF.sub(lambda m: f'href="#{id_prefix}-{m.group(1)}"', svg)
    return svg.strip()

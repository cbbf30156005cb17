"""Charts of the visual report; each returns a Figure and accepts ``ax=``.

Every count of users drawn here goes through the same small-group rule as
segment reports: a group with ``1 <= n < min_size`` users is not drawn with
its size (it is labelled ``"<min_size"`` or merged into ``"suppressed"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .._plotting import axes_or_new_figure, check_path, finish_figure
from .._text import fill_doc
from .._validation import check_bool, check_instance, check_int
from ..columns import Columns
from ..exceptions import InvalidDtypeError, InvalidParameterError, MissingColumnError
from ..profiles.builders import LIFECYCLE_STAGES
from ..profiles.profiles import Profiles
from ..segments import DEFAULT_MIN_SIZE, SUPPRESSED, Segmentation
from ..segments.rfm import RFMSegmentMap
from ..tags.tagger import UserTags
from ..tags.taxonomy import LAYERS

__all__ = [
    "plot_rfm_map",
    "plot_lifecycle_funnel",
    "plot_top_tags",
    "plot_price_bands",
    "plot_categories",
    "plot_campaign_tactics",
    "plot_audience_funnel",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_BLUE = "#4C72B0"
_ORANGE = "#DD8452"
_GREY = "#b0b0b0"
_LAYER_COLOURS = dict(zip(LAYERS, ["#8172B3", "#4C72B0", "#55A868", "#DD8452", "#C44E52", "#937860"]))


# ------------------------------------------------------------------ helpers
def check_min_size(min_size: Any, owner: str) -> int | None:
    """``min_size`` is None (no suppression) or an int >= 1."""
    if min_size is None:
        return None
    return check_int(min_size, "min_size", minimum=1, owner=owner)


def is_small(n: Any, min_size: int | None) -> Any:
    """Mask of group sizes that must not be shown (``1 <= n < min_size``)."""
    n = np.asarray(n)
    if min_size is None:
        return np.zeros(n.shape, dtype=bool)
    return (n >= 1) & (n < min_size)


def suppress_counts(counts: pd.Series, min_size: int | None) -> pd.Series:
    """Merge groups with ``1 <= n < min_size`` into one ``"suppressed"`` entry (their total)."""
    small = is_small(counts.to_numpy(), min_size)
    if not small.any():
        return counts
    out = counts[~small].copy()
    out[SUPPRESSED] = int(counts[small].sum())
    return out


_CHART_PARAMETERS = """\
ax : matplotlib Axes, optional
    Draw here instead of on a new figure.
min_size : int or None, default 10
    {rule}
path : str or pathlib.Path, optional
    {path}
dpi : int, default 120
    Resolution of a written PNG.

Returns
-------
matplotlib.figure.Figure"""


def _chart_doc(rule: str, path: str = "Also write the figure.") -> Callable[[_F], _F]:
    """Fill the ``{chart_parameters}`` line of a chart's docstring with the parameters every chart shares.

    ``rule`` says what ``min_size`` hides in this chart, ``path`` what ``path`` writes.
    """
    return fill_doc(chart_parameters=_CHART_PARAMETERS.format(rule=rule, path=path))


def _checked(path: Any, min_size: Any, owner: str) -> tuple[Path | None, int | None]:
    """The ``path`` and ``min_size`` arguments every chart takes, validated."""
    return check_path(path, owner), check_min_size(min_size, owner)


def check_profiles(profiles: Any, owner: str) -> Profiles:
    """The ``profiles`` argument of ``owner``, checked to be a :class:`Profiles`."""
    return check_instance(
        profiles, Profiles,
        f"The 'profiles' parameter of {owner} must be a persona_rec.profiles.Profiles (from ProfileBuilder.build)",
    )


def _clean(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)


def _labelled_bars(ax: Any, labels: list[str], widths: Any, texts: list[str], *, colours: list[str],
                   xmax: float, room: float, xlabel: str) -> None:
    """Horizontal bars top-down, each with its text just right of its end; the x axis runs to ``room * xmax``."""
    y = np.arange(len(labels))
    ax.barh(y, widths, color=colours)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    for yy, w, text in zip(y, widths, texts):
        ax.text(w + 0.01 * xmax, yy, text, va="center", fontsize=8)
    ax.set_xlim(0, room * xmax)
    ax.set_xlabel(xlabel)
    _clean(ax)


# ------------------------------------------------------------------ RFM map
@_chart_doc('Cells with ``1 <= users < min_size`` show ``"<min_size"``, not their count.', path='Also write the figure (``.png``, ``.svg`` or ``.pdf``).')
def plot_rfm_map(
    profiles: Profiles,
    segments: Segmentation | None = None,
    *,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """The RFM segment map: users per (R, FM) cell, with the segment of each cell.

    Rows are the recency score R (5 = most recent, top), columns the
    frequency/monetary score (``x`` of the segment map); colour and number
    give the users in the cell, small print the segment name, and thick
    lines the segment borders.

    Parameters
    ----------
    profiles : Profiles
        Needs ``r_score``, ``f_score`` and ``m_score``.
    segments : Segmentation, optional
        An RFM segmentation (``method="rfm"``) whose grid names the cells;
        default the :class:`~persona_rec.segments.RFMSegmentMap` default map.
    {chart_parameters}

    Raises
    ------
    InvalidDtypeError
        ``profiles`` is not a Profiles.
    MissingColumnError
        A score column is missing.
    """
    owner = "plot_rfm_map"
    path, min_size = _checked(path, min_size, owner)
    frame = check_profiles(profiles, owner).frame
    grid = RFMSegmentMap().grid()
    x_name = "fm"
    if isinstance(segments, Segmentation) and segments.method == "rfm" and "grid" in segments.info:
        grid = segments.info["grid"]
        x_name = str(segments.info.get("x", "fm"))
    needed = ["r_score"] + (["f_score", "m_score"] if x_name == "fm" else [f"{x_name}_score"])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"profiles is missing RFM score column(s) {missing} needed by {owner}.")
    r = frame["r_score"].to_numpy(dtype=float)
    if x_name == "fm":
        xs = np.floor((frame["f_score"].to_numpy(dtype=float) + frame["m_score"].to_numpy(dtype=float)) / 2 + 0.5)
    else:
        xs = frame[f"{x_name}_score"].to_numpy(dtype=float)
    ok = np.isfinite(r) & np.isfinite(xs)
    counts = np.zeros((5, 5), dtype=np.int64)  # row 0 = R 5
    np.add.at(counts, (5 - r[ok].astype(np.int64), xs[ok].astype(np.int64) - 1), 1)
    names = grid.to_numpy(dtype=object)

    fig, ax, owned = axes_or_new_figure(ax, owner, 7.5, 5.6)
    hidden = is_small(counts, min_size)
    shown = np.where(hidden, 0, counts).astype(float)
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=max(float(shown.max()), 1.0), aspect="auto")
    for i in range(5):
        for j in range(5):
            n = counts[i, j]
            text = f"<{min_size}" if hidden[i, j] else f"{n:,}"
            dark = shown[i, j] > 0.6 * max(float(shown.max()), 1.0)
            colour = "white" if dark else "black"
            ax.text(j, i - 0.12, text, ha="center", va="center", fontsize=11, fontweight="bold", color=colour)
            ax.text(j, i + 0.22, str(names[i, j]), ha="center", va="center", fontsize=7.5, color=colour)
    for i in range(5):  # segment borders
        for j in range(5):
            if j < 4 and names[i, j] != names[i, j + 1]:
                ax.plot([j + 0.5, j + 0.5], [i - 0.5, i + 0.5], color="black", lw=2)
            if i < 4 and names[i, j] != names[i + 1, j]:
                ax.plot([j - 0.5, j + 0.5], [i + 0.5, i + 0.5], color="black", lw=2)
    ax.set_xticks(range(5), [str(v) for v in range(1, 6)])
    ax.set_yticks(range(5), [str(v) for v in range(5, 0, -1)])
    ax.set_xlabel(f"{x_name.upper()} score (5 = buys most often / spends most)")
    ax.set_ylabel("R score (5 = bought most recently)")
    n_none = int((~ok).sum())
    ax.set_title(f"RFM map: {int(ok.sum()):,} users with R and {x_name.upper()} scores"
                 + (f" ({n_none:,} without)" if n_none else ""))
    return finish_figure(fig, owned, path, owner, dpi)


# ------------------------------------------------------------- lifecycle
@_chart_doc('Stages with ``1 <= users < min_size`` get no bar, only ``"<min_size"``.')
def plot_lifecycle_funnel(
    profiles: Profiles,
    *,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """Users per lifecycle stage, drawn as a centred funnel.

    Stages in lifecycle order (prospect, new, active, at risk, churned,
    reactivated; see ``lifecycle_stage`` in ``docs/profiles.md``).

    Parameters
    ----------
    profiles : Profiles
        Needs ``lifecycle_stage``.
    {chart_parameters}
    """
    owner = "plot_lifecycle_funnel"
    path, min_size = _checked(path, min_size, owner)
    frame = check_profiles(profiles, owner).frame
    if "lifecycle_stage" not in frame.columns:
        raise MissingColumnError(f"profiles is missing column 'lifecycle_stage' needed by {owner}.")
    stage = frame["lifecycle_stage"].astype(object)
    order = list(LIFECYCLE_STAGES) + sorted({str(s) for s in stage.dropna()} - set(LIFECYCLE_STAGES))
    counts = stage.astype(str).where(stage.notna()).value_counts().reindex(order, fill_value=0)
    total = max(int(counts.sum()), 1)
    fig, ax, owned = axes_or_new_figure(ax, owner, 7.5, 0.55 * len(order) + 1.4)
    widest = max(int(counts.max()), 1)
    hidden = is_small(counts.to_numpy(), min_size)
    for y, (name, n) in enumerate(counts.items()):
        if hidden[y]:
            ax.text(widest / 2, y, f"{name}: <{min_size} users (suppressed)", ha="center", va="center",
                    fontsize=9, color="0.35")
            continue
        ax.barh(y, n, left=(widest - n) / 2, color=_BLUE if n else _GREY, height=0.72)
        label = f"{name}: {n:,} ({100 * n / total:.0f}%)"
        inside = n > 0.45 * widest
        ax.text(widest / 2 if inside else (widest + n) / 2 + 0.01 * widest, y, label,
                ha="center" if inside else "left", va="center", fontsize=9,
                color="white" if inside else "black")
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(-0.02 * widest, 1.3 * widest)
    ax.set_xticks([])
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    ax.set_title(f"Lifecycle stages of {int(counts.sum()):,} users")
    return finish_figure(fig, owned, path, owner, dpi)


# ------------------------------------------------------------------ tags
@_chart_doc('Tags held by ``1 <= users < min_size`` are not drawn.')
def plot_top_tags(
    user_tags: UserTags,
    *,
    n: int = 5,
    ax: Any = None,
    include_sensitive: bool = False,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """The most held tags of each taxonomy layer (share of users).

    Layer roots and pure grouping nodes (tags without a rule, held only
    through roll-up) are left out; bars are coloured by layer, in layer order (basic, behaviour, interest, preference, value,
    lifecycle).

    Parameters
    ----------
    user_tags : UserTags
        Tags per user (with a taxonomy for layers).
    n : int, default 5
        Tags per layer.
    include_sensitive : bool, default False
        Whether sensitive tags (age band, gender, ...) may be drawn.
    {chart_parameters}
    """
    owner = "plot_top_tags"
    path, min_size = _checked(path, min_size, owner)
    table = top_tags_table(user_tags, n=n, include_sensitive=include_sensitive, min_size=min_size)
    fig, ax, owned = axes_or_new_figure(ax, owner, 8.0, 0.24 * max(len(table), 1) + 1.5)
    y = np.arange(len(table))
    colours = [_LAYER_COLOURS.get(str(lyr), _BLUE) for lyr in table["layer"]]
    ax.barh(y, table["share"].to_numpy(dtype=float), color=colours)
    ax.set_yticks(y, [f"{name}  [{lyr}]" for name, lyr in zip(table["name"], table["layer"])], fontsize=8)
    ax.invert_yaxis()
    for yy, share, users in zip(y, table["share"], table["n_users"]):
        ax.text(share + 0.005, yy, f"{share:.0%} ({users:,})", va="center", fontsize=7)
    ax.set_xlim(0, min(1.0, float(table["share"].max() if len(table) else 1.0) * 1.25 + 0.05))
    ax.set_xlabel("share of users holding the tag")
    _clean(ax)
    hidden = table.attrs.get("n_sensitive_hidden", 0)
    ax.set_title(f"Top {n} tags per layer" + (f" ({hidden} sensitive tags hidden)" if hidden else ""))
    return finish_figure(fig, owned, path, owner, dpi)


def top_tags_table(
    user_tags: UserTags, *, n: int = 5, include_sensitive: bool = False,
    min_size: int | None = DEFAULT_MIN_SIZE,
) -> pd.DataFrame:
    """Rows of :func:`plot_top_tags`: ``tag_id, name, layer, n_users, share``.

    ``attrs`` holds ``n_sensitive_hidden`` and ``n_small_hidden``.
    """
    check_instance(user_tags, UserTags, "The 'tags' argument must be a persona_rec.tags.UserTags (from Tagger.assign)")
    n = check_int(n, "n", minimum=1, owner="plot_top_tags")
    check_bool(include_sensitive, "include_sensitive", owner="plot_top_tags", error=InvalidDtypeError)
    counts = user_tags.counts("tag", include_sensitive=True)
    sensitive = counts["sensitive"].to_numpy(dtype=bool)
    keep = counts["n_users"].to_numpy() > 0
    tax = user_tags.taxonomy
    if tax is not None:  # drop layer roots and pure grouping nodes (held only through roll-up)
        keep &= np.array([tax[t].rule is not None for t in counts[Columns.TAG]], dtype=bool)
    n_sensitive = int((keep & sensitive).sum()) if not include_sensitive else 0
    if not include_sensitive:
        keep &= ~sensitive
    small = is_small(counts["n_users"].to_numpy(), min_size) & keep
    keep &= ~small
    sub = counts[keep]
    order = {lyr: i for i, lyr in enumerate(LAYERS)}
    sub = sub.assign(_layer=sub["layer"].map(lambda v: order.get(v, len(order))))
    sub = sub.sort_values(["_layer", "n_users", Columns.TAG], ascending=[True, False, True], kind="stable")
    out = sub.groupby("_layer", sort=True).head(n)[[Columns.TAG, "name", "layer", "n_users", "share"]]
    out = out.reset_index(drop=True)
    twice = out["name"].duplicated(keep=False)
    out.loc[twice, "name"] = out.loc[twice, Columns.TAG]
    out.attrs["n_sensitive_hidden"] = n_sensitive
    out.attrs["n_small_hidden"] = int(small.sum())
    return out


# ----------------------------------------------------- price / categories
def affinity_table(
    profiles: Profiles, kind: str, top_column: str, *, min_size: int | None = DEFAULT_MIN_SIZE,
    n: int | None = None,
) -> pd.DataFrame:
    """Per value of an affinity kind: ``activity_share`` and ``users_share``.

    ``activity_share`` is the mean over users with activity of their
    affinity row (the share of their weighted events in that value);
    ``users_share`` is the share of users whose ``top_column`` is that value
    (NaN when ``1 <= users < min_size``); ``n_users`` likewise (``<NA>``).
    """
    if kind not in profiles.affinities:
        raise MissingColumnError(
            f"profiles has no {kind!r} affinity; it has {sorted(profiles.affinities)}."
        )
    matrix, names = profiles.affinities[kind]
    active = np.asarray(matrix.sum(axis=1)).ravel() > 0
    n_active = int(active.sum())
    mass = np.asarray(matrix[active].sum(axis=0)).ravel() / max(n_active, 1)
    out = pd.DataFrame({"value": list(names), "activity_share": mass})
    if top_column in profiles.frame.columns:
        users = profiles.frame[top_column].astype(object).value_counts()
        users = users.reindex(out["value"], fill_value=0).to_numpy()
    else:
        users = np.zeros(len(out), dtype=np.int64)
    hidden = is_small(users, min_size)
    out["n_users"] = pd.array(np.where(hidden, 0, users), dtype="Int64")
    out.loc[hidden, "n_users"] = pd.NA
    out["users_share"] = np.where(hidden, np.nan, users / max(len(profiles.frame), 1))
    if n is not None:
        out = out.sort_values("activity_share", ascending=False, kind="stable").head(n)
    out.attrs["n_active_users"] = n_active
    return out.reset_index(drop=True)


def _two_series(ax: Any, table: pd.DataFrame, horizontal: bool, min_size: int | None) -> None:
    pos = np.arange(len(table))
    h = 0.38
    act = table["activity_share"].to_numpy(dtype=float)
    usr = table["users_share"].to_numpy(dtype=float)
    bar = ax.barh if horizontal else ax.bar
    bar(pos - h / 2, act, h, color=_BLUE, label="share of activity (mean over active users)")
    bar(pos + h / 2, np.nan_to_num(usr), h, color=_ORANGE, label="share of users for whom it is the top value")
    for p, a, u in zip(pos, act, usr):
        u_text = f"{u:.0%}" if np.isfinite(u) else f"<{min_size} users"
        if horizontal:
            ax.text(a + 0.005, p - h / 2, f"{a:.0%}", va="center", fontsize=7)
            ax.text((u if np.isfinite(u) else 0) + 0.005, p + h / 2, u_text, va="center", fontsize=7)
        else:
            ax.text(p - h / 2, a + 0.005, f"{a:.0%}", ha="center", fontsize=8)
            ax.text(p + h / 2, (u if np.isfinite(u) else 0) + 0.005, u_text, ha="center", fontsize=8)
    labels = table["value"].astype(str).tolist()
    top = float(np.nanmax(np.concatenate([act, usr, [0.0]])))
    if horizontal:
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, min(1.0, top * 1.25 + 0.05))
        ax.set_xlabel("share")
    else:
        ax.set_xticks(pos, labels)
        ax.set_ylim(0, min(1.0, top * 1.2 + 0.05))
        ax.set_ylabel("share")
    ax.legend(fontsize=8, loc="lower right" if horizontal else "upper left")
    _clean(ax)


@_chart_doc('Bands preferred by ``1 <= users < min_size`` show ``"<min_size users"``.')
def plot_price_bands(
    profiles: Profiles,
    *,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """Price bands: share of activity in each band and users preferring it.

    Bands are item price terciles (``price_band`` affinity, see
    ``docs/profiles.md``); blue bars are the mean share of a user's weighted
    events in the band, orange bars the share of users whose
    ``top_price_band`` it is.

    Parameters
    ----------
    profiles : Profiles
        Needs the ``price_band`` affinity (items with prices).
    {chart_parameters}
    """
    owner = "plot_price_bands"
    path, min_size = _checked(path, min_size, owner)
    table = affinity_table(check_profiles(profiles, owner), "price_band", "top_price_band", min_size=min_size)
    fig, ax, owned = axes_or_new_figure(ax, owner, 7.0, 4.2)
    _two_series(ax, table, horizontal=False, min_size=min_size)
    ax.set_title(f"Price bands ({table.attrs['n_active_users']:,} users with activity)")
    return finish_figure(fig, owned, path, owner, dpi)


@_chart_doc('Categories preferred by ``1 <= users < min_size`` show ``"<min_size users"``.')
def plot_categories(
    profiles: Profiles,
    *,
    level: int = 1,
    n: int = 12,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """Top categories: share of activity and share of users preferring each.

    Parameters
    ----------
    profiles : Profiles
        Needs the ``category_l<level>`` affinity (items with categories).
    level : {1, 2}, default 1
        Category level (``top_category`` / ``top_category_l2``).
    n : int, default 12
        Categories shown, by share of activity.
    {chart_parameters}
    """
    owner = "plot_categories"
    path, min_size = _checked(path, min_size, owner)
    if level not in (1, 2):
        raise InvalidParameterError(f"The 'level' parameter of {owner} must be 1 or 2, got {level!r}.")
    n = check_int(n, "n", minimum=1, owner=owner)
    top_col = "top_category" if level == 1 else "top_category_l2"
    table = affinity_table(check_profiles(profiles, owner), f"category_l{level}", top_col, min_size=min_size, n=n)
    fig, ax, owned = axes_or_new_figure(ax, owner, 8.0, 0.5 * max(len(table), 1) + 1.6)
    _two_series(ax, table, horizontal=True, min_size=min_size)
    ax.set_title(f"Top {len(table)} level-{level} categories ({table.attrs['n_active_users']:,} users with activity)")
    return finish_figure(fig, owned, path, owner, dpi)


# ---------------------------------------------------------------- campaign
def tactic_table(plan: pd.DataFrame, *, min_size: int | None = DEFAULT_MIN_SIZE) -> pd.DataFrame:
    """Users per tactic of a campaign plan: ``tactic, n_users, share, description``.

    Tactics with ``1 <= users < min_size`` are merged into one ``"suppressed"`` row.
    """
    check_instance(plan, pd.DataFrame, "campaign must be a pandas.DataFrame (Playbook.plan or Playbook.assign output)")
    if "tactic" not in plan.columns:
        raise MissingColumnError(
            f"campaign is missing column(s) ['tactic']: expected Playbook.plan output; "
            f"it has {list(plan.columns)}."
        )
    counts = plan["tactic"].astype(str).value_counts()
    shown = suppress_counts(counts, min_size)
    desc: Mapping[str, str] = {}
    if "description" in plan.columns:
        first = plan.drop_duplicates("tactic")
        desc = dict(zip(first["tactic"].astype(str), first["description"].astype(str)))
    out = pd.DataFrame({"tactic": shown.index.astype(str), "n_users": shown.to_numpy(dtype=np.int64)})
    out["share"] = out["n_users"] / max(len(plan), 1)
    out["description"] = [desc.get(t, "") if t != SUPPRESSED else f"tactics with fewer than {min_size} users"
                          for t in out["tactic"]]
    return out


@_chart_doc('Tactics with ``1 <= users < min_size`` are merged into ``"suppressed"``.')
def plot_campaign_tactics(
    campaign: pd.DataFrame,
    *,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """Users per tactic of a campaign plan (:meth:`Playbook.plan` output).

    Parameters
    ----------
    campaign : pandas.DataFrame
        One row per user with a ``tactic`` column.
    {chart_parameters}
    """
    owner = "plot_campaign_tactics"
    path, min_size = _checked(path, min_size, owner)
    table = tactic_table(campaign, min_size=min_size)
    fig, ax, owned = axes_or_new_figure(ax, owner, 7.0, 0.45 * max(len(table), 1) + 1.4)
    n_users = table["n_users"].to_numpy()
    _labelled_bars(
        ax, table["tactic"].tolist(), n_users,
        [f"{v:,} ({s:.0%})" for v, s in zip(n_users, table["share"])],
        colours=[_GREY if t == SUPPRESSED else _BLUE for t in table["tactic"]],
        xmax=float(n_users.max()) if len(table) else 1.0, room=1.3, xlabel="users",
    )
    ax.set_title(f"Campaign plan: {len(campaign):,} users by tactic")
    return finish_figure(fig, owned, path, owner, dpi)


def funnel_of(audience: pd.DataFrame) -> dict[str, int]:
    """The ``attrs["funnel"]`` of a :func:`~persona_rec.marketing.select_audience` result."""
    check_instance(audience, pd.DataFrame, "audience must be a pandas.DataFrame (select_audience output)")
    funnel = audience.attrs.get("funnel")
    if not isinstance(funnel, Mapping) or not funnel:
        raise MissingColumnError(
            "audience has no attrs['funnel']: pass the DataFrame select_audience returned "
            "(operations such as concat or merge drop attrs)."
        )
    return {str(k): int(v) for k, v in funnel.items()}


@_chart_doc('Steps with ``1 <= users < min_size`` show ``"<min_size"``.')
def plot_audience_funnel(
    audience: pd.DataFrame,
    *,
    ax: Any = None,
    min_size: int | None = DEFAULT_MIN_SIZE,
    path: str | Path | None = None,
    dpi: int = 120,
) -> Any:
    """Users left after each selection step of :func:`~persona_rec.marketing.select_audience`.

    Parameters
    ----------
    audience : pandas.DataFrame
        The ``select_audience`` result (its ``attrs["funnel"]``).
    {chart_parameters}
    """
    owner = "plot_audience_funnel"
    path, min_size = _checked(path, min_size, owner)
    funnel = funnel_of(audience)
    steps = list(funnel)
    values = np.array([funnel[s] for s in steps], dtype=np.int64)
    hidden = is_small(values, min_size)
    fig, ax, owned = axes_or_new_figure(ax, owner, 7.0, 0.5 * len(steps) + 1.4)
    _labelled_bars(
        ax, steps, np.where(hidden, 0, values),
        [f"<{min_size}" if h else f"{v:,}" for v, h in zip(values, hidden)],
        colours=[_ORANGE if i == len(steps) - 1 else _BLUE for i in range(len(steps))],
        xmax=max(float(values.max()) if len(values) else 1.0, 1.0), room=1.2,
        xlabel="users left after the step",
    )
    ax.set_title(f"Audience selection: {values[-1]:,} users selected" if len(values) and not hidden[-1]
                 else "Audience selection")
    return finish_figure(fig, owned, path, owner, dpi)

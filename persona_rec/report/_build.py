"""Assemble the self-contained HTML report."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._plotting import figure_to_svg, require_matplotlib
from .._validation import check_bool, check_instance
from .._progress import get_logger
from ..exceptions import InvalidDtypeError, InvalidParameterError
from ..profiles.profiles import Profiles
from ..segments import DEFAULT_MIN_SIZE, Segmentation
from ..tags.tagger import UserTags
from . import _charts as charts

__all__ = ["REPORT_CHARTS", "build_report", "write_report"]

logger = get_logger(__name__)

#: Element id -> title of every chart the report can hold, in page order.
REPORT_CHARTS: dict[str, str] = {
    "chart-segments": "Segment sizes and feature profiles",
    "chart-rfm-map": "RFM map",
    "chart-lifecycle-funnel": "Lifecycle funnel",
    "chart-top-tags": "Top tags per layer",
    "chart-price-bands": "Price bands",
    "chart-categories": "Categories",
    "chart-model-comparison": "Model comparison",
    "chart-campaign-tactics": "Campaign plan by tactic",
    "chart-audience-funnel": "Audience selection funnel",
}

# Only inline styles and data: images may load: the page makes no request.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"

_CSS = """
:root { --ink: #1f2430; --muted: #5b6372; --line: #dde1e8; --accent: #4C72B0; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #1f2a44; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c9d1e3; }
nav { padding: 10px 32px; background: #fff; border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); margin-right: 16px; text-decoration: none; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 24px 18px;
          margin: 18px 0; }
h2 { font-size: 19px; margin: 14px 0 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 13px; }
figure.chart { margin: 14px 0; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 8px 0 14px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
                               vertical-align: top; }
table.data th { background: #f0f2f6; }
.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 12px; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(frame: pd.DataFrame, table_id: str, formats: Mapping[str, Callable[[Any], str]] | None = None) -> str:
    """An escaped HTML table (no index)."""
    formats = dict(formats or {})
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for rec in frame.itertuples(index=False, name=None):
        cells = []
        for col, v in zip(frame.columns, rec):
            if col in formats:
                text = formats[col](v)
            elif isinstance(v, (float, np.floating)):
                text = "" if np.isnan(v) else f"{v:,.4g}"
            elif v is None or v is pd.NA:
                text = ""
            else:
                text = str(v)
            cells.append(f"<td>{_esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="data" id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _pct(v: Any) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else f"{float(v):.1%}"


def _count(v: Any) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else f"{int(v):,}"


def _chart(chart_id: str, fig: Any, caption: str) -> str:
    svg = figure_to_svg(fig, chart_id)
    return (f'<figure class="chart" id="{chart_id}" data-title="{_esc(REPORT_CHARTS[chart_id])}">'
            f"{svg}<figcaption>{_esc(caption)}</figcaption></figure>")


def _note(note_id: str, text: str) -> str:
    return f'<p class="note" id="{note_id}">{_esc(text)}</p>'


def _section(section_id: str, title: str, body: list[str]) -> str:
    return f'<section id="{section_id}"><h2>{_esc(title)}</h2>{"".join(body)}</section>'


def _cards(items: list[tuple[str, str]]) -> str:
    inner = "".join(f'<div class="card"><div class="value">{_esc(v)}</div>'
                    f'<div class="label">{_esc(k)}</div></div>' for k, v in items)
    return f'<div class="cards">{inner}</div>'


# ------------------------------------------------------------------ sections
def _overview(profiles: Profiles, tags: UserTags | None, segments: Segmentation | None,
              include_sensitive: bool, min_size: int | None) -> str:
    frame = profiles.frame
    buyers = int(frame["r_score"].notna().sum()) if "r_score" in frame.columns else None
    items = [("users profiled", f"{profiles.n_users:,}")]
    if buyers is not None:
        items.append(("users with purchases", f"{buyers:,}"))
    items.append(("profiles as of", str(pd.Timestamp(profiles.as_of).strftime("%Y-%m-%d %H:%M"))))
    if tags is not None:
        items.append(("tags in use", f"{int((np.diff(tags.matrix.tocsc().indptr) > 0).sum()):,}"))
    if segments is not None:
        items.append((f"{segments.method} segments", f"{len(segments.segments):,}"))
    sens = sorted(profiles.sensitive_columns)
    if include_sensitive:
        privacy = f"sensitive attributes SHOWN ({', '.join(sens) or 'none flagged'})"
    else:
        privacy = (f"sensitive attributes hidden ({', '.join(sens)})" if sens
                   else "no sensitive attributes flagged")
    small = f"groups under {min_size} users suppressed" if min_size else "small-group suppression OFF"
    body = [_cards(items), f'<p class="note" id="privacy-note">Privacy: {_esc(privacy)}; {_esc(small)}; '
            "the page lists no user id.</p>"]
    return _section("section-overview", "Overview", body)


def _segments_section(profiles: Profiles, tags: UserTags | None, segments: Segmentation | None,
                      include_sensitive: bool, min_size: int | None) -> str:
    body = []
    if segments is not None:
        from ..segments.plot import plot_segments

        fig = plot_segments(segments, profiles=profiles, min_size=min_size, include_sensitive=include_sensitive)
        body.append(_chart("chart-segments", fig,
                           "Left: users per segment. Right: mean of each profile feature per segment, "
                           "coloured by its z-score against all users (cells show the raw mean)."))
        desc = segments.describe(profiles, tags, min_size=min_size, include_sensitive=include_sensitive)
        body.append(_table(desc[["segment", "size", "share", "description"]], "table-segments",
                           {"share": _pct, "size": _count}))
    else:
        body.append(_note("chart-segments-missing", "No segmentation given (pass segments=, e.g. "
                                                    "rfm_segments(profiles))."))
    frame = profiles.frame
    scored = [c for c in ("r_score", "f_score", "m_score") if c in frame.columns]
    if len(scored) < 3 or not frame[scored].notna().all(axis=1).any():
        body.append(_note("chart-rfm-map-missing", "No user has R, F and M scores (no purchases with "
                                                   "prices): RFM map not drawn."))
    else:
        fig = charts.plot_rfm_map(profiles, segments, min_size=min_size)
        body.append(_chart("chart-rfm-map", fig,
                           "Users per recency (R) x frequency/monetary (FM) score cell; each cell is named "
                           "by the RFM segment map, thick lines are segment borders."))
    return _section("section-segments", "Segments", body)


def _lifecycle_section(profiles: Profiles, min_size: int | None) -> str:
    fig = charts.plot_lifecycle_funnel(profiles, min_size=min_size)
    return _section("section-lifecycle", "Lifecycle", [_chart(
        "chart-lifecycle-funnel", fig,
        "Users per lifecycle stage at the profiles' as-of time (definitions in docs/profiles.md).")])


def _tags_section(tags: UserTags | None, include_sensitive: bool, min_size: int | None) -> str:
    if tags is None:
        return _section("section-tags", "Tags", [_note(
            "chart-top-tags-missing", "No tags given (pass tags=Tagger(Taxonomy.default(profiles)).assign(profiles)).")])
    table = charts.top_tags_table(tags, include_sensitive=include_sensitive, min_size=min_size)
    fig = charts.plot_top_tags(tags, include_sensitive=include_sensitive, min_size=min_size)
    caption = "Share of users holding each tag (rolled up to ancestors), the most held tags of each layer."
    if table.attrs["n_sensitive_hidden"]:
        caption += f" {table.attrs['n_sensitive_hidden']} sensitive tag(s) hidden (include_sensitive=True shows them)."
    if table.attrs["n_small_hidden"]:
        caption += f" {table.attrs['n_small_hidden']} tag(s) held by fewer than {min_size} users not shown."
    layers = tags.counts("layer", include_sensitive=include_sensitive)
    body = [_chart("chart-top-tags", fig, caption),
            _table(layers, "table-tag-layers", {
                "share": lambda v: "" if charts.is_small(round(float(v) * tags.n_users), min_size) else _pct(v),
                "n_users": lambda v: f"<{min_size}" if charts.is_small(v, min_size) else _count(v)})]
    return _section("section-tags", "Tags", body)


def _preferences_section(profiles: Profiles, min_size: int | None) -> str:
    body = []
    for chart_id, kind, draw, what in (
        ("chart-price-bands", "price_band", charts.plot_price_bands, "item prices"),
        ("chart-categories", "category_l1", charts.plot_categories, "item categories"),
    ):
        matrix, names = profiles.affinities.get(kind, (None, []))
        if matrix is None or not len(names) or matrix.nnz == 0:
            body.append(_note(f"{chart_id}-missing", f"No {what} in the data: {REPORT_CHARTS[chart_id].lower()} "
                                                     "chart not drawn."))
            continue
        fig = draw(profiles, min_size=min_size)
        body.append(_chart(chart_id, fig,
                           "Blue: mean share of a user's weighted events in the value (users with activity). "
                           "Orange: share of users for whom it is the top value."))
    return _section("section-preferences", "Price and category preferences", body)


def _private_result(res: pd.DataFrame, sensitive: frozenset[str], include_sensitive: bool,
                    min_size: int | None) -> tuple[pd.DataFrame, list[str]]:
    """One ``evaluate`` result without the groups the report must not show, and why."""
    from ..evaluation._reco import ALL_GROUP

    if "group" not in res.columns or "metric" not in res.columns:
        return res, []
    notes = []
    group = res["group"].astype(str)
    keep = np.ones(len(res), dtype=bool)
    by = res.attrs.get("by")
    if by is not None and str(by) in sensitive and not include_sensitive:
        keep &= (group == ALL_GROUP).to_numpy()
        notes.append(f"groups by the sensitive attribute {str(by)!r} hidden (include_sensitive=True "
                     f"shows them)")
    if min_size is not None and "n_users" in res.columns:
        n = pd.to_numeric(res["n_users"], errors="coerce").to_numpy(dtype=float)
        small = keep & (group != ALL_GROUP).to_numpy() & (n < min_size)
        if small.any():
            keep &= ~small
            notes.append(f"{group[small].nunique()} group(s) with fewer than {min_size} users "
                         f"suppressed")
    if keep.all():
        return res, notes
    out = res.loc[keep].reset_index(drop=True)
    out.attrs = dict(res.attrs)
    return out, notes


def _evaluation_section(evaluation: Any, profiles: Profiles, include_sensitive: bool,
                        min_size: int | None) -> str:
    from ..dataset import DEFAULT_SENSITIVE_COLUMNS
    from ..evaluation.plot import comparison_frame, plot_comparison

    sensitive = frozenset(profiles.sensitive_columns) | DEFAULT_SENSITIVE_COLUMNS
    notes: list[str] = []
    if isinstance(evaluation, pd.DataFrame):
        evaluation, notes = _private_result(evaluation, sensitive, include_sensitive, min_size)
    elif isinstance(evaluation, Mapping):
        private = {}
        for model, res in evaluation.items():
            private[model], why = _private_result(res, sensitive, include_sensitive, min_size)
            notes += [f"{model}: {w}" for w in why]
        evaluation = private
    long = comparison_frame(evaluation)
    groups = long["group"].unique().tolist()
    fig = plot_comparison(evaluation, group="all" if "all" in groups else str(groups[0]))
    wide = long.pivot_table(index=["model", "group"], columns="metric", values="value", aggfunc="first",
                            sort=False).reset_index()
    wide.columns.name = None
    caption = ("Each metric's value per model (error bars: confidence intervals when evaluated "
               "with ci=).")
    if notes:
        caption += " " + "; ".join(notes) + "."
    body = [_chart("chart-model-comparison", fig, caption), _table(wide, "table-model-comparison")]
    if isinstance(evaluation, pd.DataFrame) and "fit_time_s" in evaluation.columns:
        times = evaluation[[c for c in ("fit_time_s", "recommend_time_s", "n_users_without_reco")
                            if c in evaluation.columns]].reset_index()
        times.columns = [str(c) for c in times.columns]
        body.append(_table(times, "table-model-times"))
    return _section("section-models", "Model comparison", body)


def _campaign_section(campaign: pd.DataFrame | None, audience: pd.DataFrame | None,
                      min_size: int | None) -> str:
    body = []
    if audience is not None:
        funnel = charts.funnel_of(audience)
        fig = charts.plot_audience_funnel(audience, min_size=min_size)
        body.append(_chart("chart-audience-funnel", fig,
                           "Users left after each step of the audience selection (expression, exclusions, "
                           "contact cap, score floor, budget)."))
        body.append(_table(pd.DataFrame({"step": list(funnel), "users": list(funnel.values())}),
                           "table-audience-funnel",
                           {"users": lambda v: f"<{min_size}" if charts.is_small(v, min_size) else f"{v:,}"}))
    if campaign is not None:
        table = charts.tactic_table(campaign, min_size=min_size)
        fig = charts.plot_campaign_tactics(campaign, min_size=min_size)
        facts = [("users in the plan", f"{len(campaign):,}"), ("tactics", f"{campaign['tactic'].nunique():,}")]
        if "items" in campaign.columns:
            lengths = campaign["items"].map(lambda v: len(v) if isinstance(v, (list, tuple, np.ndarray)) else 0)
            facts.append(("items per user (mean)", f"{lengths.mean():.1f}" if len(lengths) else "0"))
        if "send_at" in campaign.columns and campaign["send_at"].notna().any():
            send = pd.to_datetime(campaign["send_at"])
            facts.append(("send window", f"{send.min():%Y-%m-%d %H:%M} .. {send.max():%Y-%m-%d %H:%M}"))
        body += [_cards(facts),
                 _chart("chart-campaign-tactics", fig, "Users per playbook tactic (first matching rule)."),
                 _table(table, "table-campaign-tactics", {"share": _pct, "n_users": _count})]
    return _section("section-campaign", "Campaign and audience", body)


# ------------------------------------------------------------------ public API
def build_report(
    profiles: Profiles,
    tags: UserTags | None = None,
    segments: Segmentation | None = None,
    evaluation: Any = None,
    campaign: pd.DataFrame | None = None,
    *,
    audience: pd.DataFrame | None = None,
    title: str = "persona_rec report",
    include_sensitive: bool = False,
    min_size: int | None = DEFAULT_MIN_SIZE,
) -> str:
    """Build one self-contained HTML page with the charts and tables of a run.

    The page has inline CSS and inline SVG charts only, and a
    Content-Security-Policy that forbids every external request, so it can be
    mailed or archived as one file and opens offline. Sections: overview;
    segments (sizes and feature profile heatmap, RFM map); lifecycle funnel;
    top tags per layer; price-band and category preferences; model
    comparison (with ``evaluation``); campaign and audience summary (with
    ``campaign`` / ``audience``). Chart element ids are the keys of
    :data:`REPORT_CHARTS`. The output is deterministic (no timestamp other
    than the profiles' ``as_of``).

    Privacy: no user id is written; sensitive attributes (``age``,
    ``gender``, ... -- the profiles' ``sensitive_columns`` and sensitive
    tags, and ``evaluation`` groups by such an attribute, e.g.
    ``evaluate(..., by="gender")``) are left out unless
    ``include_sensitive=True``; every group of users smaller than
    ``min_size`` (segment, tag, stage, RFM cell, tactic, funnel step,
    evaluation group) is suppressed as in segment reports.

    Parameters
    ----------
    profiles : Profiles
        From :meth:`~persona_rec.profiles.ProfileBuilder.build`.
    tags : UserTags, optional
        From :meth:`~persona_rec.tags.Tagger.assign`; gives the top-tags chart
        and tag lifts in segment descriptions.
    segments : Segmentation, optional
        E.g. :func:`~persona_rec.segments.rfm_segments`; an RFM segmentation
        also names the RFM map's cells.
    evaluation : pandas.DataFrame or mapping, optional
        A :func:`~persona_rec.evaluation.compare` table, an
        :func:`~persona_rec.evaluation.evaluate` result, or a mapping
        model name -> ``evaluate`` result.
    campaign : pandas.DataFrame, optional
        A campaign plan (:meth:`~persona_rec.marketing.Playbook.plan` or
        ``assign`` output; needs ``tactic``).
    audience : pandas.DataFrame, optional
        The :func:`~persona_rec.marketing.select_audience` result (its
        ``attrs["funnel"]``).
    title : str, default "persona_rec report"
        Page title.
    include_sensitive : bool, default False
        Show sensitive attributes and tags.
    min_size : int or None, default 10
        Small-group threshold; None disables suppression.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (``pip install 'persona-rec[plot]'``).
    InvalidDtypeError
        An input has the wrong type.
    MissingColumnError
        ``campaign`` has no ``tactic`` column, ``audience`` no funnel, or an
        ``evaluation`` frame no ``metric``/``value``.

    Examples
    --------
    >>> from persona_rec.sample_data import load_sample
    >>> from persona_rec.profiles import ProfileBuilder
    >>> from persona_rec.segments import rfm_segments
    >>> profiles = ProfileBuilder.default().build(load_sample())
    >>> page = build_report(profiles, segments=rfm_segments(profiles), title="Sample shop")
    >>> page.startswith("<!DOCTYPE html>"), 'id="chart-rfm-map"' in page, "https://" in page
    (True, True, False)
    """
    require_matplotlib("build_report")
    charts.check_profiles(profiles, "build_report")
    if tags is not None and not isinstance(tags, UserTags):
        raise InvalidDtypeError(
            f"The 'tags' parameter of build_report must be a persona_rec.tags.UserTags "
            f"(from Tagger.assign) or None, got {type(tags).__name__}."
        )
    if segments is not None and not isinstance(segments, Segmentation):
        raise InvalidDtypeError(
            f"The 'segments' parameter of build_report must be a persona_rec.segments.Segmentation "
            f"or None, got {type(segments).__name__}."
        )
    if not isinstance(title, str) or not title.strip():
        raise InvalidParameterError(f"The 'title' parameter of build_report must be a non-empty str, got {title!r}.")
    check_bool(include_sensitive, "include_sensitive", owner="build_report", error=InvalidDtypeError)
    min_size = charts.check_min_size(min_size, "build_report")
    # validate every input before drawing anything
    if evaluation is not None:
        from ..evaluation.plot import comparison_frame

        comparison_frame(evaluation)
    if campaign is not None:
        charts.tactic_table(campaign, min_size=min_size)
    if audience is not None:
        charts.funnel_of(audience)

    logger.info("building report %r for %d users", title, profiles.n_users)
    parts = [
        _overview(profiles, tags, segments, include_sensitive, min_size),
        _segments_section(profiles, tags, segments, include_sensitive, min_size),
        _lifecycle_section(profiles, min_size),
        _tags_section(tags, include_sensitive, min_size),
        _preferences_section(profiles, min_size),
    ]
    nav = [("section-overview", "Overview"), ("section-segments", "Segments"),
           ("section-lifecycle", "Lifecycle"), ("section-tags", "Tags"),
           ("section-preferences", "Preferences")]
    if evaluation is not None:
        parts.append(_evaluation_section(evaluation, profiles, include_sensitive, min_size))
        nav.append(("section-models", "Models"))
    if campaign is not None or audience is not None:
        parts.append(_campaign_section(campaign, audience, min_size))
        nav.append(("section-campaign", "Campaign"))
    from .. import __version__

    as_of = pd.Timestamp(profiles.as_of).strftime("%Y-%m-%d %H:%M")
    nav_html = "".join(f'<a href="#{sid}">{_esc(label)}</a>' for sid, label in nav)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="persona_rec {_esc(__version__)}">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n"
        f'<body><header><h1 id="report-title">{_esc(title)}</h1>'
        f"<p>{profiles.n_users:,} users, profiles as of {_esc(as_of)}</p></header>"
        f'<nav id="report-nav">{nav_html}</nav>\n<main>\n' + "\n".join(parts) + "\n</main>"
        f"<footer>persona_rec {_esc(__version__)}: one self-contained file, no external requests.</footer>"
        "</body></html>\n"
    )
    logger.info("report built: %d bytes", len(page))
    return page


def write_report(path: str | Path, profiles: Profiles, *args: Any, **kwargs: Any) -> Path:
    """Build the report (:func:`build_report`) and write it as UTF-8 HTML.

    Parameters
    ----------
    path : str or pathlib.Path
        Output file ending in ``.html`` or ``.htm``; its folder must exist.
    profiles : Profiles
        As in :func:`build_report`.
    *args, **kwargs
        Passed to :func:`build_report` (``tags``, ``segments``,
        ``evaluation``, ``campaign``, ``audience``, ``title`` ...).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InvalidParameterError
        ``path`` does not end in ``.html``/``.htm`` or its folder is missing.
    """
    check_instance(path, (str, Path), "The 'path' parameter of write_report must be a str or pathlib.Path")
    p = Path(path)
    if p.suffix.lower() not in (".html", ".htm"):
        raise InvalidParameterError(f"The 'path' parameter of write_report must end in .html or .htm, got {str(p)!r}.")
    if not p.parent.is_dir():
        raise InvalidParameterError(
            f"The 'path' parameter of write_report points into a missing folder: {str(p.parent)!r}."
        )
    page = build_report(profiles, *args, **kwargs)
    p.write_text(page, encoding="utf-8")
    return p

"""build_report / write_report on the real sample: content, privacy, suppression, errors, CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from persona_rec.exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    MissingColumnError,
    MissingDependencyError,
)
from persona_rec.report import (
    REPORT_CHARTS,
    build_report,
    plot_audience_funnel,
    plot_campaign_tactics,
    plot_categories,
    plot_lifecycle_funnel,
    plot_price_bands,
    plot_rfm_map,
    plot_top_tags,
    write_report,
)


class _Collect(HTMLParser):
    """Every element id, every URL-bearing attribute, tag names and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.chart_has_svg: dict[str, bool] = {}
        self._open_chart: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "figure" and a.get("id") in REPORT_CHARTS:
            self._open_chart = a["id"]
            self.chart_has_svg[a["id"]] = False
        if tag == "svg" and self._open_chart:
            self.chart_has_svg[self._open_chart] = True
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "poster", "srcset") and v is not None:
                self.urls.append(v)

    def handle_endtag(self, tag):
        if tag == "figure":
            self._open_chart = None

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    return p


def test_full_report_holds_every_chart_and_loads_nothing(full_report):
    doc = _parse(full_report)
    assert doc.chart_has_svg == {cid: True for cid in REPORT_CHARTS}
    assert len(doc.ids) == len(set(doc.ids)), "element ids must be unique (SVG ids are prefixed per chart)"
    # only in-page anchors and inline data: nothing the browser would fetch
    assert doc.urls and all(u.startswith("#") or u.startswith("data:image/png;base64,") for u in doc.urls)
    assert not {"script", "link", "iframe", "img", "object", "embed"} & doc.tags
    assert "@import" not in full_report and "url(http" not in full_report
    # the only absolute URLs left are SVG namespace names, which are never fetched
    assert "https://" not in full_report
    assert set(re.findall(r'[\w:]+="http://[^"]*"', full_report)) == {
        'xmlns="http://www.w3.org/2000/svg"', 'xmlns:xlink="http://www.w3.org/1999/xlink"'}
    assert "Content-Security-Policy" in full_report and "default-src 'none'" in full_report
    assert "<title>Sample shop &lt;test&gt;</title>" in full_report  # escaped
    text = " ".join(doc.text)
    assert "Repurchase" not in text and "buy again" in text  # the model names given
    assert "membership_perks" in text  # the campaign's main tactic


def test_report_is_deterministic(sample_run, full_report):
    again = build_report(sample_run.profiles, title="Sample shop <test>", **sample_run.kwargs())
    assert again == full_report


def test_report_lists_no_user_id(sample_run, full_report):
    page = re.sub(r"<svg.*?</svg>", "", full_report, flags=re.S)  # ids checked in the text, not in paths
    ids = [str(u) for u in sample_run.audience["user_id"]]
    leaked = [u for u in ids if re.search(rf"(?<![\d.]){re.escape(u)}(?![\d.])", page)]
    assert leaked == []


def test_small_groups_are_suppressed(sample_run, full_report):
    stages = sample_run.profiles.frame["lifecycle_stage"].value_counts()
    assert stages["prospect"] == 7  # the sample has 7 prospects: under min_size=10
    assert "prospect: &lt;10 users (suppressed)" in full_report
    assert "prospect: 7" not in full_report
    assert "<td>suppressed</td><td>7</td>" in full_report  # merged segment row, never described
    open_page = build_report(sample_run.profiles, segments=sample_run.segments, min_size=None)
    assert "prospect: 7 (1%)" in open_page
    assert "small-group suppression OFF" in open_page


def test_sections_follow_inputs(sample_run, tmp_path):
    out = write_report(tmp_path / "r.html", sample_run.profiles)
    assert out == tmp_path / "r.html"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    doc = _parse(page)
    assert set(doc.chart_has_svg) == {"chart-rfm-map", "chart-lifecycle-funnel", "chart-price-bands",
                                      "chart-categories"}
    assert {"chart-segments-missing", "chart-top-tags-missing"} <= set(doc.ids)
    assert "section-models" not in doc.ids and "section-campaign" not in doc.ids


def test_sensitive_attributes_hidden_unless_asked():
    from persona_rec.sample_data import synthetic
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.segments import rfm_segments
    from persona_rec.tags import Tagger, Taxonomy

    ds = synthetic(n_users=300, n_items=100, n_events=5000, random_state=3).dataset
    profiles = ProfileBuilder.default().build(ds)
    assert {"age", "gender", "age_band"} <= profiles.sensitive_columns
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    seg = rfm_segments(profiles)
    hidden = build_report(profiles, tags, seg)
    text = " ".join(_parse(hidden).text)
    assert "Gender" not in text and "Age 35-44" not in text and "basic/age" not in text
    assert "sensitive attributes hidden (age, age_band, gender)" in text
    assert re.search(r"\d+ sensitive tag\(s\) hidden", text)
    shown = build_report(profiles, tags, seg, include_sensitive=True)
    text = " ".join(_parse(shown).text)
    assert "Gender: M" in text and "sensitive attributes SHOWN" in text


def test_every_chart_helper_returns_a_figure_draws_on_ax_and_writes_only_when_asked(sample_run, tmp_path):
    r = sample_run
    calls = {
        "plot_rfm_map": lambda **kw: plot_rfm_map(r.profiles, r.segments, **kw),
        "plot_lifecycle_funnel": lambda **kw: plot_lifecycle_funnel(r.profiles, **kw),
        "plot_top_tags": lambda **kw: plot_top_tags(r.tags, **kw),
        "plot_price_bands": lambda **kw: plot_price_bands(r.profiles, **kw),
        "plot_categories": lambda **kw: plot_categories(r.profiles, **kw),
        "plot_campaign_tactics": lambda **kw: plot_campaign_tactics(r.campaign, **kw),
        "plot_audience_funnel": lambda **kw: plot_audience_funnel(r.audience, **kw),
    }
    for name, call in calls.items():
        fig = call()
        assert isinstance(fig, Figure) and fig.axes, name
        host = Figure(figsize=(12, 4))
        left, right = host.subplots(1, 2)
        assert call(ax=right) is host, name
        assert right.has_data() and not left.has_data(), name
        out = tmp_path / f"{name}.png"
        call(path=out, dpi=30)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        with pytest.raises(InvalidDtypeError, match=f"'ax' parameter of {name} must be a matplotlib Axes"):
            call(ax=[left, right])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in calls)


def test_chart_values_match_the_data(sample_run):
    frame = sample_run.profiles.frame
    fig = plot_lifecycle_funnel(sample_run.profiles, min_size=None)
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == frame["lifecycle_stage"].value_counts().reindex(
        ["prospect", "new", "active", "at_risk", "churned", "reactivated"]).tolist()
    grid = plot_rfm_map(sample_run.profiles, min_size=None).axes[0].images[0].get_array()
    assert int(np.asarray(grid).sum()) == int(frame["r_score"].notna().sum())
    bars = plot_campaign_tactics(sample_run.campaign, min_size=None).axes[0].patches
    assert sorted(int(p.get_width()) for p in bars) == sorted(sample_run.campaign["tactic"].value_counts())


def test_input_errors(sample_run, tmp_path, monkeypatch):
    p = sample_run.profiles
    with pytest.raises(InvalidDtypeError, match="'profiles' parameter of build_report must be a persona_rec"):
        build_report(p.frame)
    with pytest.raises(InvalidDtypeError, match="'tags' parameter of build_report must be .* got DataFrame"):
        build_report(p, tags=p.frame)
    with pytest.raises(InvalidDtypeError, match="'segments' parameter of build_report must be"):
        build_report(p, segments=sample_run.segments.labels)
    with pytest.raises(MissingColumnError, match=r"campaign is missing column\(s\) \['tactic'\]"):
        build_report(p, campaign=sample_run.campaign.drop(columns="tactic"))
    with pytest.raises(MissingColumnError, match=r"audience has no attrs\['funnel'\]"):
        build_report(p, audience=pd.DataFrame(sample_run.audience.to_dict()))
    with pytest.raises(InvalidParameterError, match="The 'min_size' parameter of build_report must be an int >= 1, got 0"):
        build_report(p, min_size=0)
    with pytest.raises(InvalidParameterError, match="'title' parameter of build_report must be a non-empty str"):
        build_report(p, title=" ")
    with pytest.raises(InvalidParameterError, match=r"must end in \.html or \.htm, got '.*r\.pdf'"):
        write_report(tmp_path / "r.pdf", p)
    with pytest.raises(InvalidParameterError, match="missing folder"):
        write_report(tmp_path / "no" / "r.html", p)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"build_report needs matplotlib.*persona-rec\[plot\]"):
        build_report(p)


def test_cli_report_bad_input_is_one_line(tmp_path, capsys, monkeypatch):
    from persona_rec.cli import main

    assert main(["report", "--out", str(tmp_path / "r.txt")]) == 2
    err = capsys.readouterr().err
    assert err == f"persona-rec report: error: --out must end in .html or .htm, got {str(tmp_path / 'r.txt')!r}.\n"
    assert main(["report", "--out", str(tmp_path / "r.html"), "--models", "svd"]) == 2
    assert "unknown model(s) ['svd']; choose from ['ease', 'persona', 'popular', 'repurchase']" in \
        capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r.html"), "--min-size", "0"]) == 2
    assert capsys.readouterr().err == (
        "persona-rec report: error: The 'min_size' parameter of persona-rec report must be an int >= 1, got 0.\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == (
        "persona-rec report: error: persona-rec report needs matplotlib, which is not installed; "
        "install the plot extra: pip install 'persona-rec[plot]'.\n")
    assert not (tmp_path / "r.html").exists()


def test_cli_entry_point_runs_in_a_fresh_process(tmp_path):
    """`persona-rec report` end to end on the bundled sample (fast models, to keep the suite quick)."""
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from persona_rec.cli import main; sys.exit(main())",
         "report", "--out", str(out), "--models", "popular", "--campaign-model", "popular", "--title", "CLI run"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"wrote {re.escape(str(out))} \(\d+ KB, 9 charts, 1,000 users\) in [\d.]+s\n", proc.stdout)
    doc = _parse(out.read_text(encoding="utf-8"))
    assert set(doc.chart_has_svg) == set(REPORT_CHARTS)
    assert "CLI run" in doc.text


def test_events_only_data_gets_notes_not_empty_charts():
    """No prices, no categories: the price, category and RFM charts become one-line notes."""
    from persona_rec import Dataset
    from persona_rec.profiles import ProfileBuilder
    from persona_rec.segments import Segmentation
    from persona_rec.tags import Tagger, Taxonomy

    rng = np.random.default_rng(0)
    n = 3000
    events = pd.DataFrame({
        "user_id": rng.integers(0, 150, n), "item_id": rng.integers(0, 80, n), "event": "purchase",
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s"),
    })
    profiles = ProfileBuilder.default().build(Dataset.from_frames(events))
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    heavy = np.where(profiles.frame["frequency"] > 20, "heavy", "light")
    seg = Segmentation(pd.Series(heavy, index=profiles.frame.index), method="rules")
    doc = _parse(build_report(profiles, tags, seg))
    assert set(doc.chart_has_svg) == {"chart-segments", "chart-lifecycle-funnel", "chart-top-tags"}
    assert {"chart-rfm-map-missing", "chart-price-bands-missing", "chart-categories-missing"} <= set(doc.ids)
    assert "No item prices in the data" in " ".join(doc.text)


def test_every_public_name_resolves():
    import persona_rec.report as report

    assert sorted(report.__all__) == sorted(report._WHERE)
    assert all(callable(getattr(report, name)) or name == "REPORT_CHARTS" for name in report.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'plot_everything'"):
        report.plot_everything  # noqa: B018


def test_evaluation_groups_by_sensitive_attributes_and_small_groups_are_left_out():
    from persona_rec import Dataset
    from persona_rec.evaluation import NDCG, evaluate, temporal_split
    from persona_rec.models import PopularRecommender
    from persona_rec.profiles import ProfileBuilder

    rng = np.random.default_rng(0)
    n = 4000
    ev = pd.DataFrame({"user_id": rng.integers(0, 200, n), "item_id": rng.integers(0, 60, n),
                       "timestamp": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(rng.integers(0, 90 * 86400, n), unit="s")})
    users = pd.DataFrame({"user_id": range(200), "gender": ["X"] * 3 + ["F"] * 97 + ["M"] * 100,
                          "tier": ["gold"] * 4 + ["basic"] * 196})
    ds = Dataset.from_frames(ev, users=users)
    split = temporal_split(ds, at="2024-03-01", filter_already_seen=False)
    profiles = ProfileBuilder.default().build(split.train, as_of="2024-03-01")

    def cells(page: str) -> list[str]:
        sec = page[page.find('id="table-model-comparison"'):]
        return re.findall(r"<td[^>]*>([^<]*)</td>", sec[:sec.find("</table>")])

    by_gender = evaluate(PopularRecommender(), split, [NDCG(10)], by="gender")
    assert set(by_gender["group"]) == {"all", "F", "M", "X"}
    page = build_report(profiles, evaluation=by_gender, min_size=10)
    assert cells(page)[1::3] == ["all"]  # the group column of every row
    assert "groups by the sensitive attribute 'gender' hidden" in " ".join(_parse(page).text)
    page = build_report(profiles, evaluation={"popular": by_gender}, include_sensitive=True, min_size=10)
    assert cells(page)[1::3] == ["all", "F", "M"]  # the 3-user group X is suppressed
    page = build_report(profiles, evaluation=by_gender, include_sensitive=True, min_size=None)
    assert cells(page)[1::3] == ["all", "F", "M", "X"]
    by_tier = evaluate(PopularRecommender(), split, [NDCG(10)], by="tier")
    page = build_report(profiles, evaluation=by_tier, min_size=10)
    assert cells(page)[1::3] == ["all", "basic"]
    assert "1 group(s) with fewer than 10 users suppressed" in " ".join(_parse(page).text)

"""The report rendered by a real headless browser (Chromium).

Chromium opens the report from a file:// URL with networking features off and
a fresh profile. The screenshot must not be blank and must show the charts'
bar colour; the browser's DOM must hold every chart with its SVG; and the
browser console must report no blocked request (the page's
Content-Security-Policy would log any attempt to load something).

The browser tests are marked ``browser``. They skip when Chromium is missing,
except under CI (``CI=true``, set by ``.ci/run``, which installs Chromium):
there a missing browser fails them (``pytest.fail`` in the fixture, reported
as an error, never as a skip).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from persona_rec.report import REPORT_CHARTS

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--enable-logging=stderr", "--v=0",
]
WIDTH, HEIGHT = 1280, 7000
#: The bars' colour in the charts (#4C72B0).
BAR_RGB = np.array([0x4C, 0x72, 0xB0]) / 255.0


def _find_chromium() -> str | None:
    names = [os.environ["PERSONA_REC_CHROMIUM"]] if os.environ.get("PERSONA_REC_CHROMIUM") else []
    for name in names + ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        path = shutil.which(name)
        if path:
            return path
    return None


def _require_chromium() -> str:
    """The browser's path; skip without one, but fail under CI (``CI=true``)."""
    path = _find_chromium()
    if path is None:
        msg = "Chromium is not installed (apt-get update && apt-get install -y chromium)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"CI is set and {msg}; .ci/run installs it before the tests")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def chromium() -> str:
    return _require_chromium()


def _run(chromium: str, workdir: Path, name: str, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = workdir / f"profile-{name}"  # a fresh user-data-dir per run
    proc = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.svg_children: dict[str, int] = {}
        self._chart: str | None = None
        self._in_svg = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "figure" and a.get("id") in REPORT_CHARTS:
            self._chart = a["id"]
            self.svg_children[self._chart] = 0
        elif tag == "svg" and self._chart:
            self._in_svg += 1
        elif self._in_svg and self._chart:
            self.svg_children[self._chart] += 1

    def handle_endtag(self, tag):
        if tag == "svg" and self._in_svg:
            self._in_svg -= 1
        if tag == "figure":
            self._chart = None


@pytest.fixture(scope="module")
def rendered(chromium, full_report, tmp_path_factory):  # chromium first: fail fast
    work = tmp_path_factory.mktemp("browser")
    page = work / "report.html"
    page.write_text(full_report, encoding="utf-8")
    url = page.resolve().as_uri()
    shot = work / "report.png"
    shot_run = _run(chromium, work, "shot", url, f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}")
    dom_run = _run(chromium, work, "dom", url, "--dump-dom")
    return {"shot": shot, "shot_run": shot_run, "dom": dom_run.stdout, "dom_run": dom_run}


@pytest.mark.browser
def test_screenshot_is_not_blank_and_shows_charts(rendered):
    from matplotlib.image import imread

    img = imread(rendered["shot"])[..., :3]
    assert img.shape == (HEIGHT, WIDTH, 3)
    assert float(img.std()) > 0.1, "the screenshot is (nearly) uniform"
    rgb = (img[::2, ::2] * 255).round().astype(np.uint32)
    colours = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
    assert colours.size > 200
    bar_pixels = int((np.abs(img - BAR_RGB).max(axis=2) < 0.02).sum())
    assert bar_pixels > 50_000, f"only {bar_pixels} pixels of the bar colour: charts not drawn?"
    # content all the way down: every 1000-pixel band of the first 6000 holds something
    for top in range(0, 6000, 1000):
        assert float(img[top:top + 1000].std()) > 0.05, f"band {top}-{top + 1000} is blank"


@pytest.mark.browser
def test_browser_dom_holds_every_chart(rendered):
    dom = _Dom()
    dom.feed(rendered["dom"])
    assert "report-title" in dom.ids and "report-nav" in dom.ids
    missing = [cid for cid in REPORT_CHARTS if cid not in dom.ids]
    assert missing == []
    assert all(dom.svg_children[cid] > 20 for cid in REPORT_CHARTS), dom.svg_children


@pytest.mark.browser
def test_browser_reports_no_blocked_request(rendered):
    for run in ("shot_run", "dom_run"):
        assert _console(rendered[run].stderr) == []


@pytest.mark.browser
def test_blocked_request_detector_works(chromium, tmp_path):
    """Control: a page that tries to load an external image is caught by the same check."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:\"></head>"
        '<body><img src="http://example.invalid/x.png"></body></html>', encoding="utf-8")
    run = _run(chromium, tmp_path, "bad", page.resolve().as_uri(), "--dump-dom")
    assert any("Content Security Policy" in line for line in _console(run.stderr))


def test_missing_browser_fails_under_ci_and_skips_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("PERSONA_REC_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no browser on PATH
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set and Chromium is not installed"):
        _require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        _require_chromium()
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CI", "true")
    assert _require_chromium() == str(fake)

"""The example scripts run end to end on the shipped sample."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["build_profiles_and_tags.py", "target_campaign.py", "ab_test.py"])
def test_example_runs(name, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERSONA_REC_EXAMPLES_OUT", str(tmp_path))
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    assert len(out) > 200
    if name == "ab_test.py":
        assert (tmp_path / "ab_result.png").stat().st_size > 10_000
        assert "A/A test" in out and "SIMULATED" in out
    if name == "target_campaign.py":
        assert "audience funnel" in out and "UnknownIdError" in out

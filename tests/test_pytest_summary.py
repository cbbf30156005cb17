"""The README's test command keeps a closing "N passed" line, also with an extra ``-q``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("extra", [[], ["-q"]], ids=["readme-command", "extra-q"])
def test_closing_summary_line(extra: list[str]) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "pytest", *extra, "tests/test_identifiers.py",
         "-p", "no:randomly"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:]
    last = res.stdout.strip().splitlines()[-1]
    # (a version-dependent skip may follow the count in the minimum-versions environment)
    assert re.fullmatch(r"=*\s*\d+ passed(, \d+ skipped)?( in [\d.]+s( \([\d:]+\))?)?\s*=*",
                        last), last

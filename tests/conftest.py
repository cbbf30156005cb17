"""Shared fixtures.

Real-data tests use the ``data_dir`` fixture. When ``PERSONA_REC_DATA`` is
set (as in ``.ci/run``) the data must be there: a missing file fails the test.
When it is unset, real-data tests are skipped.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the LightFM doctests when the [lightfm] extra is absent (minimum-versions CI run)."""
    if importlib.util.find_spec("lightfm") is not None:
        return
    skip = pytest.mark.skip(reason="rectools-lightfm (persona-rec[lightfm]) not installed")
    for item in items:
        if item.nodeid.startswith("persona_rec/models/lightfm.py"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Keep a closing "N passed, N failed" line when ``-q`` is given on top of addopts' ``-q``.

    pyproject's ``addopts`` holds ``-q``; one more ``-q`` (``-qq``) makes pytest drop
    its own closing summary, which readers and CI look for.
    """
    if config.option.verbose >= -1:
        return  # pytest prints its own "N passed in Xs" line
    stats = terminalreporter.stats
    order = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "error")
    parts = [f"{len(stats[key])} {key}" for key in order if stats.get(key)]
    terminalreporter.write_line(", ".join(parts) or "no tests ran")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator."""
    return np.random.default_rng(42)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder with the real datasets (``PERSONA_REC_DATA``)."""
    root = os.environ.get("PERSONA_REC_DATA")
    if not root:
        pytest.skip("PERSONA_REC_DATA is not set; real-data tests skipped")
    path = Path(root)
    if not path.is_dir():
        pytest.fail(f"PERSONA_REC_DATA={root!r} is set but is not a directory")
    return path


def require_file(path: Path) -> Path:
    """Fail (not skip) when a dataset file that must exist is missing."""
    if not path.exists():
        pytest.fail(f"PERSONA_REC_DATA is set but {path} is missing")
    return path


@pytest.fixture(scope="session")
def ml100k_dir(data_dir: Path) -> Path:
    """The MovieLens 100K folder (never copied into the repo)."""
    return require_file(data_dir / "ml-100k" / "u.data").parent


@pytest.fixture(scope="session")
def online_retail_csv(data_dir: Path) -> Path:
    """The UCI Online Retail CSV (gzip)."""
    return require_file(data_dir / "online-retail" / "online_retail.csv.gz")

"""Fixtures for the model tests: a planted block dataset and the model registry."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from persona_rec import Dataset

_HERE = Path(__file__).parent


def _load_models(filename: str) -> list[tuple[Any, ...]]:
    path = _HERE / filename
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"_persona_rec_tests_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return list(module.MODELS)


def model_cases() -> list[tuple[str, Any, dict[str, Any]]]:
    """All registered contract cases as (id, factory, options)."""
    out = []
    for entry in _load_models("_registry.py") + _load_models("_registry_hybrid.py"):
        case_id, factory = entry[0], entry[1]
        options = dict(entry[2]) if len(entry) > 2 else {}
        out.append((case_id, factory, options))
    return out


def _needs_missing_extra(factory: Any) -> list[Any]:
    """skipif mark for a LightFM case when the [lightfm] extra is not installed."""
    from persona_rec.models import LightFMRecommender

    if not isinstance(factory(), LightFMRecommender):
        return []
    return [pytest.mark.skipif(importlib.util.find_spec("lightfm") is None,
                               reason="rectools-lightfm (persona-rec[lightfm]) not installed")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "model_case" in metafunc.fixturenames:
        cases = model_cases()
        params = [pytest.param(c, id=c[0], marks=_needs_missing_extra(c[1])) for c in cases]
        metafunc.parametrize("model_case", params)


N_BLOCKS = 4
ITEMS_PER_BLOCK = 15
USERS_PER_BLOCK = 20
WARM_PER_BLOCK = 3


def make_block_frames(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Checkerboard-style data: users of block b mostly interact with items of block b.

    Users ``u{b}_{j}`` (hot) and ``w{b}_{j}`` (attribute-only) carry
    ``region = "r{b}"``; items ``i{b}_{j}`` live under category
    ``"Block{b} > Sub{j % 3}"``. Item ids are strings, user ids are strings.
    """
    rng = np.random.default_rng(seed)
    rows = []
    t0 = pd.Timestamp("2024-01-01")
    for b in range(N_BLOCKS):
        for j in range(USERS_PER_BLOCK):
            own = rng.choice(ITEMS_PER_BLOCK, size=7, replace=False)
            for i in own:
                rows.append((f"u{b}_{j}", f"i{b}_{i}"))
            other = (b + 1 + rng.integers(0, N_BLOCKS - 1)) % N_BLOCKS
            rows.append((f"u{b}_{j}", f"i{other}_{rng.integers(0, ITEMS_PER_BLOCK)}"))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id"])
    inter["timestamp"] = t0 + pd.to_timedelta(rng.integers(0, 60 * 86400, len(inter)), unit="s")
    inter["event"] = rng.choice(["view", "cart", "purchase"], size=len(inter), p=[0.6, 0.2, 0.2])
    users = pd.DataFrame(
        [(f"u{b}_{j}", f"r{b}", int(rng.integers(18, 70))) for b in range(N_BLOCKS)
         for j in range(USERS_PER_BLOCK)]
        + [(f"w{b}_{j}", f"r{b}", int(rng.integers(18, 70))) for b in range(N_BLOCKS)
           for j in range(WARM_PER_BLOCK)],
        columns=["user_id", "region", "age"],
    )
    items = pd.DataFrame(
        [(f"i{b}_{j}", f"Block{b} > Sub{j % 3}", f"brand{j % 4}", float(5 + 3 * j + b),
          bool((j + b) % 4 != 0)) for b in range(N_BLOCKS) for j in range(ITEMS_PER_BLOCK)],
        columns=["item_id", "category", "brand", "price", "in_stock"],
    )
    return inter, users, items


@pytest.fixture(scope="session")
def block_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return make_block_frames()


@pytest.fixture(scope="session")
def block_dataset(block_frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> Dataset:
    inter, users, items = block_frames
    return Dataset.from_frames(inter, users=users, items=items)


@pytest.fixture(scope="session")
def block_profiles(block_dataset: Dataset) -> Any:
    from persona_rec.profiles import ProfileBuilder

    return ProfileBuilder.default().build(block_dataset)


def block_of(ids: Any) -> np.ndarray:
    """Block number encoded in a user or item id ("u2_5" -> 2)."""
    return np.array([int(str(x)[1:].split("_")[0]) for x in ids])

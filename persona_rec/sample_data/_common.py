"""Helpers shared by the dataset loaders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..cleaning import CleaningReport
from ..dataset import Dataset
from ..exceptions import InvalidValueError

__all__ = ["with_reports", "require_path"]


def with_reports(dataset: Dataset, reports: Sequence[CleaningReport]) -> Dataset:
    """Return ``dataset`` with loader ``reports`` put before its own cleaning reports.

    The loaders clean raw files before :meth:`Dataset.from_frames` sees them; their
    reports belong in :attr:`Dataset.cleaning_reports` next to the reports of
    ``from_frames(clean=True)``, so callers find every removed row in one place.
    """
    return dataset.with_cleaning_reports([*reports, *dataset.cleaning_reports])


def require_path(path: str | Path, what: str, *, is_dir: bool = False) -> Path:
    """Return ``path`` as a Path, raising ``FileNotFoundError`` with a clear message."""
    if not isinstance(path, (str, Path)):
        raise InvalidValueError(f"path must be a str or pathlib.Path, got {type(path).__name__}.")
    p = Path(path)
    if is_dir and not p.is_dir():
        raise FileNotFoundError(f"{what}: {str(p)!r} is not a directory.")
    if not is_dir and not p.is_file():
        raise FileNotFoundError(f"{what}: file {str(p)!r} does not exist.")
    return p

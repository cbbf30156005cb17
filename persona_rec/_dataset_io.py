"""Safe persistence of a :class:`~persona_rec.dataset.Dataset` (npz + JSON, no pickle).

The file layout is the one of :mod:`persona_rec.models.persistence`: one
``.npz`` whose ``__header__`` is JSON (format, version, kind ``"dataset"`` and
a checksum per array) and typed arrays for the id maps, the interactions and
the attribute frames. Loading uses ``allow_pickle=False`` and never imports
or runs anything named in the file.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .cleaning import CleaningReport
from .exceptions import CorruptFileError, InvalidDtypeError

if TYPE_CHECKING:  # pragma: no cover
    from .dataset import Dataset

__all__ = ["save_dataset", "load_dataset"]

_KIND = "dataset"


def save_dataset(dataset: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` to ``path`` (``.npz`` is appended when missing).

    Parameters
    ----------
    dataset : Dataset
    path : str or path-like

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from .dataset import Dataset
    from .models.persistence import _encode, write_npz

    if not isinstance(dataset, Dataset):
        raise InvalidDtypeError(f"dataset must be a Dataset, got {type(dataset).__name__}.")
    arrays: dict[str, np.ndarray] = {}
    state = {
        "user_map": dataset.user_map,
        "item_map": dataset.item_map,
        "inter": dataset.internal_interactions,
        "users": dataset._users,  # noqa: SLF001 - same package
        "items": dataset._items,  # noqa: SLF001
    }
    entries = {name: _encode(name, value, arrays) for name, value in state.items()}
    header = {
        "kind": _KIND,
        "state": entries,
        "event_weights": dataset.event_weights,
        "sensitive_columns": sorted(dataset.sensitive_columns),
        "cleaning_reports": [
            {"frame": r.frame, "n_input": r.n_input, "removed": r.removed,
             "descriptions": r.descriptions}
            for r in dataset.cleaning_reports
        ],
    }
    return write_npz(path, header, arrays)


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Load a Dataset written by :func:`save_dataset`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CorruptFileError
        The file is unreadable, tampered with, of another kind or version.
    """
    from .dataset import Dataset
    from .models.persistence import _decode, _NpzView, read_header

    path = Path(path)
    header = read_header(path)
    if header.get("kind") != _KIND:
        raise CorruptFileError(
            f"{path} holds a {header.get('kind') or header.get('class')!r}, not a Dataset."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            view = _NpzView(npz, header.get("checksums", {}), path)
            state: dict[str, Any] = {
                name: _decode(name, entry, view) for name, entry in header["state"].items()
            }
        reports = [
            CleaningReport(r["frame"], int(r["n_input"]), dict(r["removed"]),
                           dict(r["descriptions"]))
            for r in header["cleaning_reports"]
        ]
        inter = state["inter"].reset_index(drop=True)
        for col in ("user_idx", "item_idx"):
            inter[col] = inter[col].astype(np.int32)
        if len(inter) and (inter["user_idx"].max() >= len(state["user_map"])
                           or inter["item_idx"].max() >= len(state["item_map"])):
            raise CorruptFileError(f"{path}: interaction indices exceed the id maps.")
        return Dataset(
            user_map=state["user_map"],
            item_map=state["item_map"],
            inter=inter,
            users=state["users"],
            items=state["items"],
            event_weights={str(k): float(v) for k, v in header["event_weights"].items()},
            sensitive_columns=frozenset(header["sensitive_columns"]),
            cleaning_reports=reports,
        )
    except CorruptFileError:
        raise
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise CorruptFileError(f"{path} is not a valid persona_rec Dataset file: {exc}") from exc

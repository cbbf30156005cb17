"""Dataset <-> file wiring on top of :mod:`persona_rec.persistence` (npz + JSON, no pickle).

The file holds the id maps, the interactions and the attribute frames as
typed arrays, and the event weights, sensitive columns and cleaning reports
in the JSON header (``kind="dataset"``). Loading never imports or runs
anything named in the file; every problem raises
:class:`~persona_rec.exceptions.CorruptFileError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import persistence as _p
from ._validation import check_instance
from .cleaning import CleaningReport
from .columns import Columns
from .exceptions import CorruptFileError

if TYPE_CHECKING:  # pragma: no cover
    from .dataset import Dataset

__all__ = ["save_dataset", "load_dataset"]

_KIND = "dataset"
_STATE = {"user_map": "idmap", "item_map": "idmap", "inter": "frame", "users": "frame",
          "items": "frame"}
_REPORT = _p.Record({"frame": _p.STR, "n_input": _p.COUNT,
                      "removed": _p.MapOf(_p.COUNT), "descriptions": _p.MapOf(_p.STR)})
_BODY = _p.Record(
    {"state": _p.Record({k: _p.ENTRY for k in _STATE}),
     "event_weights": _p.MapOf(_p.Typed((int, float))),
     "sensitive_columns": _p.ListOf(_p.STR),
     "cleaning_reports": _p.ListOf(_REPORT)},
    open=True,
)


def save_dataset(dataset: Dataset, path: str | os.PathLike[str], *,
                 key: bytes | str | None = None) -> Path:
    """Write ``dataset`` to ``path`` (``.npz`` is appended when missing).

    Parameters
    ----------
    dataset : Dataset
    path : str or path-like
    key : bytes or str, optional
        Secret for an HMAC-SHA256 signature.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from .dataset import Dataset

    check_instance(dataset, Dataset, "dataset must be a Dataset")
    arrays: dict[str, np.ndarray] = {}
    state = {
        "user_map": dataset.user_map,
        "item_map": dataset.item_map,
        "inter": dataset.internal_interactions,
        "users": dataset._users,  # noqa: SLF001 - same package
        "items": dataset._items,  # noqa: SLF001
    }
    body = {
        "state": {name: _p.encode_value(name, value, arrays) for name, value in state.items()},
        "event_weights": dataset.event_weights,
        "sensitive_columns": sorted(dataset.sensitive_columns),
        "cleaning_reports": [
            {"frame": r.frame, "n_input": r.n_input, "removed": r.removed,
             "descriptions": r.descriptions}
            for r in dataset.cleaning_reports
        ],
    }
    return _p.write_file(path, _KIND, body, arrays, key=key)


def load_dataset(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> Dataset:
    """Load a Dataset written by :func:`save_dataset`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CorruptFileError
        The file is unreadable, tampered with, of another kind or version.
    """
    from .dataset import Dataset

    path = Path(path)
    header, arrays = _p.read_file(path, _KIND, key=key)
    try:
        _BODY.check(header, "header")
        state: dict[str, Any] = {}
        for name, want in _STATE.items():
            entry = header["state"][name]
            if entry["kind"] != want:
                raise CorruptFileError(f"{name} must be stored as {want!r}, got "
                                       f"{entry['kind']!r}.")
            state[name] = _p.decode_value(name, entry, arrays)
        reports = [
            CleaningReport(r["frame"], int(r["n_input"]), dict(r["removed"]),
                           dict(r["descriptions"]))
            for r in header["cleaning_reports"]
        ]
        inter = state["inter"].reset_index(drop=True)
        for col in (Columns.USER_IDX, Columns.ITEM_IDX):
            if col not in inter.columns:
                raise CorruptFileError(f"the interactions lack column {col!r}.")
            inter[col] = inter[col].astype(np.int32)
        for col, kinds in (("timestamp", "M"), ("weight", "f")):
            if col in inter.columns and inter[col].dtype.kind not in kinds:
                raise CorruptFileError(f"interaction column {col!r} has dtype "
                                       f"{inter[col].dtype}.")
        for col, idmap in ((Columns.USER_IDX, state["user_map"]), (Columns.ITEM_IDX, state["item_map"])):
            idx = inter[col].to_numpy()
            if len(idx) and (idx.min() < 0 or idx.max() >= len(idmap)):
                raise CorruptFileError(f"interaction column {col!r} holds indices outside the "
                                       f"id map (size {len(idmap)}).")
        for name, idmap in (("users", state["user_map"]), ("items", state["item_map"])):
            frame = state[name]
            if len(frame) and not frame.index.isin(idmap.external_ids).all():
                raise CorruptFileError(f"the {name} frame has ids missing from the id map.")
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
    except CorruptFileError as exc:
        raise CorruptFileError(f"{path} is not a valid persona_rec Dataset file: {exc}") from None
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as exc:
        raise CorruptFileError(f"{path} is not a valid persona_rec Dataset file "
                               f"({type(exc).__name__}: {exc}).") from None

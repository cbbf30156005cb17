"""Safe (npz + JSON, ``allow_pickle=False``) encoding of frames and sparse matrices."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import CorruptFileError

__all__ = ["encode_frame", "decode_frame", "encode_csr", "decode_csr", "write_npz", "read_npz"]

_META = "__meta__"


def _encode_values(values: Any, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Store one column under ``key``; return its JSON spec."""
    if isinstance(values, pd.Categorical) or isinstance(getattr(values, "dtype", None),
                                                        pd.CategoricalDtype):
        cat = pd.Categorical(values)
        arrays[key] = np.asarray(cat.codes, dtype=np.int64)
        return {"kind": "categorical", "categories": [str(c) for c in cat.categories]}
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        arrays[key] = arr.astype("datetime64[ns]").view(np.int64)
        return {"kind": "datetime"}
    if arr.dtype.kind in "biuf":
        arrays[key] = arr
        return {"kind": "numeric"}
    # object / string: strings, ints or floats mixed with missing values
    obj = arr.astype(object)
    missing = pd.isna(obj)
    kinds = pd.Series(obj, dtype=object).map(type)
    is_int = kinds.isin([int, np.int64, np.int32]).to_numpy(dtype=bool)
    is_float = kinds.isin([float, np.float64, np.float32]).to_numpy(dtype=bool) & ~missing
    # numpy's object -> str cast (pandas 3.1's Series.astype(str).to_numpy(dtype=str)
    # truncates every value to one character)
    text = obj.astype(str)
    text[missing] = ""
    arrays[key] = text
    arrays[key + "__missing"] = missing.astype(bool)
    arrays[key + "__int"] = is_int
    arrays[key + "__float"] = is_float
    return {"kind": "object"}


def _decode_values(spec: dict[str, Any], key: str, z: Any) -> Any:
    kind = spec["kind"]
    if kind == "categorical":
        codes = z[key]
        return pd.Categorical.from_codes(codes, categories=spec["categories"])
    if kind == "datetime":
        return z[key].view("datetime64[ns]")
    if kind == "numeric":
        return z[key]
    if kind == "object":
        text = z[key].astype(object)
        missing, is_int, is_float = z[key + "__missing"], z[key + "__int"], z[key + "__float"]
        out = text.copy()
        if is_int.any():
            out[is_int] = [int(v) for v in text[is_int]]
        if is_float.any():
            out[is_float] = [float(v) for v in text[is_float]]
        out[missing] = None
        return out
    raise CorruptFileError(f"unknown column kind {kind!r} for {key!r} in the file.")


def encode_frame(frame: pd.DataFrame, prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Encode ``frame`` (index and columns) into ``arrays``; return the JSON spec."""
    spec: dict[str, Any] = {
        "index_name": frame.index.name,
        "index": _encode_values(frame.index.to_numpy(), f"{prefix}/index", arrays),
        "columns": [],
    }
    for j, col in enumerate(frame.columns):
        key = f"{prefix}/c{j}"
        col_spec = _encode_values(frame[col].array if isinstance(frame[col].dtype,
                                                                  pd.CategoricalDtype)
                                  else frame[col].to_numpy(), key, arrays)
        col_spec["name"] = str(col)
        spec["columns"].append(col_spec)
    return spec


def decode_frame(spec: dict[str, Any], prefix: str, z: Any) -> pd.DataFrame:
    """Inverse of :func:`encode_frame`."""
    index = pd.Index(_decode_values(spec["index"], f"{prefix}/index", z), name=spec["index_name"])
    data = {}
    for j, col_spec in enumerate(spec["columns"]):
        data[col_spec["name"]] = _decode_values(col_spec, f"{prefix}/c{j}", z)
    return pd.DataFrame(data, index=index)


def encode_csr(m: sp.csr_matrix, prefix: str, arrays: dict[str, np.ndarray]) -> list[int]:
    """Store a CSR matrix's arrays; return its shape."""
    arrays[f"{prefix}/data"] = m.data
    arrays[f"{prefix}/indices"] = m.indices
    arrays[f"{prefix}/indptr"] = m.indptr
    return [int(m.shape[0]), int(m.shape[1])]


def decode_csr(shape: list[int], prefix: str, z: Any) -> sp.csr_matrix:
    """Inverse of :func:`encode_csr` (validates the structure)."""
    m = sp.csr_matrix(
        (z[f"{prefix}/data"], z[f"{prefix}/indices"], z[f"{prefix}/indptr"]), shape=tuple(shape)
    )
    m.check_format(full_check=True)
    return m


def write_npz(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` and the JSON ``meta`` into one compressed ``.npz`` file."""
    path = Path(path)
    payload = dict(arrays)
    payload[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **payload)
    return path


class NpzReader:
    """Opened npz file: ``meta`` dict and array access by key (no pickle)."""

    def __init__(self, path: str | Path, kind: str, version: int) -> None:
        self.path = Path(path)
        try:
            self._z = np.load(self.path, allow_pickle=False)
            meta_bytes = self._z[_META].tobytes()
            self.meta = json.loads(meta_bytes.decode("utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
                EOFError) as exc:
            raise CorruptFileError(
                f"{self.path} is not a readable persona_rec {kind} file ({type(exc).__name__}: "
                f"{exc})."
            ) from exc
        if not isinstance(self.meta, dict) or self.meta.get("kind") != kind:
            got = self.meta.get("kind") if isinstance(self.meta, dict) else None
            raise CorruptFileError(f"{self.path} holds {got!r}, expected kind {kind!r}.")
        if self.meta.get("format_version") != version:
            raise CorruptFileError(
                f"{self.path} has format_version {self.meta.get('format_version')!r}, "
                f"this version of persona_rec reads {version}."
            )

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self._z[key]
        except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise CorruptFileError(f"{self.path}: array {key!r} is missing or unreadable.") from exc

    def close(self) -> None:
        """Close the underlying file."""
        self._z.close()


def read_npz(path: str | Path, kind: str, version: int) -> NpzReader:
    """Open a file written by :func:`write_npz`, checking its kind and version."""
    return NpzReader(path, kind, version)

"""Safe save/load of models: one ``.npz`` file, arrays plus a JSON header.

Format (``format="persona_rec.model"``, ``version=1``)
------------------------------------------------------
A model is written to a single NumPy ``.npz`` archive:

* key ``"__header__"``: a 0-d unicode array holding a JSON document
  ``{"format", "version", "class", "module", "config", "persona_rec_version",
  "state", "checksums"}``. ``config`` is :meth:`Recommender.get_params` (JSON
  values only); ``state`` describes every learned attribute (see below).
* one array per learned attribute (or several for sparse matrices, id maps and
  frames), named after the attribute, e.g. ``"item_factors_"``,
  ``"user_items_.data"``.

Learned state is found automatically: every public attribute whose name ends
in ``_`` (the scikit-learn convention). Supported values: ``None``, JSON
scalars/lists/dicts, numeric/bool/str ``numpy.ndarray``, object arrays of ids
(str and/or int), ``scipy.sparse`` matrices (stored as CSR),
:class:`~persona_rec.identifiers.IdMap`, ``pandas.DataFrame`` and
``pandas.Series`` (numeric, bool, datetime and text columns; other objects are
stored as text) and nested :class:`Recommender` objects (a list of them is
also fine). Anything else raises :class:`~persona_rec.exceptions.InvalidDtypeError`
at save time: keep such helpers private (leading ``_``) and rebuild them in
``_after_load``.

Loading uses ``numpy.load(allow_pickle=False)``, so no code stored in the file
is ever executed. The class named in the header is looked up in a registry of
:class:`Recommender` subclasses; only modules under ``persona_rec.`` are ever
imported to find it. A SHA-256 checksum per array detects tampering and
truncation. Any unreadable, tampered or mismatched file raises
:class:`~persona_rec.exceptions.CorruptFileError`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import CorruptFileError, InvalidDtypeError
from ..identifiers import IdMap

if TYPE_CHECKING:  # pragma: no cover
    from .base import Recommender

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "register_model",
    "registered_models",
    "save_model",
    "load_model",
    "read_header",
    "encode_ids",
    "decode_ids",
]

FORMAT = "persona_rec.model"
FORMAT_VERSION = 1

_REGISTRY: dict[str, type] = {}


def register_model(cls: type) -> type:
    """Register a Recommender subclass so :func:`load_model` can rebuild it.

    Subclasses of :class:`~persona_rec.models.base.Recommender` are registered
    automatically (``__init_subclass__``); calling this is only needed for
    classes built some other way. Classes are keyed by their ``__qualname__``.
    """
    _REGISTRY[cls.__qualname__] = cls
    return cls


def registered_models() -> dict[str, type]:
    """Return a copy of the class registry (class name -> class)."""
    return dict(_REGISTRY)


def _version() -> str:
    try:
        from .. import __version__

        return str(__version__)
    except Exception:  # pragma: no cover - during partial imports
        return "unknown"


# ------------------------------------------------------------------- ids
def encode_ids(values: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Encode an array of external ids (int, str or a mix) without pickling.

    Returns ``(arrays, meta)`` where ``arrays`` has key ``"v"`` (and ``"t"``
    for mixed ids: 0 = int, 1 = str).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return {"v": arr.astype(np.int64)}, {"ids": "int"}
    if arr.dtype.kind == "U":
        return {"v": arr}, {"ids": "str"}
    if arr.dtype.kind == "f":
        return {"v": arr}, {"ids": "float"}
    if arr.dtype.kind != "O":
        raise InvalidDtypeError(f"cannot store ids of dtype {arr.dtype}.")
    if len(arr) == 0:
        return {"v": np.asarray([], dtype="U1")}, {"ids": "str"}
    is_int = np.fromiter(
        (isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr),
        dtype=bool,
        count=len(arr),
    )
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
    if not (is_int | is_str).all():
        bad = arr[~(is_int | is_str)][:3]
        raise InvalidDtypeError(
            f"ids must be str or int to be saved, got {[type(b).__name__ for b in bad]}."
        )
    if is_str.all():
        return {"v": arr.astype(str)}, {"ids": "str"}
    if is_int.all():
        return {"v": arr.astype(np.int64)}, {"ids": "object_int"}
    return {"v": arr.astype(str), "t": is_str.astype(np.int8)}, {"ids": "mixed"}


def decode_ids(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_ids`."""
    kind = meta["ids"]
    v = arrays["v"]
    if kind in ("int", "str", "float"):
        return v
    if kind == "object_int":
        out = np.empty(len(v), dtype=object)
        out[:] = [int(x) for x in v]
        return out
    if kind == "mixed":
        t = arrays["t"]
        out = np.empty(len(v), dtype=object)
        out[:] = [s if flag else int(s) for s, flag in zip(v.tolist(), t.tolist())]
        return out
    raise CorruptFileError(f"unknown id encoding {kind!r}.")


# --------------------------------------------------------------- columns
def _encode_column(s: pd.Series) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = s.dtype
    if dtype.kind in "Mm":
        raw = s.to_numpy()
        unit = np.datetime_data(raw.dtype)[0]
        kind = "datetime" if dtype.kind == "M" else "timedelta"
        return {"v": raw.view(np.int64)}, {"col": kind, "unit": unit}
    if dtype.kind in "biuf" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return {"v": s.to_numpy()}, {"col": "numeric"}
    # extension/object/category/string columns
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    null = s.isna().to_numpy()
    if inferred == "boolean":
        v = s.fillna(False).astype(bool).to_numpy()
        return {"v": v, "null": null}, {"col": "bool"}
    if inferred == "integer":
        v = s.fillna(0).astype(np.int64).to_numpy()
        return {"v": v, "null": null}, {"col": "int"}
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return {"v": s.astype(np.float64).to_numpy()}, {"col": "numeric"}
    if inferred in ("datetime", "datetime64", "date"):
        v = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]").view(np.int64)
        return {"v": v}, {"col": "datetime", "unit": "ns"}
    obj = s.astype(object).to_numpy(dtype=object).copy()
    obj[null] = ""
    v = obj.astype(str) if len(obj) else np.asarray([], dtype="U1")
    return {"v": v, "null": null}, {"col": "str", "categorical": isinstance(dtype, pd.CategoricalDtype)}


def _decode_column(arrays: dict[str, np.ndarray], meta: dict[str, Any], index: pd.Index,
                   name: str) -> pd.Series:
    kind = meta["col"]
    v = arrays["v"]
    if kind in ("datetime", "timedelta"):
        unit = meta.get("unit", "ns")
        base = "datetime64" if kind == "datetime" else "timedelta64"
        return pd.Series(v.view(f"{base}[{unit}]"), index=index, name=name)
    if kind == "numeric":
        return pd.Series(v, index=index, name=name)
    null = arrays["null"].astype(bool)
    if kind in ("bool", "int"):
        out = pd.Series(v.astype(object), index=index, name=name)
        out[null] = None
        if not null.any():
            out = out.astype(v.dtype)
        return out
    out = pd.Series(v.astype(object), index=index, name=name)
    out[null] = np.nan
    if meta.get("categorical"):
        out = out.astype("category")
    return out


# ----------------------------------------------------------------- values
def _encode(name: str, value: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Encode one attribute into ``arrays`` (keys prefixed by ``name``); return its header entry."""
    from .base import Recommender

    def put(suffix: str, arr: np.ndarray) -> None:
        arrays[f"{name}{suffix}"] = arr

    if value is None:
        return {"kind": "none"}
    if isinstance(value, Recommender):
        sub: dict[str, np.ndarray] = {}
        entry = _model_header(value, sub, prefix=f"{name}.")
        arrays.update(sub)
        return {"kind": "model", "header": entry}
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Recommender) for v in value):
        entries = [_encode(f"{name}.{i}", v, arrays) for i, v in enumerate(value)]
        return {"kind": "model_list", "items": entries}
    if isinstance(value, (bool, int, float, str, np.integer, np.floating, np.bool_)):
        return {"kind": "json", "value": value.item() if isinstance(value, np.generic) else value}
    if isinstance(value, (list, tuple, dict)):
        try:
            text = json.dumps(value)
        except TypeError as exc:
            raise InvalidDtypeError(
                f"attribute {name!r} holds a {type(value).__name__} that is not JSON "
                f"serialisable: {exc}."
            ) from exc
        return {"kind": "json", "value": json.loads(text), "tuple": isinstance(value, tuple)}
    if isinstance(value, IdMap):
        a, meta = encode_ids(value.external_ids)
        for k, v in a.items():
            put(f".{k}", v)
        return {"kind": "idmap", **meta}
    if sp.issparse(value):
        m = sp.csr_matrix(value)
        put(".data", m.data)
        put(".indices", m.indices)
        put(".indptr", m.indptr)
        return {"kind": "csr", "shape": list(m.shape)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            a, meta = encode_ids(value)
            for k, v in a.items():
                put(f".{k}", v)
            return {"kind": "objarray", **meta}
        put("", value)
        return {"kind": "ndarray"}
    if isinstance(value, pd.Series):
        frame = value.to_frame(name="__series__")
        entry = _encode(name, frame, arrays)
        entry["kind"] = "series"
        entry["series_name"] = value.name if isinstance(value.name, (str, int)) else None
        return entry
    if isinstance(value, pd.DataFrame):
        ia, imeta = encode_ids(value.index.to_numpy())
        for k, v in ia.items():
            put(f".index.{k}", v)
        cols = []
        for i, col in enumerate(value.columns):
            ca, cmeta = _encode_column(value[col])
            for k, v in ca.items():
                put(f".c{i}.{k}", v)
            cols.append({"name": col if isinstance(col, (str, int)) else str(col), **cmeta})
        return {"kind": "frame", "index": imeta, "index_name": value.index.name, "columns": cols}
    raise InvalidDtypeError(
        f"attribute {name!r} of type {type(value).__name__} cannot be saved safely; "
        f"make it private (leading '_') and rebuild it in _after_load."
    )


def _decode(name: str, entry: dict[str, Any], npz: Any) -> Any:
    kind = entry["kind"]

    def get(suffix: str) -> np.ndarray:
        return npz[f"{name}{suffix}"]

    def sub(prefix: str) -> dict[str, np.ndarray]:
        return {k: get(f"{prefix}{k}") for k in ("v", "t", "null") if f"{name}{prefix}{k}" in npz}

    if kind == "none":
        return None
    if kind == "json":
        v = entry["value"]
        return tuple(v) if entry.get("tuple") else v
    if kind == "model":
        return _build_model(entry["header"], npz, prefix=f"{name}.")
    if kind == "model_list":
        return [_decode(f"{name}.{i}", e, npz) for i, e in enumerate(entry["items"])]
    if kind == "idmap":
        return IdMap(decode_ids(sub("."), entry))
    if kind == "csr":
        return sp.csr_matrix((get(".data"), get(".indices"), get(".indptr")),
                             shape=tuple(entry["shape"]))
    if kind == "ndarray":
        return get("")
    if kind == "objarray":
        return decode_ids(sub("."), entry)
    if kind in ("frame", "series"):
        index = pd.Index(decode_ids(sub(".index."), entry["index"]), name=entry["index_name"])
        data = {}
        for i, col in enumerate(entry["columns"]):
            data[col["name"]] = _decode_column(sub(f".c{i}."), col, index, col["name"])
        frame = pd.DataFrame(data, index=index)
        if kind == "series":
            s = frame["__series__"]
            s.name = entry.get("series_name")
            return s
        return frame
    raise CorruptFileError(f"unknown state kind {kind!r} for attribute {name!r}.")


def _json_config(model: Recommender) -> dict[str, Any]:
    config = model._json_params()
    try:
        return json.loads(json.dumps(config))
    except TypeError as exc:
        raise InvalidDtypeError(
            f"{type(model).__name__} parameters are not JSON serialisable ({exc}); override "
            f"_json_params/_params_from_json to store them."
        ) from exc


def _model_header(model: Recommender, arrays: dict[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    from ..exceptions import NotFittedError

    if not model.is_fitted:
        raise NotFittedError(f"{type(model).__name__} must be fitted before save().")
    state = {}
    for attr, value in model._learned_state().items():
        state[attr] = _encode(f"{prefix}{attr}", value, arrays)
    return {
        "class": type(model).__qualname__,
        "module": type(model).__module__,
        "config": _json_config(model),
        "state": state,
    }


def _resolve_class(name: str, module: str) -> type:
    cls = _REGISTRY.get(name)
    if cls is None and isinstance(module, str) and module.startswith("persona_rec."):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise CorruptFileError(f"model module {module!r} cannot be imported: {exc}.") from exc
        cls = _REGISTRY.get(name)
    if cls is None:
        raise CorruptFileError(
            f"the file names model class {name!r} (module {module!r}), which is not a "
            f"registered persona_rec model."
        )
    return cls


def _build_model(header: dict[str, Any], npz: Any, prefix: str = "") -> Recommender:
    cls = _resolve_class(header["class"], header.get("module", ""))
    try:
        model = cls._from_json_params(header["config"])
    except (TypeError, ValueError) as exc:
        raise CorruptFileError(
            f"the stored config of {header['class']} is invalid: {exc}"
        ) from exc
    for attr, entry in header["state"].items():
        setattr(model, attr, _decode(f"{prefix}{attr}", entry, npz))
    model._fitted = True
    model._after_load()
    return model


def _digest(arr: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(arr.dtype.str).encode())
    h.update(str(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save_model(model: Recommender, path: str | os.PathLike[str]) -> Path:
    """Write a fitted model to ``path`` (``.npz`` is appended when missing).

    Parameters
    ----------
    model : Recommender
        A fitted model.
    path : str or path-like
        Target file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    arrays: dict[str, np.ndarray] = {}
    header = _model_header(model, arrays)
    return write_npz(path, header, arrays)


def write_npz(path: str | os.PathLike[str], header: dict[str, Any],
              arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` and a JSON ``header`` (with format, version, checksums) atomically.

    Parameters
    ----------
    path : str or path-like
        Target file; ``.npz`` is appended when missing.
    header : dict
        JSON-serialisable description of the content (``format``, ``version``,
        ``persona_rec_version`` and ``checksums`` are added).
    arrays : dict of str to numpy.ndarray
        Arrays without object dtype.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "persona_rec_version": _version(),
        **header,
        "checksums": {k: _digest(v) for k, v in arrays.items()},
    }
    for key, arr in arrays.items():
        if arr.dtype.kind == "O":  # pragma: no cover - guarded by _encode
            raise InvalidDtypeError(f"array {key!r} has object dtype and cannot be saved safely.")
    arrays = {**arrays, "__header__": np.asarray(json.dumps(header))}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, path)
    return path


class _NpzView:
    """Dict-like access to an open NpzFile that verifies each array's checksum."""

    def __init__(self, npz: Any, checksums: dict[str, str], path: Path) -> None:
        self._npz = npz
        self._checksums = checksums
        self._path = path
        self._files = set(npz.files)

    def __contains__(self, key: str) -> bool:
        return key in self._files

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._files:
            raise CorruptFileError(f"{self._path}: array {key!r} is missing.")
        arr = self._npz[key]
        want = self._checksums.get(key)
        if want is None or _digest(arr) != want:
            raise CorruptFileError(f"{self._path}: checksum mismatch for array {key!r}.")
        return arr


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the JSON header of a saved model file.

    Raises
    ------
    CorruptFileError
        The file is not a persona_rec model file or is of a newer version.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = npz["__header__"]
            header = json.loads(str(raw[()]))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise CorruptFileError(f"{path} is not a readable persona_rec model file: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CorruptFileError(
            f"{path} has format {header.get('format') if isinstance(header, dict) else None!r}, "
            f"expected {FORMAT!r}."
        )
    if not isinstance(header.get("version"), int) or header["version"] > FORMAT_VERSION:
        raise CorruptFileError(
            f"{path} has format version {header.get('version')!r}; this persona_rec reads "
            f"versions <= {FORMAT_VERSION}."
        )
    return header


def load_model(path: str | os.PathLike[str], expected: type | None = None) -> Recommender:
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    expected : type, optional
        If given, the stored model must be an instance of this class.

    Returns
    -------
    Recommender

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CorruptFileError
        The file is unreadable, tampered with, of another format/version, or
        holds a model of another class than ``expected``.
    """
    path = Path(path)
    header = read_header(path)
    try:
        cls = _resolve_class(header["class"], header.get("module", ""))
        if expected is not None and not issubclass(cls, expected):
            raise CorruptFileError(
                f"{path} holds a {header['class']}, not a {expected.__qualname__}."
            )
        with np.load(path, allow_pickle=False) as npz:
            view = _NpzView(npz, header.get("checksums", {}), path)
            return _build_model(header, view)
    except CorruptFileError:
        raise
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise CorruptFileError(f"{path} is corrupt or mismatched: {exc!r}") from exc

"""One safe file format for everything persona_rec saves (no pickle, ever).

:class:`~persona_rec.dataset.Dataset`, :class:`~persona_rec.profiles.Profiles`,
:class:`~persona_rec.tags.UserTags`, :class:`~persona_rec.tags.Taxonomy` and
every :class:`~persona_rec.models.Recommender` are written by this module.
It sits on the ground floor of the package: it imports nothing from
``dataset``, ``profiles``, ``tags`` or ``models`` (models register their
classes here, see :func:`register_model`).

File layout (``format="persona_rec"``, ``version=2``)
-----------------------------------------------------
One zip archive of ``.npy`` members (what :func:`numpy.savez_compressed`
writes), created in a temporary file next to the target and moved into place
with :func:`os.replace`, so a crash never leaves a half-written file under the
target name:

* ``__header__``: a 0-d unicode array holding one JSON object
  ``{"format", "version", "kind", "persona_rec_version", "signed", ...,
  "checksums"}``. ``kind`` is ``"dataset"``, ``"profiles"``, ``"user_tags"``,
  ``"taxonomy"`` or ``"model"``; the other keys describe the content (see
  :func:`encode_value` for the value entries) and ``checksums`` maps every
  other member to the SHA-256 of its dtype, shape and bytes.
* one member per array, named after the value it belongs to
  (``"item_factors_"``, ``"user_items_.data"``, ``"inter.c2.v"``).
* ``__signature__`` (only when saved with ``key=``): HMAC-SHA256 of the header
  text, see below.

Guarantees when loading
-----------------------
* Only plain numeric, boolean, datetime and fixed-width text arrays are read;
  members with object dtype (pickles) are refused and ``allow_pickle`` is
  never set. Nothing named in a file is imported except registered
  persona_rec model classes.
* Every failure to read, decode or validate a file raises
  :class:`~persona_rec.exceptions.CorruptFileError` (a ``ValueError``);
  only a missing file raises ``FileNotFoundError``. This covers flipped bytes
  (zip CRC-32 and the per-array SHA-256), truncation, JSON nested deeper than
  :data:`MAX_JSON_DEPTH`, unknown or mistyped header fields (the header is
  checked against a schema before use), arrays whose shapes disagree with
  each other or with the id maps, and model state outside the class's
  declared learned attributes (:class:`Learned`).
* Memory is bounded before anything is decompressed: the sizes the archive
  declares may add up to at most :func:`read_budget` bytes
  (``max(MIN_READ_BUDGET, MAX_EXPANSION * file size)``: 64 MiB, or 50 bytes
  per byte on disk for larger files), and every member must hold exactly the
  bytes its ``.npy`` header announces. Pass ``max_bytes=`` to
  :func:`read_file` to change the bound.

Checksums detect accidents, not tampering
-----------------------------------------
The SHA-256 checksums and zip CRCs are unkeyed: anyone who can write the file
can recompute them, so they prove the file is intact, not that it is yours.
For files that cross a trust boundary pass a secret ``key=`` to ``save`` and
``load``: the header (which holds every array's checksum) is then signed with
HMAC-SHA256 and verified before it is parsed. Loading a signed file without a
key, with another key, or an unsigned file with a key raises
:class:`SignatureError` (a :class:`~persona_rec.exceptions.CorruptFileError`).
A signature proves who wrote the file, not that its content is sensible:
loading still validates everything as above.

This module is one cohesive unit, the file format (container, header
schema, value codec and model state declarations), hence its length.

Model and Dataset files written by persona_rec 0.1 (``format=
"persona_rec.model"``, version 1) are still read: their checksums are verified,
their values re-encoded, and the result goes through every check above. The
0.1 Profiles and UserTags layouts are refused with a message saying so
(rebuild them from the Dataset; see ``docs/persistence.md``).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._progress import get_logger
from ._validation import check_instance
from .exceptions import CorruptFileError, InvalidDtypeError, InvalidParameterError, NotFittedError
from .identifiers import IdMap

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_JSON_DEPTH",
    "MIN_READ_BUDGET",
    "MAX_EXPANSION",
    "SignatureError",
    "Learned",
    "Schema",
    "Typed",
    "ListOf",
    "MapOf",
    "Record",
    "AnyValue",
    "STR",
    "COUNT",
    "BOOL",
    "LABEL",
    "ANY",
    "ENTRY",
    "read_budget",
    "loads_json",
    "write_file",
    "read_file",
    "read_header",
    "encode_value",
    "decode_value",
    "encode_ids",
    "decode_ids",
    "register_model",
    "registered_models",
    "learned_spec",
    "save_model",
    "load_model",
]

_log = get_logger(__name__)

FORMAT = "persona_rec"
FORMAT_VERSION = 2
#: Deepest JSON nesting accepted in a header or taxonomy (deeper is refused, not recursed).
MAX_JSON_DEPTH = 64
#: Uncompressed bytes every file may declare, whatever its size.
MIN_READ_BUDGET = 64 * 2**20
#: Uncompressed bytes allowed per byte on disk above :data:`MIN_READ_BUDGET`.
MAX_EXPANSION = 50
_MAX_MEMBERS = 100_000
_HEADER = "__header__"
_SIGNATURE = "__signature__"
_SIG_CONTEXT = b"persona_rec.hmac-sha256.v2\n"
_KINDS = ("dataset", "profiles", "user_tags", "taxonomy", "model")
_ARRAY_KINDS = "biufUMm"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_STATE_NAME = re.compile(r"[a-z][a-z0-9_]*_")


class SignatureError(CorruptFileError):
    """A keyed signature is missing, unexpected or does not match the key."""


# =========================================================================== JSON
def _json_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of JSON ``text`` (strings skipped), vectorised."""
    raw = text.encode("utf-8", "surrogatepass")
    if b'"' in raw:
        raw = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", raw, flags=re.DOTALL)
    if not raw:
        return 0
    b = np.frombuffer(raw, dtype=np.uint8)
    step = (np.isin(b, (ord("["), ord("{"))).astype(np.int32)
            - np.isin(b, (ord("]"), ord("}"))).astype(np.int32))
    return int(np.cumsum(step).max(initial=0))


def loads_json(text: str, what: str) -> Any:
    """Parse JSON ``text`` safely: bounded nesting, typed error.

    Parameters
    ----------
    text : str
        The JSON document.
    what : str
        Names the document in error messages.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    CorruptFileError
        Not JSON, or nested deeper than :data:`MAX_JSON_DEPTH`.

    Examples
    --------
    >>> loads_json('{"a": [1, 2]}', "header")
    {'a': [1, 2]}
    >>> loads_json("[" * 100_000, "header")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.CorruptFileError: header nests JSON 100000 levels deep; at most 64 are allowed.
    """
    if not isinstance(text, str):
        raise CorruptFileError(f"{what} must be JSON text, got {type(text).__name__}.")
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise CorruptFileError(
            f"{what} nests JSON {depth} levels deep; at most {MAX_JSON_DEPTH} are allowed."
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CorruptFileError(f"{what} is not valid JSON: {exc}.") from None


# ======================================================================= schema
class Schema:
    """A structural rule for a JSON header field (see :class:`Record` for an example).

    Header schemas are small trees of :class:`Typed`, :class:`ListOf`,
    :class:`MapOf` and :class:`Record`; ``ENTRY`` checks one encoded value
    (:func:`encode_value`). Each raises
    :class:`~persona_rec.exceptions.CorruptFileError` naming the field, the
    rule and the value.
    """

    def check(self, value: Any, where: str) -> None:  # pragma: no cover - abstract
        """Raise :class:`~persona_rec.exceptions.CorruptFileError` unless ``value`` fits."""
        raise NotImplementedError


def _type_name(value: Any) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class Typed(Schema):
    """A JSON scalar of one of ``types`` (``bool`` is no ``int`` here), optionally restricted."""

    types: tuple[type, ...]
    choices: tuple[Any, ...] | None = None
    minimum: int | None = None
    pattern: re.Pattern[str] | None = None

    def check(self, value: Any, where: str) -> None:
        ok = isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in self.types)
        if not ok:
            names = " or ".join(t.__name__ if t is not type(None) else "null" for t in self.types)
            raise CorruptFileError(f"header field {where} must be {names}, got "
                                   f"{_type_name(value)} {_short(value)}.")
        if self.choices is not None and value not in self.choices:
            raise CorruptFileError(f"header field {where} must be one of {list(self.choices)}, "
                                   f"got {_short(value)}.")
        if self.minimum is not None and isinstance(value, int) and value < self.minimum:
            raise CorruptFileError(f"header field {where} must be >= {self.minimum}, got {value}.")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise CorruptFileError(f"header field {where} has an invalid value {_short(value)}.")


@dataclass(frozen=True)
class ListOf(Schema):
    """A JSON list whose items all fit ``item`` (and with ``length`` items, if given)."""

    item: Schema
    length: int | None = None

    def check(self, value: Any, where: str) -> None:
        _require_json(value, list, "a list", where)
        if self.length is not None and len(value) != self.length:
            raise CorruptFileError(f"header field {where} must have {self.length} items, "
                                   f"got {len(value)}.")
        for i, v in enumerate(value):
            self.item.check(v, f"{where}[{i}]")


@dataclass(frozen=True)
class MapOf(Schema):
    """A JSON object whose values all fit ``value`` (keys matching ``key``, if given)."""

    value: Schema
    key: re.Pattern[str] | None = None

    def check(self, value: Any, where: str) -> None:
        _require_json(value, dict, "an object", where)
        for k, v in value.items():
            if self.key is not None and not self.key.fullmatch(k):
                raise CorruptFileError(f"header field {where} has an invalid key {_short(k)}.")
            self.value.check(v, f"{where}[{k!r}]")


@dataclass(frozen=True)
class Record(Schema):
    """A JSON object with ``required`` and ``optional`` fields; others refused unless ``open``.

    Examples
    --------
    >>> schema = Record({"state": MapOf(ENTRY), "n": COUNT})
    >>> schema.check({"state": [], "n": 1}, "header")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.CorruptFileError: header field header.state must be an object, got list [].
    """

    required: Mapping[str, Schema]
    optional: Mapping[str, Schema] = field(default_factory=dict)
    open: bool = False

    def check(self, value: Any, where: str) -> None:
        _require_json(value, dict, "an object", where)
        missing = sorted(set(self.required) - set(value))
        if missing:
            raise CorruptFileError(f"header field {where} lacks key(s) {missing}.")
        if not self.open:
            extra = sorted(set(value) - set(self.required) - set(self.optional))
            if extra:
                raise CorruptFileError(f"header field {where} has unknown key(s) {extra[:5]}.")
        for k, s in (*self.required.items(), *self.optional.items()):
            if k in value:
                s.check(value[k], f"{where}.{k}")


class AnyValue(Schema):
    """Any JSON value (free-form fields such as a model's config values)."""

    def check(self, value: Any, where: str) -> None:
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _require_json(value: Any, kind: type, noun: str, where: str) -> None:
    """Refuse a header field that is not a JSON ``kind`` (``noun``: "a list", "an object")."""
    if not isinstance(value, kind):
        raise CorruptFileError(f"header field {where} must be {noun}, got "
                               f"{_type_name(value)} {_short(value)}.")


def _tagged_schema(value: dict[str, Any], where: str, tag: str,
                   schemas: Mapping[str, Schema], allowed: list[str]) -> Schema:
    """The schema that the field ``tag`` of ``value`` selects in ``schemas`` (else refuse)."""
    name = value.get(tag)
    schema = schemas.get(name) if isinstance(name, str) else None
    if schema is None:
        raise CorruptFileError(f"header field {where}.{tag} must be one of {allowed}, got "
                               f"{_short(name)}.")
    return schema


#: Common field rules: a string, a non-negative int, a bool, a frame label, anything.
STR = Typed((str,))
COUNT = Typed((int,), minimum=0)
BOOL = Typed((bool,))
LABEL = Typed((str, int, type(None)))
ANY = AnyValue()
_UNITS = ("D", "h", "m", "s", "ms", "us", "ns")

# 1-D values (ids, index, columns): "enc" decides the rest
_VALUES_SCHEMAS: dict[str, Schema] = {
    "num": Record({"enc": STR}),
    "object_int": Record({"enc": STR}),
    "object": Record({"enc": STR}),
    "datetime": Record({"enc": STR, "unit": Typed((str,), _UNITS)},
                       {"tz": Typed((str, type(None)))}),
    "timedelta": Record({"enc": STR, "unit": Typed((str,), _UNITS)}),
    "masked": Record({"enc": STR, "dtype": STR}),
    "string": Record({"enc": STR, "dtype": STR}),
}


class _Values(Schema):
    def check(self, value: Any, where: str) -> None:
        _require_json(value, dict, "an object", where)
        enc = value.get("enc")
        if enc == "categorical":
            Record({"enc": STR, "ordered": BOOL, "categories": self}).check(value, where)
            return
        _tagged_schema(value, where, "enc", _VALUES_SCHEMAS,
                       sorted([*_VALUES_SCHEMAS, "categorical"])).check(value, where)


_VALUES = _Values()
_COLUMN = Record({"name": LABEL, "values": _VALUES})


class _Entry(Schema):
    """Schema of one encoded value (see :func:`encode_value`)."""

    def check(self, value: Any, where: str) -> None:
        _require_json(value, dict, "an object", where)
        _tagged_schema(value, where, "kind", _ENTRY_SCHEMAS,
                       sorted(_ENTRY_SCHEMAS)).check(value, where)


#: Rule for one encoded value (the dicts :func:`encode_value` returns).
ENTRY = _Entry()
_MODEL = Record({"kind": STR, "class": STR, "module": STR, "config": MapOf(ANY),
                  "state": MapOf(ENTRY)})
_ENTRY_SCHEMAS: dict[str, Schema] = {
    "none": Record({"kind": STR}),
    "json": Record({"kind": STR, "value": ANY}, {"tuple": BOOL}),
    "ndarray": Record({"kind": STR}),
    "csr": Record({"kind": STR, "shape": ListOf(COUNT, 2)}),
    "values": Record({"kind": STR, "values": _VALUES}),
    "idmap": Record({"kind": STR, "values": _VALUES}),
    "frame": Record({"kind": STR, "index": _VALUES, "index_name": LABEL,
                      "columns": ListOf(_COLUMN)}),
    "series": Record({"kind": STR, "index": _VALUES, "index_name": LABEL,
                       "name": LABEL, "values": _VALUES}),
    "model": _MODEL,
    "model_list": Record({"kind": STR, "items": ListOf(ENTRY)}),
}
_ENVELOPE = Record(
    {"format": Typed((str,), (FORMAT,)), "version": Typed((int,), (FORMAT_VERSION,)),
     "kind": Typed((str,), _KINDS), "persona_rec_version": STR, "signed": BOOL,
     "checksums": MapOf(Typed((str,), pattern=_HEX64))},
    open=True,
)


# ===================================================================== container
def read_budget(file_size: int) -> int:
    """Uncompressed bytes a file of ``file_size`` bytes may declare when read.

    Parameters
    ----------
    file_size : int
        Size of the file on disk in bytes.

    Returns
    -------
    int
        ``max(MIN_READ_BUDGET, MAX_EXPANSION * file_size)``.

    Examples
    --------
    >>> read_budget(600_000) // 2**20
    64
    >>> read_budget(10 * 2**20) // 2**20
    500
    """
    return max(MIN_READ_BUDGET, MAX_EXPANSION * int(file_size))


def _version() -> str:
    try:
        from . import __version__

        return str(__version__)
    except Exception:  # pragma: no cover - during partial imports
        return "unknown"


def _digest(arr: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(arr.dtype.str).encode())
    h.update(str(arr.shape).encode())
    data = arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
    h.update(data.reshape(-1).view(np.uint8) if data.size and data.dtype.itemsize else b"")
    return h.hexdigest()


def _check_key(key: Any) -> bytes | None:
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    check_instance(key, (bytes, bytearray), "The 'key' parameter must be bytes or str")
    if len(key) == 0:
        raise InvalidParameterError("The 'key' parameter must not be empty, got b''.")
    return bytes(key)


def _sign(key: bytes, header_text: str) -> str:
    return hmac.new(key, _SIG_CONTEXT + header_text.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def _npz_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path with ``.npz`` appended when it has another suffix."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def write_file(path: str | os.PathLike[str], kind: str, body: Mapping[str, Any],
               arrays: Mapping[str, np.ndarray], *, key: bytes | str | None = None) -> Path:
    """Write ``arrays`` and a JSON header atomically (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        Target file; ``.npz`` is appended when missing.
    kind : str
        One of ``"dataset"``, ``"profiles"``, ``"user_tags"``, ``"taxonomy"``, ``"model"``.
    body : mapping
        JSON-serialisable header fields describing the content.
    arrays : mapping of str to numpy.ndarray
        Arrays without object dtype.
    key : bytes or str, optional
        Secret for an HMAC-SHA256 signature of the header.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = write_file(os.path.join(d, "x"), "taxonomy", {"taxonomy": {}}, {"a": np.arange(3)})
    >>> p.name
    'x.npz'
    >>> header, arrays = read_file(p, "taxonomy")
    >>> arrays["a"].tolist(), header["kind"]
    ([0, 1, 2], 'taxonomy')
    """
    if kind not in _KINDS:
        raise InvalidParameterError(f"The 'kind' parameter must be one of {list(_KINDS)}, "
                                    f"got {kind!r}.")
    secret = _check_key(key)
    path = _npz_path(path)
    reserved = {"format", "version", "kind", "persona_rec_version", "signed", "checksums"}
    clash = sorted(reserved & set(body))
    if clash:
        raise InvalidParameterError(f"header body must not set reserved field(s) {clash}.")
    for name, arr in arrays.items():
        if not isinstance(arr, np.ndarray) or arr.dtype.hasobject or \
                arr.dtype.kind not in _ARRAY_KINDS or arr.dtype.fields is not None:
            raise InvalidDtypeError(f"array {name!r} has dtype "
                                    f"{getattr(arr, 'dtype', type(arr).__name__)} and cannot "
                                    f"be saved safely.")
        if name.startswith("__"):
            raise InvalidParameterError(f"array name {name!r} is reserved.")
    header = {
        "format": FORMAT, "version": FORMAT_VERSION, "kind": kind,
        "persona_rec_version": _version(), "signed": secret is not None,
        **body,
        "checksums": {k: _digest(v) for k, v in arrays.items()},
    }
    try:
        text = json.dumps(header, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise InvalidDtypeError(f"the {kind} header is not JSON serialisable: {exc}.") from exc
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidParameterError(f"the {kind} header nests deeper than {MAX_JSON_DEPTH} "
                                    f"levels and could not be read back.")
    members = {_HEADER: np.asarray(text)}
    if secret is not None:
        members[_SIGNATURE] = np.asarray(_sign(secret, text))
    members.update(arrays)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, arr in members.items():
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                        np.lib.format.write_array(out, np.asanyarray(arr), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:  # pragma: no cover - already moved or gone
            pass
        raise
    return path


_READ_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, OverflowError,
                NotImplementedError, RecursionError, UnicodeError, zipfile.BadZipFile,
                zipfile.LargeZipFile, zlib.error, struct.error)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise CorruptFileError(f"member {info.filename!r} has .npy version {version}.")
        if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None \
                or dtype.subdtype is not None:
            raise CorruptFileError(f"member {info.filename!r} has dtype {dtype}; only numeric, "
                                   f"bool, datetime and text arrays are read (never pickles).")
        count = math.prod(int(s) for s in shape)
        nbytes = count * dtype.itemsize
        left = info.file_size - f.tell()
        if nbytes != left:
            raise CorruptFileError(f"member {info.filename!r} declares shape {shape} "
                                   f"({nbytes} bytes) but holds {left} bytes.")
        buf = bytearray(nbytes)
        view = memoryview(buf)
        got = 0
        while got < nbytes:
            n = f.readinto(view[got:])
            if not n:
                raise CorruptFileError(f"member {info.filename!r} is truncated.")
            got += n
        if f.read(1):  # also makes zipfile verify the CRC-32
            raise CorruptFileError(f"member {info.filename!r} holds extra bytes.")
    if dtype.itemsize == 0:
        return np.zeros(shape, dtype=dtype)
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


def _open_members(path: Path, max_bytes: int | None) -> dict[str, np.ndarray]:
    size = os.path.getsize(path)
    budget = read_budget(size) if max_bytes is None else int(max_bytes)
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise CorruptFileError(f"the archive has {len(infos)} members; at most "
                                   f"{_MAX_MEMBERS} are read.")
        declared = sum(int(i.file_size) for i in infos)
        if declared > budget:
            raise CorruptFileError(
                f"the archive declares {declared} uncompressed bytes for a {size}-byte file, "
                f"more than the read limit of {budget} bytes (see persona_rec.persistence."
                f"read_budget; pass max_bytes= to read_file to raise it)."
            )
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or name[:-4] in out:
                raise CorruptFileError(f"unexpected or repeated member {name!r}.")
            out[name[:-4]] = _read_member(zf, info)
    return out


def read_file(path: str | os.PathLike[str], kind: str, *, key: bytes | str | None = None,
              max_bytes: int | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a file written by :func:`write_file`.

    Parameters
    ----------
    path : str or path-like
        The file.
    kind : str
        Expected content kind (``"dataset"``, ``"model"``, ...).
    key : bytes or str, optional
        The secret the file was signed with (required for signed files,
        refused for unsigned ones).
    max_bytes : int, optional
        Limit on the uncompressed size the archive may declare; defaults to
        :func:`read_budget` of the file size.

    Returns
    -------
    header : dict
        The schema-checked envelope (content fields are checked by the caller).
    arrays : dict of str to numpy.ndarray
        Every array, each verified against its checksum.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CorruptFileError
        Anything else that is wrong with the file (:class:`SignatureError`
        for signature problems).
    """
    path = Path(path)
    secret = _check_key(key)
    what = {"user_tags": "UserTags", "dataset": "Dataset", "profiles": "Profiles",
            "taxonomy": "Taxonomy"}.get(kind, kind)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    try:
        members = _open_members(path, max_bytes)
    except CorruptFileError as exc:
        raise CorruptFileError(f"{path} is not a readable persona_rec {what} file: {exc}") \
            from None
    except FileNotFoundError:
        raise
    except _READ_ERRORS as exc:
        raise CorruptFileError(f"{path} is not a readable persona_rec {what} file "
                               f"({type(exc).__name__}: {exc}).") from None
    raw = members.pop(_HEADER, None)
    if raw is None or raw.dtype.kind != "U" or raw.ndim != 0:
        legacy = " (a file written by persona_rec 0.1? rebuild it and save again)" \
            if raw is None and ({"__meta__", "meta"} & set(members)) else ""
        raise CorruptFileError(f"{path} is not a readable persona_rec {what} file: it has no "
                               f"JSON header{legacy}.")
    text = str(raw[()])
    sig = members.pop(_SIGNATURE, None)
    if sig is not None and (sig.dtype.kind != "U" or sig.ndim != 0):
        raise SignatureError(f"{path}: the signature member is malformed.")
    if secret is None and sig is not None:
        raise SignatureError(f"{path} is signed; pass the key it was signed with (key=...).")
    if secret is not None:
        if sig is None:
            raise SignatureError(f"{path} is not signed, but a key was given; refusing an "
                                 f"unauthenticated file.")
        if not hmac.compare_digest(str(sig[()]), _sign(secret, text)):
            raise SignatureError(f"{path}: the signature does not match the key (wrong key, or "
                                 f"the file was modified).")
    header = loads_json(text, f"{path}: the header")
    if isinstance(header, dict) and header.get("format") == _V1_FORMAT:
        header, members = _upgrade_v1(header, members, path)
    if isinstance(header, dict) and header.get("format") == FORMAT and \
            isinstance(header.get("version"), int) and header["version"] > FORMAT_VERSION:
        raise CorruptFileError(f"{path} has format version {header['version']}; this "
                               f"persona_rec reads versions <= {FORMAT_VERSION}.")
    if isinstance(header, dict) and header.get("format") not in (FORMAT, None):
        raise CorruptFileError(f"{path} has format {_short(header.get('format'))}, "
                               f"expected {FORMAT!r}.")
    _ENVELOPE.check(header, "header")
    if header["signed"] != (sig is not None):
        raise SignatureError(f"{path}: the header says signed={header['signed']} but the "
                             f"signature is {'present' if sig is not None else 'missing'}.")
    if header["kind"] != kind:
        raise CorruptFileError(f"{path} holds a {header['kind']!r} file, not a {what}.")
    sums = header["checksums"]
    if set(sums) != set(members):
        extra = sorted(set(members) - set(sums))[:3]
        missing = sorted(set(sums) - set(members))[:3]
        raise CorruptFileError(f"{path}: arrays without checksum {extra}, missing arrays "
                               f"{missing}.")
    for name, arr in members.items():
        if _digest(arr) != sums[name]:
            raise CorruptFileError(f"{path}: checksum mismatch for array {name!r}.")
    return header, members


def read_header(path: str | os.PathLike[str], kind: str = "model", *,
                key: bytes | str | None = None) -> dict[str, Any]:
    """Read and verify a file's JSON header (see :func:`read_file`).

    Parameters
    ----------
    path : str or path-like
    kind : str, default "model"
    key : bytes or str, optional

    Returns
    -------
    dict
    """
    return read_file(path, kind, key=key)[0]


# ========================================================================= values
def _utf8(strs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of ``strs`` concatenated, and the byte length of each."""
    enc = [s.encode("utf-8", "surrogatepass") for s in strs]
    lengths = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
    return np.frombuffer(b"".join(enc), dtype=np.uint8).copy(), lengths


def _from_utf8(blob: np.ndarray, lengths: np.ndarray, n: int) -> list[str]:
    if blob.ndim != 1 or blob.dtype != np.uint8 or lengths.shape != (n,) or \
            lengths.dtype.kind not in "iu":
        raise CorruptFileError("text arrays have the wrong dtype or shape.")
    if n and (lengths.min() < 0 or int(lengths.sum()) != len(blob)):
        raise CorruptFileError("text lengths do not add up to the stored text.")
    raw = blob.tobytes()
    o = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    try:
        return [raw[o[i]:o[i + 1]].decode("utf-8", "surrogatepass") for i in range(n)]
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"text is not valid UTF-8: {exc}.") from None


# object element type codes
_STR_C, _INT_C, _FLOAT_C, _BOOL_C, _NONE_C, _NA_C, _TS_C, _NAT_C = range(8)
_MASKED_DTYPES = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
                  "Float32", "Float64", "boolean")
_STRING_DTYPES = ("str", "string", "string[python]", "string[pyarrow]", "string[pyarrow_numpy]")


def _object_codes(obj: np.ndarray, where: str) -> tuple[np.ndarray, list[str]]:
    codes = np.empty(len(obj), dtype=np.int8)
    text: list[str] = []
    for i, v in enumerate(obj.tolist()):
        if isinstance(v, str):
            codes[i], t = _STR_C, v
        elif isinstance(v, bool) or isinstance(v, np.bool_):
            codes[i], t = _BOOL_C, "1" if v else "0"
        elif isinstance(v, (int, np.integer)):
            codes[i], t = _INT_C, str(int(v))
        elif isinstance(v, (float, np.floating)):
            codes[i], t = _FLOAT_C, repr(float(v))
        elif v is None:
            codes[i], t = _NONE_C, ""
        elif v is pd.NA:
            codes[i], t = _NA_C, ""
        elif v is pd.NaT:
            codes[i], t = _NAT_C, ""
        elif isinstance(v, pd.Timestamp):
            codes[i], t = _TS_C, v.isoformat()
        else:
            raise InvalidDtypeError(
                f"{where} holds a {type(v).__name__} ({_short(v)}); only str, int, float, bool, "
                f"None and timestamps can be saved safely."
            )
        text.append(t)
    return codes, text


def _objects_from(codes: np.ndarray, text: list[str]) -> np.ndarray:
    out = np.empty(len(text), dtype=object)
    conv: dict[int, Callable[[str], Any]] = {
        _STR_C: str, _INT_C: int, _FLOAT_C: float, _BOOL_C: lambda t: t == "1",
        _NONE_C: lambda t: None, _NA_C: lambda t: pd.NA, _NAT_C: lambda t: pd.NaT,
        _TS_C: pd.Timestamp,
    }
    try:
        out[:] = [conv[c](t) for c, t in zip(codes.tolist(), text)]
    except KeyError as exc:
        raise CorruptFileError(f"unknown element type code {exc}.") from None
    return out


def _encode_values(name: str, values: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Encode 1-D ``values`` (ndarray, Index, Series or extension array) into ``arrays``."""
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        values = np.asarray(values)
        dtype = values.dtype
    if type(dtype).__name__ == "NumpyEADtype":
        values = np.asarray(values)
        dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        arrays[f"{name}.codes"] = np.asarray(cat.codes, dtype=np.int64)
        return {"enc": "categorical", "ordered": bool(cat.ordered),
                "categories": _encode_values(f"{name}.cat", cat.categories, arrays)}
    if isinstance(dtype, pd.DatetimeTZDtype):
        idx = pd.DatetimeIndex(values)
        naive = idx.tz_convert("UTC").tz_localize(None).to_numpy()
        unit = np.datetime_data(naive.dtype)[0]
        arrays[f"{name}.v"] = naive.view(np.int64)
        return {"enc": "datetime", "unit": unit, "tz": str(dtype.tz)}
    if isinstance(dtype, pd.StringDtype):
        arr = pd.array(values, dtype=dtype)
        missing = np.asarray(pd.isna(arr), dtype=bool)
        strs = arr.to_numpy(dtype=object, na_value="").tolist()
        arrays[f"{name}.s"], arrays[f"{name}.n"] = _utf8(strs)
        arrays[f"{name}.null"] = missing
        return {"enc": "string", "dtype": str(dtype) if str(dtype) in _STRING_DTYPES else "string"}
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        if str(dtype) in _MASKED_DTYPES:
            arr = pd.array(values, dtype=dtype)
            missing = np.asarray(arr.isna(), dtype=bool)
            fill = False if str(dtype) == "boolean" else 0
            arrays[f"{name}.v"] = arr.to_numpy(dtype=dtype.numpy_dtype, na_value=fill)
            arrays[f"{name}.null"] = missing
            return {"enc": "masked", "dtype": str(dtype)}
        values = np.asarray(values, dtype=object)
        dtype = values.dtype
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidDtypeError(f"{name!r} must be 1-D to be saved, got shape {arr.shape}.")
    if arr.dtype.kind == "M":
        arrays[f"{name}.v"] = arr.view(np.int64)
        return {"enc": "datetime", "unit": np.datetime_data(arr.dtype)[0], "tz": None}
    if arr.dtype.kind == "m":
        arrays[f"{name}.v"] = arr.view(np.int64)
        return {"enc": "timedelta", "unit": np.datetime_data(arr.dtype)[0]}
    if arr.dtype.kind in "biufU":
        arrays[f"{name}.v"] = arr
        return {"enc": "num"}
    if arr.dtype.kind != "O":
        raise InvalidDtypeError(f"{name!r} has dtype {arr.dtype} and cannot be saved safely.")
    if len(arr) and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                        and -2**63 <= v < 2**63 for v in arr.tolist()):
        arrays[f"{name}.v"] = np.asarray([int(v) for v in arr.tolist()], dtype=np.int64)
        return {"enc": "object_int"}
    codes, text = _object_codes(arr, repr(name))
    arrays[f"{name}.t"] = codes
    arrays[f"{name}.s"], arrays[f"{name}.n"] = _utf8(text)
    return {"enc": "object"}


def _get(arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
    try:
        return arrays[key]
    except KeyError:
        raise CorruptFileError(f"array {key!r} is missing.") from None


def _one_d(arrays: Mapping[str, np.ndarray], key: str, kinds: str,
           n: int | None = None) -> np.ndarray:
    arr = _get(arrays, key)
    if arr.ndim != 1 or arr.dtype.kind not in kinds:
        raise CorruptFileError(f"array {key!r} must be 1-D of kind {kinds!r}, got "
                               f"{arr.dtype} {arr.shape}.")
    if n is not None and len(arr) != n:
        raise CorruptFileError(f"array {key!r} has {len(arr)} values, expected {n}.")
    return arr


def _decode_values(name: str, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode_values` (``meta`` is schema-checked); ndarray or ExtensionArray."""
    enc = meta["enc"]
    if enc == "categorical":
        codes = _one_d(arrays, f"{name}.codes", "iu")
        cats = _decode_values(f"{name}.cat", meta["categories"], arrays)
        if len(codes) and (codes.min() < -1 or codes.max() >= len(cats)):
            raise CorruptFileError(f"array {name + '.codes'!r} has codes outside the categories.")
        return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(cats),
                                         ordered=meta["ordered"])
    if enc in ("datetime", "timedelta"):
        v = _one_d(arrays, f"{name}.v", "i")
        base = "datetime64" if enc == "datetime" else "timedelta64"
        out = v.astype(np.int64).view(f"{base}[{meta['unit']}]")
        if enc == "datetime" and meta.get("tz"):
            return pd.DatetimeIndex(out).tz_localize("UTC").tz_convert(meta["tz"]).array
        return out
    if enc == "num":
        return _one_d(arrays, f"{name}.v", "biufU")
    if enc == "object_int":
        v = _one_d(arrays, f"{name}.v", "i")
        out = np.empty(len(v), dtype=object)
        out[:] = v.tolist()
        return out
    if enc == "masked":
        if meta["dtype"] not in _MASKED_DTYPES:
            raise CorruptFileError(f"unknown nullable dtype {meta['dtype']!r}.")
        v = _one_d(arrays, f"{name}.v", "biuf")
        null = _one_d(arrays, f"{name}.null", "b", len(v))
        dtype = pd.api.types.pandas_dtype(meta["dtype"])
        return pd.array(v.astype(dtype.numpy_dtype), dtype=dtype).copy() if not null.any() else \
            _masked(v, null, dtype)
    if enc == "string":
        if meta["dtype"] not in _STRING_DTYPES:
            raise CorruptFileError(f"unknown string dtype {meta['dtype']!r}.")
        null = _one_d(arrays, f"{name}.null", "b")
        strs = _from_utf8(_get(arrays, f"{name}.s"), _get(arrays, f"{name}.n"), len(null))
        obj = np.asarray(strs, dtype=object) if strs else np.empty(0, dtype=object)
        obj[null] = None
        return pd.array(obj, dtype=pd.api.types.pandas_dtype(meta["dtype"]))
    if enc == "object":
        codes = _one_d(arrays, f"{name}.t", "i")
        text = _from_utf8(_get(arrays, f"{name}.s"), _get(arrays, f"{name}.n"), len(codes))
        return _objects_from(codes, text)
    raise CorruptFileError(f"unknown value encoding {enc!r}.")  # pragma: no cover - schema


def _masked(v: np.ndarray, null: np.ndarray, dtype: Any) -> Any:
    obj = v.astype(object)
    obj[null] = None
    return pd.array(obj, dtype=dtype)


def encode_ids(values: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Encode an array of external ids (int, str or a mix) without pickling.

    Returns ``(arrays, meta)``; :func:`decode_ids` inverts it exactly (types
    included, strings ending in ``"\\x00"`` too).

    Examples
    --------
    >>> import numpy as np
    >>> arrays, meta = encode_ids(np.array([1, "1", "a\\x00"], dtype=object))
    >>> decode_ids(arrays, meta).tolist()
    [1, '1', 'a\\x00']
    """
    arrays: dict[str, np.ndarray] = {}
    meta = _encode_values("ids", values, arrays)
    return arrays, meta


def decode_ids(arrays: Mapping[str, np.ndarray], meta: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_ids`."""
    _VALUES.check(meta, "ids")
    return np.asarray(_decode_values("ids", meta, arrays))


# ----------------------------------------------------------------- any value
def _is_model(value: Any) -> bool:
    return _REGISTRY.get(type(value).__qualname__) is type(value)


def encode_value(name: str, value: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Encode one value into ``arrays`` (keys prefixed by ``name``); return its header entry.

    Supported: ``None``; JSON scalars, lists and dicts (``"json"``); numeric,
    bool, datetime and text ``numpy.ndarray`` (``"ndarray"``); 1-D object
    arrays of str/int/float/bool/None/timestamps (``"values"``);
    ``scipy.sparse`` matrices (stored as CSR, ``"csr"``);
    :class:`~persona_rec.identifiers.IdMap` (``"idmap"``);
    ``pandas.DataFrame`` / ``pandas.Series`` with numpy, nullable, string,
    categorical, datetime (naive or aware) and object columns; fitted
    registered models and lists of them (``"model"``, ``"model_list"``).

    Raises
    ------
    InvalidDtypeError
        The value (or an element of it) cannot be stored without pickle.

    Examples
    --------
    >>> import numpy as np
    >>> arrays = {}
    >>> encode_value("w_", np.eye(2), arrays)
    {'kind': 'ndarray'}
    >>> sorted(arrays)
    ['w_']
    """
    if value is None:
        return {"kind": "none"}
    if _is_model(value):
        return _model_entry(value, arrays, prefix=f"{name}.")
    if isinstance(value, (list, tuple)) and value and all(_is_model(v) for v in value):
        return {"kind": "model_list",
                "items": [encode_value(f"{name}.{i}", v, arrays) for i, v in enumerate(value)]}
    if isinstance(value, (bool, int, float, str, np.integer, np.floating, np.bool_)):
        return {"kind": "json", "value": value.item() if isinstance(value, np.generic) else value}
    if isinstance(value, (list, tuple, dict)):
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise InvalidDtypeError(f"{name!r} holds a {type(value).__name__} that is not JSON "
                                    f"serialisable: {exc}.") from exc
        return {"kind": "json", "value": json.loads(text), "tuple": isinstance(value, tuple)}
    if isinstance(value, IdMap):
        return {"kind": "idmap", "values": _encode_values(name, value.external_ids, arrays)}
    if sp.issparse(value):
        m = sp.csr_matrix(value)
        arrays[f"{name}.data"] = m.data
        arrays[f"{name}.indices"] = m.indices
        arrays[f"{name}.indptr"] = m.indptr
        return {"kind": "csr", "shape": [int(m.shape[0]), int(m.shape[1])]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return {"kind": "values", "values": _encode_values(name, value, arrays)}
        if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None:
            raise InvalidDtypeError(f"{name!r} has dtype {value.dtype} and cannot be saved.")
        arrays[name] = value
        return {"kind": "ndarray"}
    if isinstance(value, (pd.Series, pd.DataFrame)):
        if value.index.nlevels != 1:
            raise InvalidDtypeError(f"{name!r} has a MultiIndex, which cannot be saved.")
        index = _encode_values(f"{name}.index", value.index, arrays)
        index_name = _label(value.index.name, name)
        if isinstance(value, pd.Series):
            return {"kind": "series", "index": index, "index_name": index_name,
                    "name": _label(value.name, name),
                    "values": _encode_values(f"{name}.v", value, arrays)}
        if value.columns.nlevels != 1:
            raise InvalidDtypeError(f"{name!r} has MultiIndex columns, which cannot be saved.")
        cols = [{"name": _label(col, name),
                 "values": _encode_values(f"{name}.c{i}", value.iloc[:, i], arrays)}
                for i, col in enumerate(value.columns)]
        return {"kind": "frame", "index": index, "index_name": index_name, "columns": cols}
    raise InvalidDtypeError(
        f"{name!r} of type {type(value).__name__} cannot be saved safely; make it private "
        f"(leading '_') and rebuild it in _after_load."
    )


def _label(label: Any, where: str) -> str | int | None:
    if label is None or isinstance(label, str):
        return label
    if isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_)):
        return int(label)
    raise InvalidDtypeError(f"{where!r} has a label {label!r} of type {type(label).__name__}; "
                            f"only str, int or None labels can be saved.")


def decode_value(name: str, entry: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`encode_value` (``entry`` is checked against the schema first).

    Raises
    ------
    CorruptFileError
        The entry or its arrays are malformed or inconsistent.
    """
    ENTRY.check(entry, name)
    try:
        return _decode(name, entry, arrays)
    except CorruptFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise CorruptFileError(f"{name!r} cannot be rebuilt ({type(exc).__name__}: "
                               f"{exc}).") from None


def _decode(name: str, entry: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    kind = entry["kind"]
    if kind == "none":
        return None
    if kind == "json":
        v = entry["value"]
        return tuple(v) if entry.get("tuple") and isinstance(v, list) else v
    if kind == "model":
        return _build_model(entry, arrays, prefix=f"{name}.")
    if kind == "model_list":
        return [_decode(f"{name}.{i}", e, arrays) for i, e in enumerate(entry["items"])]
    if kind == "idmap":
        return IdMap(np.asarray(_decode_values(name, entry["values"], arrays)))
    if kind == "csr":
        data = _one_d(arrays, f"{name}.data", "biuf")
        indices = _one_d(arrays, f"{name}.indices", "iu", len(data))
        indptr = _one_d(arrays, f"{name}.indptr", "iu", entry["shape"][0] + 1)
        m = sp.csr_matrix((data, indices, indptr), shape=tuple(entry["shape"]))
        m.check_format(full_check=True)
        return m
    if kind == "ndarray":
        return _get(arrays, name)
    if kind == "values":
        return np.asarray(_decode_values(name, entry["values"], arrays))
    index = pd.Index(_decode_values(f"{name}.index", entry["index"], arrays),
                     name=entry["index_name"], tupleize_cols=False)
    if kind == "series":
        values = _decode_values(f"{name}.v", entry["values"], arrays)
        _same_length(name, index, values)
        return pd.Series(values, index=index, name=entry["name"], copy=False)
    cols = []
    for i, col in enumerate(entry["columns"]):
        values = _decode_values(f"{name}.c{i}", col["values"], arrays)
        _same_length(f"{name}.c{i}", index, values)
        cols.append(pd.Series(values, index=index, copy=False))
    frame = pd.DataFrame(dict(enumerate(cols)), index=index) if cols else \
        pd.DataFrame(index=index)
    frame.columns = pd.Index([c["name"] for c in entry["columns"]], tupleize_cols=False) \
        if cols else frame.columns
    return frame


def _same_length(name: str, index: pd.Index, values: Any) -> None:
    if len(values) != len(index):
        raise CorruptFileError(f"{name!r} has {len(values)} values for {len(index)} index rows.")


# ============================================================ 0.1 model files
_V1_FORMAT = "persona_rec.model"


def _v1_ids(arrays: Mapping[str, np.ndarray], prefix: str, meta: Mapping[str, Any]) -> np.ndarray:
    """Decode ids written by 0.1 (``meta["ids"]``: int, str, float, object_int or mixed)."""
    kind = meta["ids"]
    v = _one_d(arrays, f"{prefix}v", "iufU")
    if kind in ("int", "str", "float"):
        return v
    out = np.empty(len(v), dtype=object)
    if kind == "object_int":
        out[:] = [int(x) for x in v.tolist()]
        return out
    if kind == "mixed":
        t = _one_d(arrays, f"{prefix}t", "iu", len(v))
        out[:] = [x if flag else int(x) for x, flag in zip(v.tolist(), t.tolist())]
        return out
    raise CorruptFileError(f"unknown 0.1 id encoding {kind!r}.")


def _v1_column(arrays: Mapping[str, np.ndarray], prefix: str, meta: Mapping[str, Any],
               index: pd.Index) -> pd.Series:
    """Decode one frame column written by 0.1 (same results as the 0.1 reader)."""
    kind = meta["col"]
    v = _one_d(arrays, f"{prefix}v", "biufUMm", len(index))
    if kind in ("datetime", "timedelta"):
        unit = meta.get("unit", "ns")
        if unit not in _UNITS:
            raise CorruptFileError(f"unknown time unit {unit!r}.")
        base = "datetime64" if kind == "datetime" else "timedelta64"
        return pd.Series(v.astype(np.int64).view(f"{base}[{unit}]"), index=index)
    if kind == "numeric":
        return pd.Series(v, index=index)
    null = _one_d(arrays, f"{prefix}null", "b", len(index))
    if kind in ("bool", "int"):
        out = pd.Series(v.astype(object), index=index)
        out[null] = None
        return out if null.any() else out.astype(v.dtype)
    if kind == "str":
        out = pd.Series(v.astype(object), index=index)
        out[null] = np.nan
        return out.astype("category") if meta.get("categorical") else out
    raise CorruptFileError(f"unknown 0.1 column kind {kind!r}.")


def _v1_value(name: str, entry: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
              out: dict[str, np.ndarray]) -> dict[str, Any]:
    """Re-encode one 0.1 state entry (and its arrays) in the current format."""
    kind = entry["kind"]
    if kind in ("none", "json"):
        return dict(entry)
    if kind == "ndarray":
        out[name] = _get(arrays, name)
        return {"kind": "ndarray"}
    if kind == "csr":
        for part in ("data", "indices", "indptr"):
            out[f"{name}.{part}"] = _get(arrays, f"{name}.{part}")
        return {"kind": "csr", "shape": entry["shape"]}
    if kind == "model":
        return {"kind": "model", **_v1_model(entry["header"], arrays, out, f"{name}.")}
    if kind == "model_list":
        return {"kind": "model_list",
                "items": [_v1_value(f"{name}.{i}", e, arrays, out)
                          for i, e in enumerate(entry["items"])]}
    if kind == "idmap":
        return encode_value(name, IdMap(_v1_ids(arrays, f"{name}.", entry)), out)
    if kind == "objarray":
        return encode_value(name, _v1_ids(arrays, f"{name}.", entry), out)
    if kind in ("frame", "series"):
        index = pd.Index(_v1_ids(arrays, f"{name}.index.", entry["index"]),
                         name=entry["index_name"])
        cols = [_v1_column(arrays, f"{name}.c{i}.", c, index)
                for i, c in enumerate(entry["columns"])]
        if kind == "series":
            if len(cols) != 1:
                raise CorruptFileError(f"{name!r} is a series with {len(cols)} columns.")
            return encode_value(name, cols[0].rename(entry.get("series_name")), out)
        frame = pd.DataFrame(dict(enumerate(cols)), index=index)
        frame.columns = [c["name"] for c in entry["columns"]]
        return encode_value(name, frame, out)
    raise CorruptFileError(f"unknown 0.1 state kind {kind!r} for {name!r}.")


def _v1_model(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
              out: dict[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    return {"class": header["class"], "module": header.get("module", ""),
            "config": header["config"],
            "state": {attr: _v1_value(f"{prefix}{attr}", e, arrays, out)
                      for attr, e in header["state"].items()}}


def _upgrade_v1(header: dict[str, Any], members: dict[str, np.ndarray],
                path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Turn a verified 0.1 model or Dataset file into the current header and arrays.

    The 0.1 checksums are verified first; the result then goes through every
    check of the current format (schema, declared state, shapes).
    """
    if header.get("version") != 1:
        raise CorruptFileError(f"{path} has 0.1 format version {header.get('version')!r}.")
    sums = header.get("checksums")
    if not isinstance(sums, dict) or set(sums) != set(members):
        raise CorruptFileError(f"{path}: the 0.1 checksums do not list the arrays.")
    for name, arr in members.items():
        if _digest(arr) != sums[name]:
            raise CorruptFileError(f"{path}: checksum mismatch for array {name!r}.")
    out: dict[str, np.ndarray] = {}
    try:
        if header.get("kind") == "dataset":
            body = {k: header[k] for k in ("event_weights", "sensitive_columns",
                                           "cleaning_reports")}
            body["state"] = {k: _v1_value(k, e, members, out) for k, e in header["state"].items()}
            kind = "dataset"
        else:
            body = _v1_model(header, members, out)
            kind = "model"
    except CorruptFileError as exc:
        raise CorruptFileError(f"{path} (a persona_rec 0.1 file): {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise CorruptFileError(f"{path} is an unreadable persona_rec 0.1 file "
                               f"({type(exc).__name__}: {exc}).") from None
    _log.info("%s: read a persona_rec 0.1 %s file; save it again to write the current format.",
              path, kind)
    new = {"format": FORMAT, "version": FORMAT_VERSION, "kind": kind,
           "persona_rec_version": str(header.get("persona_rec_version", "0.1")),
           "signed": False, **body, "checksums": {k: _digest(v) for k, v in out.items()}}
    return new, out


# ===================================================================== models
_REGISTRY: dict[str, type] = {}


def register_model(cls: type) -> type:
    """Register a model class so :func:`load_model` can rebuild it.

    Subclasses of :class:`~persona_rec.models.Recommender` are registered
    automatically; classes are keyed by their ``__qualname__``.
    """
    _REGISTRY[cls.__qualname__] = cls
    return cls


def registered_models() -> dict[str, type]:
    """Return a copy of the class registry (class name -> class)."""
    return dict(_REGISTRY)


@dataclass(frozen=True)
class Learned:
    """Declaration of one learned attribute of a model (its kind, dtype and shape).

    Models list their learned state in a class attribute ``learned_state``
    (attribute name -> :class:`Learned`); subclasses add to their parents'
    declarations. :func:`save_model` refuses undeclared attributes and
    :func:`load_model` refuses files whose state names anything else, so a
    file can only set declared data attributes, never a method.

    Shapes are tuples of dimensions: an int (exact size), ``None`` (any size)
    or a name. ``"users"`` and ``"items"`` are the lengths of the model's
    ``user_map_`` and ``item_map_``; any other name is bound by the first
    attribute that uses it and must agree everywhere else (``"factors"`` in
    ``user_factors_`` and ``item_factors_``).

    Use the constructors: :meth:`array`, :meth:`sparse`, :meth:`ids`,
    :meth:`id_map`, :meth:`frame`, :meth:`value`, :meth:`model`, :meth:`models`.

    Examples
    --------
    >>> spec = {"item_factors_": Learned.array("f", "items", "factors"),
    ...         "n_baskets_": Learned.value(int)}
    >>> spec["item_factors_"].shape
    ('items', 'factors')
    """

    kind: str
    dtype: str = ""
    shape: tuple[int | str | None, ...] = ()
    types: tuple[type, ...] = ()
    optional: bool = False
    index_of: str | None = None
    missing: int | None = None

    @classmethod
    def array(cls, dtype: str, *shape: int | str | None, optional: bool = False,
              index_of: str | None = None, missing: int | None = None) -> Learned:
        """A ``numpy.ndarray`` whose ``dtype.kind`` is in ``dtype`` (``"f"``, ``"iu"``, ``"U"``...).

        ``index_of="items"`` (or another dimension name) requires integer
        values in ``[0, size)``; ``missing=-1`` also allows that marker.
        """
        return cls("ndarray", dtype, tuple(shape), optional=optional, index_of=index_of,
                   missing=missing)

    @classmethod
    def sparse(cls, dtype: str, rows: int | str | None, cols: int | str | None, *,
               optional: bool = False) -> Learned:
        """A ``scipy.sparse`` matrix (restored as CSR)."""
        return cls("csr", dtype, (rows, cols), optional=optional)

    @classmethod
    def ids(cls, length: int | str | None = None, *, optional: bool = False) -> Learned:
        """A 1-D array of external ids or labels (object, int or str values)."""
        return cls("values", "", (length,), optional=optional)

    @classmethod
    def id_map(cls, length: int | str | None = None) -> Learned:
        """An :class:`~persona_rec.identifiers.IdMap`."""
        return cls("idmap", "", (length,))

    @classmethod
    def frame(cls, rows: int | str | None = None, *, optional: bool = False) -> Learned:
        """A ``pandas.DataFrame`` with ``rows`` rows."""
        return cls("frame", "", (rows,), optional=optional)

    @classmethod
    def value(cls, *types: type, optional: bool = False) -> Learned:
        """A JSON value of one of ``types`` (``int``, ``float``, ``str``, ``bool``, ``list``...)."""
        return cls("json", "", (), tuple(types), optional=optional)

    @classmethod
    def model(cls, *, optional: bool = False) -> Learned:
        """A fitted nested model."""
        return cls("model", optional=optional)

    @classmethod
    def models(cls) -> Learned:
        """A list of fitted nested models."""
        return cls("model_list")


def _declaring(cls: type) -> list[type]:
    return [c for c in reversed(cls.__mro__) if "learned_state" in vars(c)]


def learned_spec(cls: type) -> dict[str, Learned] | None:
    """The merged ``learned_state`` declarations of ``cls`` and its parents.

    Returns ``None`` when no class between ``cls`` and the root class that
    first declares ``learned_state`` (``Recommender``) declares anything: such
    a class is *undeclared*; its files are still loaded, with the root's
    declarations enforced and every other state name required to look like a
    learned attribute (lower case, ending in ``_``) that is not a class
    attribute (so never a method or property).

    Examples
    --------
    >>> from persona_rec.models import EASERecommender
    >>> sorted(learned_spec(EASERecommender))[:3]
    ['active_items_', 'hot_users_', 'item_attributes_']
    """
    chain = _declaring(cls)
    if not chain or (len(chain) == 1 and cls is not chain[0]):
        return None
    merged: dict[str, Learned] = {}
    for c in chain:
        merged.update(vars(c)["learned_state"])
    return merged


def _root_spec(cls: type) -> dict[str, Learned]:
    chain = _declaring(cls)
    return dict(vars(chain[0])["learned_state"]) if chain else {}


_WARNED: set[str] = set()


def _kind_ok(spec: Learned, entry_kind: str) -> bool:
    if entry_kind == "none":
        return spec.optional
    if spec.kind == "values":
        return entry_kind in ("values", "ndarray")
    return entry_kind == spec.kind


def _check_against(spec: Learned, name: str, value: Any, dims: dict[str, int],
                   owner: str) -> None:
    if value is None:
        return
    if spec.kind == "json":
        if spec.types and not (isinstance(value, spec.types) and
                               not (isinstance(value, bool) and bool not in spec.types)):
            if not (float in spec.types and isinstance(value, int) and not isinstance(value, bool)):
                raise CorruptFileError(f"{owner}.{name} must be "
                                       f"{'/'.join(t.__name__ for t in spec.types)}, got "
                                       f"{type(value).__name__} {_short(value)}.")
        return
    if spec.kind in ("model", "model_list"):
        return
    if spec.kind == "idmap":
        shape: tuple[int, ...] = (len(value),)
    elif spec.kind == "frame":
        shape = (len(value),)
    else:
        shape = tuple(value.shape)
        if spec.dtype and value.dtype.kind not in spec.dtype:
            raise CorruptFileError(f"{owner}.{name} must have dtype kind {spec.dtype!r}, got "
                                   f"{value.dtype}.")
        if spec.kind == "values" and value.ndim != 1:
            raise CorruptFileError(f"{owner}.{name} must be 1-D, got shape {shape}.")
    if spec.kind != "values" and len(shape) != len(spec.shape):
        raise CorruptFileError(f"{owner}.{name} must have {len(spec.shape)} dimension(s), got "
                               f"shape {shape}.")
    for axis, (want, got) in enumerate(zip(spec.shape, shape)):
        if want is None:
            continue
        if isinstance(want, str):
            if want not in dims:
                dims[want] = got
                continue
            expected = dims[want]
        else:
            expected = want
        if got != expected:
            raise CorruptFileError(f"{owner}.{name} has size {got} on axis {axis}, expected "
                                   f"{expected} ({want}).")
    if spec.index_of is not None and value.size:
        if spec.index_of not in dims:
            raise CorruptFileError(f"{owner}.{name} indexes {spec.index_of!r}, whose size is "
                                   f"not known yet.")  # pragma: no cover - declaration error
        ok = (value >= 0) & (value < dims[spec.index_of])
        if spec.missing is not None:
            ok |= value == spec.missing
        if not ok.all():
            bad = value[~ok][:3].tolist()
            raise CorruptFileError(f"{owner}.{name} holds indices {bad} outside "
                                   f"[0, {dims[spec.index_of]}) ({spec.index_of}).")


def _model_entry(model: Any, arrays: dict[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    cls = type(model)
    if not getattr(model, "is_fitted", False):
        raise NotFittedError(f"{cls.__name__} must be fitted before save().")
    state = model._learned_state()
    spec = learned_spec(cls)
    if spec is not None:
        extra = sorted(set(state) - set(spec))
        if extra:
            raise InvalidDtypeError(
                f"{cls.__name__} has learned attribute(s) {extra} that are not declared in "
                f"its learned_state; declare them (e.g. learned_state = "
                f"{{{extra[0]!r}: Learned.array('f', 'items')}}) or make them private."
            )
        missing = sorted(n for n, s in spec.items() if n not in state and not s.optional)
        if missing:
            raise InvalidDtypeError(f"{cls.__name__} lacks declared learned attribute(s) "
                                    f"{missing}.")
    elif cls.__qualname__ not in _WARNED:
        _WARNED.add(cls.__qualname__)
        _log.warning("%s declares no learned_state; its files are checked by attribute name "
                     "only (see docs/persistence.md).", cls.__qualname__)
    entries = {attr: encode_value(f"{prefix}{attr}", value, arrays)
               for attr, value in state.items()}
    config = model._json_params()
    try:
        config = json.loads(json.dumps(config))
    except (TypeError, ValueError) as exc:
        raise InvalidDtypeError(
            f"{cls.__name__} parameters are not JSON serialisable ({exc}); override "
            f"_json_params/_params_from_json to store them."
        ) from exc
    return {"kind": "model", "class": cls.__qualname__, "module": cls.__module__,
            "config": config, "state": entries}


def _resolve_class(name: str, module: str) -> type:
    cls = _REGISTRY.get(name)
    if cls is None and module.startswith("persona_rec.") and \
            re.fullmatch(r"[A-Za-z0-9_.]+", module):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise CorruptFileError(f"model module {module!r} cannot be imported: {exc}.") from exc
        cls = _REGISTRY.get(name)
    if cls is None:
        raise CorruptFileError(f"the file names model class {name!r} (module {module!r}), "
                               f"which is not a registered persona_rec model.")
    return cls


def _build_model(entry: dict[str, Any], arrays: Mapping[str, np.ndarray], prefix: str = "") -> Any:
    cls = _resolve_class(entry["class"], entry["module"])
    owner = cls.__qualname__
    try:
        model = cls._from_json_params(entry["config"])
    except (TypeError, ValueError, KeyError) as exc:
        raise CorruptFileError(f"the stored config of {owner} is invalid: {exc}") from exc
    state = entry["state"]
    spec = learned_spec(cls)
    if spec is None:  # undeclared class: root declarations + safe names only
        spec = _root_spec(cls)
        for attr in state:
            if attr in spec:
                continue
            if not _STATE_NAME.fullmatch(attr) or hasattr(cls, attr):
                raise CorruptFileError(f"{owner} state names {attr!r}, which is not a "
                                       f"learned attribute name.")
            spec[attr] = Learned("any")
    unknown = sorted(set(state) - set(spec))
    if unknown:
        raise CorruptFileError(f"{owner} state names {unknown[:5]}, which are not declared "
                               f"learned attributes of {owner}.")
    missing = sorted(n for n, s in spec.items() if n not in state and not s.optional)
    if missing:
        raise CorruptFileError(f"{owner} state lacks declared attribute(s) {missing[:5]}.")
    dims: dict[str, int] = {}
    values: dict[str, Any] = {}
    order = [n for n in ("user_map_", "item_map_") if n in state] + \
        [n for n in spec if n in state and n not in ("user_map_", "item_map_")]
    for attr in order:
        s, e = spec[attr], state[attr]
        ENTRY.check(e, f"{owner}.state.{attr}")
        if s.kind != "any" and not _kind_ok(s, e["kind"]):
            raise CorruptFileError(f"{owner}.{attr} must be stored as {s.kind!r}, got "
                                   f"{e['kind']!r}.")
        value = decode_value(f"{prefix}{attr}", e, arrays)
        if attr == "user_map_":
            dims["users"] = len(value)
        elif attr == "item_map_":
            dims["items"] = len(value)
        if s.kind != "any":
            _check_against(s, attr, value, dims, owner)
        values[attr] = value
    for attr, value in values.items():
        setattr(model, attr, value)
    model._fitted = True
    try:
        model._after_load()
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise CorruptFileError(f"{owner} cannot be rebuilt from the file "
                               f"({type(exc).__name__}: {exc}).") from None
    return model


def save_model(model: Any, path: str | os.PathLike[str], *,
               key: bytes | str | None = None) -> Path:
    """Write a fitted model to ``path`` (``.npz`` is appended when missing).

    Parameters
    ----------
    model : Recommender
        A fitted model.
    path : str or path-like
        Target file.
    key : bytes or str, optional
        Secret for an HMAC-SHA256 signature (see the module docstring).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    arrays: dict[str, np.ndarray] = {}
    entry = _model_entry(model, arrays)
    body = {k: v for k, v in entry.items() if k != "kind"}
    return write_file(path, "model", body, arrays, key=key)


def load_model(path: str | os.PathLike[str], expected: type | None = None, *,
               key: bytes | str | None = None, max_bytes: int | None = None) -> Any:
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    expected : type, optional
        If given, the stored model must be an instance of this class.
    key : bytes or str, optional
        The secret of a signed file.
    max_bytes : int, optional
        See :func:`read_file`.

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
    header, arrays = read_file(path, "model", key=key, max_bytes=max_bytes)
    entry = {k: header.get(k) for k in ("class", "module", "config", "state")}
    entry["kind"] = "model"
    try:
        _MODEL.check(entry, "header")
        cls = _resolve_class(entry["class"], entry["module"])
        if expected is not None and not issubclass(cls, expected):
            raise CorruptFileError(f"holds a {entry['class']}, not a {expected.__qualname__}.")
        return _build_model(entry, arrays)
    except CorruptFileError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as exc:
        raise CorruptFileError(f"{path} is corrupt or mismatched: {exc!r}") from None

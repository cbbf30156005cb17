"""File input/output and column mapping for the command line.

Inputs are CSV (optionally compressed: ``.csv.gz``, ``.csv.bz2``, ...) or
Parquet; the format follows the file name. Renaming columns and mapping event
names happens here, with pandas, before :meth:`Dataset.from_frames`, so the
library itself sees its canonical column names.
"""

from __future__ import annotations

import importlib.util
import lzma
import sys
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import (
    CorruptFileError,
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
    MissingDependencyError,
    require,
)

__all__ = [
    "CSV_NA_VALUES",
    "file_format",
    "check_output_path",
    "read_table",
    "write_table",
    "parse_pairs",
    "load_dataset",
    "read_user_ids",
]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")

#: The only cell texts a CSV reader treats as missing. pandas' own list also
#: has ``"NA"``, ``"None"``, ``"-NaN"``, ``"<NA>"`` ...; those are real values
#: here (an item id ``"NA"``, Namibia's country code).
CSV_NA_VALUES = ("", "#N/A", "N/A", "NULL", "NaN", "n/a", "nan", "null")

#: pandas' other default missing-value texts: values here, unless ``--na-values`` names them.
_OTHER_NA_TEXTS = ("NA", "None", "<NA>", "#NA", "-NaN", "-nan", "#N/A N/A", "1.#IND", "-1.#IND",
                   "1.#QNAN", "-1.#QNAN")

#: An id written as a float with a zero fraction (``"17850.0"``).
_FLOAT_ID = r"-?\d+\.0+"


def file_format(path: str | Path, what: str) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; anything else is an error.

    Parameters
    ----------
    path : str or Path
    what : str
        Argument name for the message (e.g. ``"--out"``).

    Returns
    -------
    str

    Examples
    --------
    >>> file_format("events.csv.gz", "EVENTS"), file_format("out.parquet", "--out")
    ('csv', 'parquet')
    """
    name = str(path).lower()
    if name.endswith(_CSV_SUFFIXES):
        if name.endswith(".csv.zst") and importlib.util.find_spec("zstandard") is None:
            raise MissingDependencyError(
                f"{what}: a .csv.zst file ({str(path)!r}) needs the 'zstandard' package, which "
                f"is not installed; install it with: pip install zstandard (or use .csv.gz)"
            )
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    raise InvalidParameterError(
        f"{what} must be a CSV ({', '.join(_CSV_SUFFIXES)}) or Parquet "
        f"({', '.join(_PARQUET_SUFFIXES)}) file name, got {str(path)!r}."
    )


def check_output_path(path: str | Path, what: str = "--out") -> Path:
    """Check an output file name and its folder before any work is done.

    Parameters
    ----------
    path : str or Path
    what : str
        Option name for messages.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InvalidParameterError
        Not a CSV or Parquet file name.
    FileNotFoundError
        The folder does not exist.
    MissingDependencyError
        ``.csv.zst`` without ``zstandard``.

    Examples
    --------
    >>> check_output_path("profiles.csv").name
    'profiles.csv'
    """
    file_format(path, what)
    out = Path(path)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{what}: folder {str(out.parent)!r} does not exist")
    return out


def _read_error(path: str | Path, what: str, fmt: str, err: Exception) -> CorruptFileError:
    text = " ".join(str(err).split()) or type(err).__name__
    hint = ""
    if isinstance(err, UnicodeDecodeError):
        hint = " CSV files are read as UTF-8: re-save the file as UTF-8."
    elif isinstance(err, pd.errors.ParserError):
        hint = (" persona-rec reads comma-separated CSV with '.' as the decimal mark and "
                "'\"' quotes.")
    return CorruptFileError(
        f"{what} ({path}) cannot be read as {fmt.upper()}: {type(err).__name__}: {text}.{hint}"
    )


def read_table(path: str | Path, what: str, str_columns: Sequence[str] = (),
               float_ids: bool = False, na_values: Sequence[str] = (),
               text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file.

    CSV files are read with :data:`CSV_NA_VALUES` as the only missing-value
    texts and ``index_col=False`` (a trailing delimiter on each line does not
    shift the columns).

    Parameters
    ----------
    path : str or Path
    what : str
        Argument name for messages.
    str_columns : sequence of str
        CSV columns read as text (identifiers: ``007`` stays ``"007"`` and a
        column with gaps does not turn into floats). Parquet keeps its types.
        Such a column whose values all look like floats with a zero fraction
        (``"17850.0"``) is refused: ``17850`` elsewhere would be another id.
    float_ids : bool, default False
        Instead of refusing those columns, strip the zero fraction
        (``"17850.0"`` -> ``"17850"``, text to text, no float rounding).
    na_values : sequence of str
        More CSV cell texts to read as missing (``--na-values``), e.g.
        ``["NA"]`` for a file written by R. A column that is numeric except
        for cells such as ``NA`` or ``None`` is refused without it.
    text_columns : sequence of str
        More CSV columns read as text, without the id checks (the time and
        event columns: ``20110304`` is then read as a date, as the Python API
        reads that text, and event codes ``1``, ``4`` match ``--event-map``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidParameterError
        Unknown file type.
    FileNotFoundError
        The file does not exist.
    MissingDependencyError
        A Parquet file and no ``pyarrow``.
    CorruptFileError
        The reader fails (empty file, bad encoding, not gzip, corrupt Parquet,
        unclosed quote, rows with too many fields ...).
    InvalidDtypeError
        A text id column holds float-written ids and ``float_ids`` is False.
    InvalidValueError
        A column is numeric except for texts such as ``NA`` (not in
        ``na_values``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "items.csv"
    >>> _ = f.write_text("item_id,country,price\\nNA,NA,1.5\\nB1,,2\\n")
    >>> read_table(f, "--items", str_columns=["item_id"])
      item_id country  price
    0      NA      NA    1.5
    1      B1     NaN    2.0
    """
    fmt = file_format(path, what)
    if not Path(path).is_file():
        raise FileNotFoundError(f"{what}: no such file: {str(path)!r}")
    if fmt == "parquet":
        require("pyarrow", "parquet", "Reading Parquet files")
        try:
            return pd.read_parquet(path)
        except (ValueError, OSError, EOFError) as err:  # ArrowInvalid is a ValueError
            if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)):
                raise
            raise _read_error(path, what, fmt, err) from err
    opts: dict[str, Any] = {"keep_default_na": False,
                            "na_values": [*CSV_NA_VALUES, *na_values],
                            "index_col": False}
    try:
        header = pd.read_csv(path, nrows=0, **opts)
        dtype = {c: str for c in str_columns if c in header.columns}
        text = {c: str for c in text_columns if c in header.columns}
        frame = pd.read_csv(path, dtype={**text, **dtype} or None, **opts)
    except (ValueError, OSError, EOFError, zlib.error, lzma.LZMAError,
            zipfile.BadZipFile) as err:  # ParserError, EmptyDataError, UnicodeError: ValueError
        if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise _read_error(path, what, fmt, err) from err
    for col in dtype:
        values = frame[col].dropna()
        if not len(values):
            continue
        floaty = values.str.fullmatch(_FLOAT_ID)
        if float_ids:
            frame[col] = frame[col].str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
        elif floaty.all():
            raise InvalidDtypeError(
                f"{what} ({path}): column {col!r} holds ids written as floats, e.g. "
                f"{values.iloc[0]!r}; the same id written {values.iloc[0].split('.')[0]!r} "
                f"elsewhere would be another user or item. Re-export the ids as integers, or "
                f"pass --float-ids to read {values.iloc[0]!r} as "
                f"{values.iloc[0].split('.')[0]!r}."
            )
    _check_na_texts(frame, path, what, skip={**text, **dtype})
    return frame


def _check_na_texts(frame: pd.DataFrame, path: str | Path, what: str,
                    skip: Mapping[str, Any]) -> None:
    """Refuse a column that is numeric but for texts pandas would read as missing (``NA``)."""
    for col in frame.columns:
        if col in skip or frame[col].dtype.kind != "O":  # object or str dtype
            continue
        values = frame[col].dropna()
        na_like = values.isin(_OTHER_NA_TEXTS).to_numpy()
        if not na_like.any() or na_like.all():
            continue
        rest = values[~na_like]
        if pd.to_numeric(rest, errors="coerce").notna().all():
            texts = sorted(set(values[na_like]))
            row = int(np.flatnonzero(frame[col].isin(texts).to_numpy())[0]) + 1
            raise InvalidValueError(
                f"{what} ({path}): column {col!r} is numeric except {int(na_like.sum())} "
                f"cell(s) {texts} (first in data row {row}); pass "
                f"{' '.join(f'--na-values {t}' for t in texts)} to read them as missing."
            )


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` (its index too, when named) as CSV or Parquet by file name.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or Path

    Returns
    -------
    pathlib.Path
        The file written.
    """
    fmt = file_format(path, "--out")
    out = check_output_path(path)
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    if fmt == "parquet":
        require("pyarrow", "parquet", "Writing Parquet files")
        for col in frame.columns[frame.dtypes == object]:
            kinds = pd.api.types.infer_dtype(frame[col], skipna=True)
            if kinds in ("mixed-integer", "mixed"):  # e.g. int ids and unknown text ids
                print(f"persona-rec: note: --out column {col!r} mixes kinds of values "
                      f"({kinds}); Parquet needs one type, so it is written as text",
                      file=sys.stderr)
                frame = frame.assign(**{col: frame[col].map(str, na_action="ignore")})
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return out


def parse_pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    """Parse ``["a=b", "c=d,e=f"]`` into ``{"a": "b", "c": "d", "e": "f"}``.

    Parameters
    ----------
    values : sequence of str or None
    what : str
        Option name for messages.

    Returns
    -------
    dict

    Examples
    --------
    >>> parse_pairs(["add_to_cart=cart", "order=purchase,pv=view"], "--event-map")
    {'add_to_cart': 'cart', 'order': 'purchase', 'pv': 'view'}
    """
    out: dict[str, str] = {}
    for value in values or ():
        for part in value.split(","):
            src, sep, dst = part.partition("=")
            if not sep or not src.strip() or not dst.strip():
                raise InvalidParameterError(
                    f"{what} takes SOURCE=TARGET pairs, got {part!r}."
                )
            src, dst = src.strip(), dst.strip()
            if src in out and out[src] != dst:
                raise InvalidParameterError(
                    f"{what} maps {src!r} twice ({out[src]!r} and {dst!r})."
                )
            out[src] = dst
    return out


def _rename(frame: pd.DataFrame, mapping: Mapping[str, str], what: str,
            required: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rename ``mapping`` (source -> canonical) columns; error on clashes and absences.

    ``required`` maps each column that must exist to the option that names it.
    """
    missing = [c for c in (required or {}) if c not in frame.columns]
    if missing:
        options = sorted({(required or {})[c] for c in missing})
        hint = ""
        if len(frame.columns) == 1:
            seps = [name for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))
                    if sep in str(frame.columns[0])]
            if seps:
                hint = (f" The file seems to be separated by {seps[0]}; persona-rec reads "
                        f"comma-separated CSV: re-save it with ',' as the separator.")
        raise MissingColumnError(
            f"{what} has no column(s) {missing} (name yours with {'/'.join(options)}); "
            f"its columns are {list(frame.columns)}.{hint}"
        )
    mapping = {s: d for s, d in mapping.items() if s != d and s in frame.columns}
    clash = [d for s, d in mapping.items() if d in frame.columns and d not in mapping]
    if clash:
        raise InvalidParameterError(
            f"{what}: renaming onto {clash} would overwrite existing column(s) of that name; "
            f"drop or rename them first."
        )
    return frame.rename(columns=mapping)


def load_dataset(
    events: str | Path,
    *,
    users: str | Path | None = None,
    items: str | Path | None = None,
    user_col: str = Columns.USER,
    item_col: str = Columns.ITEM,
    time_col: str = Columns.TIMESTAMP,
    event_col: str | None = None,
    rename: Mapping[str, str] | None = None,
    event_map: Mapping[str, str] | None = None,
    clean: bool = False,
    float_ids: bool = False,
    na_values: Sequence[str] = (),
    dayfirst: bool | None = None,
    time_format: str | None = None,
    epoch_unit: str | None = None,
) -> Dataset:
    """Read the event (and optional user/item) files into a :class:`Dataset`.

    Parameters
    ----------
    events, users, items : str or Path
        CSV or Parquet files.
    user_col, item_col, time_col : str
        Names of the id and time columns in the files; they are renamed to
        ``user_id``, ``item_id`` and ``timestamp`` (``user_col`` in the users
        file too, ``item_col`` in the items file). They must exist.
    event_col : str, optional
        The event type column, renamed to ``event``. When given it must
        exist; by default an ``event`` column is used if there is one (none:
        every row is a purchase).
    rename : mapping, optional
        More ``source -> canonical`` renames in the events file (e.g.
        ``{"UnitPrice": "price"}``); every source column must exist.
    event_map : mapping, optional
        ``source event name -> event name`` (e.g. ``{"add_to_cart": "cart"}``);
        names not listed are kept.
    clean : bool
        Passed to :meth:`Dataset.from_frames`: drop invalid rows (reported on
        stderr) instead of failing.
    float_ids : bool
        Read CSV id columns written as floats (``"17850.0"``) as the integer
        text (``"17850"``) instead of refusing them (see :func:`read_table`).
    na_values : sequence of str
        More CSV cell texts read as missing (see :func:`read_table`).
    dayfirst, time_format, epoch_unit
        Passed to :meth:`Dataset.from_frames` (how to read the time column).

    Returns
    -------
    Dataset

    Raises
    ------
    MissingColumnError
        A column named by an option (``--user-col``, ``--item-col``,
        ``--time-col``, ``--event-col``, ``--rename``) is not in its file.
    """
    id_cols = (user_col, item_col)
    inter = read_table(events, "EVENTS", str_columns=id_cols, float_ids=float_ids,
                       na_values=na_values,
                       text_columns=(time_col, event_col or Columns.EVENT))
    rename = dict(rename or {})
    mapping = {user_col: Columns.USER, item_col: Columns.ITEM, time_col: Columns.TIMESTAMP,
               **({} if event_col is None else {event_col: Columns.EVENT}), **rename}
    required = {user_col: "--user-col", item_col: "--item-col", time_col: "--time-col",
                **({} if event_col is None else {event_col: "--event-col"}),
                **{src: "--rename" for src in rename}}
    inter = _rename(inter, mapping, f"EVENTS ({events})", required=required)
    if event_map:
        if Columns.EVENT not in inter.columns:
            raise MissingColumnError(
                f"--event-map needs an event column, but EVENTS has no "
                f"{event_col or Columns.EVENT!r} column (set --event-col); its columns are "
                f"{list(inter.columns)}."
            )
        unknown = sorted(set(event_map) - set(inter[Columns.EVENT].dropna().unique()))
        if unknown:
            print(f"persona-rec: note: --event-map source name(s) {unknown} do not occur in "
                  f"EVENTS", file=sys.stderr)
        inter[Columns.EVENT] = inter[Columns.EVENT].replace(dict(event_map))
    users_df = items_df = None
    if users is not None:
        users_df = _rename(read_table(users, "--users", str_columns=(user_col,),
                                      float_ids=float_ids, na_values=na_values),
                           {user_col: Columns.USER}, f"--users ({users})",
                           required={user_col: "--user-col"})
    if items is not None:
        items_df = _rename(read_table(items, "--items", str_columns=(item_col,),
                                      float_ids=float_ids, na_values=na_values),
                           {item_col: Columns.ITEM}, f"--items ({items})",
                           required={item_col: "--item-col"})
    dataset = Dataset.from_frames(inter, users=users_df, items=items_df, clean=clean,
                                  dayfirst=dayfirst, time_format=time_format,
                                  epoch_unit=epoch_unit)
    for report in dataset.cleaning_reports:
        print(str(report), file=sys.stderr)
    return dataset


def _text_ids_to(ids: pd.Series, dtype: np.dtype) -> tuple[np.ndarray, pd.Series]:
    """Text ids as ``dtype`` ids, exactly; the ones that are not valid stay text.

    Integer ids accept only integer text (``"17850"``, ``"+7"``, ``"-3"``),
    parsed by Python's ``int`` (no float path, so no rounding above 2**53),
    and only within the range of ``dtype``. Returns the ids (an array of
    ``dtype`` when all convert, else an object array mixing ints and the
    unconverted texts) and the unconverted texts.
    """
    if dtype.kind not in "iu":
        return ids.to_numpy(dtype=object), ids.iloc[:0]
    info = np.iinfo(dtype)
    is_int = ids.str.fullmatch(r"[+-]?\d+").fillna(False).to_numpy(dtype=bool)
    values: list[Any] = list(ids)
    ok = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(is_int):
        v = int(values[i])
        if info.min <= v <= info.max:
            values[i] = v
            ok[i] = True
    if ok.all():
        return np.array(values, dtype=dtype), ids.iloc[:0]
    return np.fromiter(values, dtype=object, count=len(values)), ids[~ok]


def read_user_ids(path: str | Path, user_col: str, dataset: Dataset,
                  float_ids: bool = False) -> np.ndarray:
    """User ids to serve, from a text file (one id per line) or a CSV/Parquet file.

    A ``.txt`` file holds one id per line, read as UTF-8 (a byte-order mark is
    dropped); surrounding whitespace is stripped, blank lines are skipped and
    spaces inside an id are kept (``"guest 42"`` is one id). A CSV/Parquet
    file needs the ``user_col`` (or ``user_id``) column, read as text.

    When the Dataset's user ids are integers, each id text is converted
    exactly (Python ``int``, never through a float): ``"9007199254740993"``
    stays that customer. Texts that are not integer ids of the Dataset's id
    type (``"new-visitor-1"``, ``"12.0"``, an integer out of its range) are
    kept as given and served as unknown users (``--on-unknown``); a note on
    stderr counts them.

    Parameters
    ----------
    path : str or Path
    user_col : str
    dataset : Dataset
    float_ids : bool, default False
        Read ids written as floats (``"17850.0"``) as ``"17850"`` (text to
        text), as for the data files; otherwise such a line is not an integer
        id, and a CSV column of them is refused (see :func:`read_table`).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    FileNotFoundError
        No such file.
    MissingColumnError
        A CSV/Parquet file without the id column.
    InvalidValueError
        Empty ids in a CSV/Parquet file, or no id at all.
    """
    name = str(path).lower()
    if name.endswith(".txt"):
        if not Path(path).is_file():
            raise FileNotFoundError(f"--users-file: no such file: {str(path)!r}")
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise _read_error(path, "--users-file", "text", err) from err
        lines = [line.strip() for line in text.splitlines()]
        ids = pd.Series([line for line in lines if line], dtype=object)
    else:
        frame = read_table(path, "--users-file", str_columns=(user_col, Columns.USER),
                           float_ids=float_ids)
        col = user_col if user_col in frame.columns else Columns.USER
        if col not in frame.columns:
            raise MissingColumnError(
                f"--users-file ({path}) needs a {user_col!r} or 'user_id' column; "
                f"its columns are {list(frame.columns)}."
            )
        ids = frame[col]
        if ids.isna().any():
            raise InvalidValueError(
                f"--users-file ({path}): column {col!r} has {int(ids.isna().sum())} empty "
                f"id(s), e.g. in row {int(np.flatnonzero(ids.isna().to_numpy())[0]) + 1}."
            )
        if ids.dtype.kind in "iu":  # Parquet integers
            ids = ids.map(str)
        elif ids.dtype.kind != "O" and not isinstance(ids.dtype, pd.StringDtype):
            raise InvalidDtypeError(
                f"--users-file ({path}): column {col!r} must hold str or int ids, got dtype "
                f"{ids.dtype} (e.g. {ids.iloc[0]!r})."
            )
        ids = ids.astype(object)
    if not len(ids):
        raise InvalidValueError(f"--users-file ({path}) holds no user id.")
    known = dataset.user_map.external_ids
    ids = ids.map(str)
    if float_ids:
        ids = ids.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    out, unconverted = _text_ids_to(ids, known.dtype)
    if len(unconverted):
        print(f"persona-rec: note: {len(unconverted)} id(s) in --users-file are not integer ids "
              f"like the Dataset's user ids ({known.dtype}) and are served as unknown users, "
              f"e.g. {unconverted.iloc[0]!r}", file=sys.stderr)
    return out

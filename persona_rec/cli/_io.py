"""File input/output and column mapping for the command line.

Inputs are CSV (optionally compressed: ``.csv.gz``, ``.csv.bz2``, ...) or
Parquet; the format follows the file name. Renaming columns and mapping event
names happens here, with pandas, before :meth:`Dataset.from_frames`, so the
library itself sees its canonical column names.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import InvalidParameterError, InvalidValueError, MissingColumnError, require

__all__ = [
    "file_format",
    "read_table",
    "write_table",
    "parse_pairs",
    "load_dataset",
    "read_user_ids",
]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")


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
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    raise InvalidParameterError(
        f"{what} must be a CSV ({', '.join(_CSV_SUFFIXES)}) or Parquet "
        f"({', '.join(_PARQUET_SUFFIXES)}) file name, got {str(path)!r}."
    )


def read_table(path: str | Path, what: str, str_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file.

    Parameters
    ----------
    path : str or Path
    what : str
        Argument name for messages.
    str_columns : sequence of str
        CSV columns read as text (identifiers: ``007`` stays ``"007"`` and a
        column with gaps does not turn into floats). Parquet keeps its types.

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
    """
    fmt = file_format(path, what)
    if not Path(path).is_file():
        raise FileNotFoundError(f"{what}: no such file: {str(path)!r}")
    if fmt == "parquet":
        require("pyarrow", "parquet", "Reading Parquet files")
        return pd.read_parquet(path)
    header = pd.read_csv(path, nrows=0)
    dtype = {c: str for c in str_columns if c in header.columns}
    return pd.read_csv(path, dtype=dtype or None)


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
    out = Path(path)
    if out.parent and not out.parent.exists():
        raise FileNotFoundError(f"--out: folder {str(out.parent)!r} does not exist")
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    if fmt == "parquet":
        require("pyarrow", "parquet", "Writing Parquet files")
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
        raise MissingColumnError(
            f"{what} has no column(s) {missing} (name yours with {'/'.join(options)}); "
            f"its columns are {list(frame.columns)}."
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
    event_col: str = Columns.EVENT,
    rename: Mapping[str, str] | None = None,
    event_map: Mapping[str, str] | None = None,
    clean: bool = False,
) -> Dataset:
    """Read the event (and optional user/item) files into a :class:`Dataset`.

    Parameters
    ----------
    events, users, items : str or Path
        CSV or Parquet files.
    user_col, item_col, time_col, event_col : str
        Names of the id, time and event-type columns in the files; they are
        renamed to ``user_id``, ``item_id``, ``timestamp`` and ``event``
        (``user_col`` in the users file too, ``item_col`` in the items file).
    rename : mapping, optional
        More ``source -> canonical`` renames in the events file (e.g.
        ``{"UnitPrice": "price"}``).
    event_map : mapping, optional
        ``source event name -> event name`` (e.g. ``{"add_to_cart": "cart"}``);
        names not listed are kept.
    clean : bool
        Passed to :meth:`Dataset.from_frames`: drop invalid rows (reported on
        stderr) instead of failing.

    Returns
    -------
    Dataset
    """
    id_cols = (user_col, item_col)
    inter = read_table(events, "EVENTS", str_columns=id_cols)
    mapping = {user_col: Columns.USER, item_col: Columns.ITEM, time_col: Columns.TIMESTAMP,
               event_col: Columns.EVENT, **dict(rename or {})}
    inter = _rename(inter, mapping, f"EVENTS ({events})",
                    required={user_col: "--user-col", item_col: "--item-col",
                              time_col: "--time-col"})
    if event_map:
        if Columns.EVENT not in inter.columns:
            raise MissingColumnError(
                f"--event-map needs an event column, but EVENTS has no {event_col!r} column "
                f"(set --event-col); its columns are {list(inter.columns)}."
            )
        unknown = sorted(set(event_map) - set(inter[Columns.EVENT].dropna().unique()))
        if unknown:
            print(f"persona-rec: note: --event-map source name(s) {unknown} do not occur in "
                  f"EVENTS", file=sys.stderr)
        inter[Columns.EVENT] = inter[Columns.EVENT].replace(dict(event_map))
    users_df = items_df = None
    if users is not None:
        users_df = _rename(read_table(users, "--users", str_columns=(user_col,)),
                           {user_col: Columns.USER}, f"--users ({users})",
                           required={user_col: "--user-col"})
    if items is not None:
        items_df = _rename(read_table(items, "--items", str_columns=(item_col,)),
                           {item_col: Columns.ITEM}, f"--items ({items})",
                           required={item_col: "--item-col"})
    dataset = Dataset.from_frames(inter, users=users_df, items=items_df, clean=clean)
    for report in dataset.cleaning_reports:
        print(str(report), file=sys.stderr)
    return dataset


def read_user_ids(path: str | Path, user_col: str, dataset: Dataset) -> Any:
    """User ids to serve, from a one-column text file or a CSV/Parquet file.

    A ``.txt`` file holds one id per line. A CSV/Parquet file needs the
    ``user_id`` column (or ``user_col``). Ids are matched to the Dataset's id
    type: digit strings become integers when the Dataset's ids are integers.

    Parameters
    ----------
    path : str or Path
    user_col : str
    dataset : Dataset

    Returns
    -------
    numpy.ndarray
    """
    name = str(path).lower()
    if name.endswith(".txt"):
        if not Path(path).is_file():
            raise FileNotFoundError(f"--users-file: no such file: {str(path)!r}")
        lines = Path(path).read_text().split()
        ids = pd.Series(lines, dtype=object)
    else:
        frame = read_table(path, "--users-file", str_columns=(user_col, Columns.USER))
        col = user_col if user_col in frame.columns else Columns.USER
        if col not in frame.columns:
            raise MissingColumnError(
                f"--users-file ({path}) needs a {user_col!r} or 'user_id' column; "
                f"its columns are {list(frame.columns)}."
            )
        ids = frame[col]
    if ids.isna().any():
        raise InvalidValueError(f"--users-file ({path}) has {int(ids.isna().sum())} empty id(s).")
    known = dataset.user_map.external_ids
    if known.dtype.kind in "iu" and ids.dtype.kind not in "iu":
        as_int = pd.to_numeric(ids, errors="coerce")
        bad = ids[as_int.isna() | (as_int != as_int.round())]
        if len(bad):
            raise InvalidValueError(
                f"--users-file ({path}): the Dataset's user ids are integers, but "
                f"{len(bad)} id(s) are not, e.g. {bad.iloc[0]!r}."
            )
        ids = as_int.astype("int64")
    elif known.dtype.kind not in "iu":
        ids = ids.astype(str)
    return ids.to_numpy()

"""Loader for the MovieLens 100K dataset (GroupLens, research use only).

MovieLens may not be redistributed: persona_rec never ships it. Point the
loader at your own copy of the ``ml-100k`` folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import CorruptFileError, InvalidParameterError
from ._common import require_path

__all__ = ["ML100K_GENRES", "load_movielens_100k", "load_movielens_100k_split"]

#: The 19 genres of ``u.genre``, in the order of the genre flags of ``u.item``.
ML100K_GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)

_SPLITS = tuple(f"u{i}" for i in range(1, 6)) + ("ua", "ub")


def _genre_column(genre: str) -> str:
    """``"Children's"`` -> ``"genre_childrens"``, ``"Sci-Fi"`` -> ``"genre_sci_fi"``."""
    slug = re.sub(r"[^a-z0-9]+", "_", genre.lower().replace("'", "")).strip("_")
    return f"genre_{slug}"


def _read_ratings(path: Path) -> pd.DataFrame:
    df = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["user_id", "item_id", "rating", "unix_time"],
        dtype={"user_id": np.int64, "item_id": np.int64, "rating": np.int64, "unix_time": np.int64},
        engine="c",
    )
    if df.isna().any().any():
        raise CorruptFileError(f"{path}: ratings file has empty fields.")
    return pd.DataFrame(
        {
            Columns.USER: df["user_id"].to_numpy(),
            Columns.ITEM: df["item_id"].to_numpy(),
            Columns.TIMESTAMP: pd.to_datetime(df["unix_time"].to_numpy(), unit="s"),
            Columns.EVENT: "rating",
            Columns.WEIGHT: df["rating"].to_numpy(dtype=np.float64),
            "rating": df["rating"].to_numpy(),
        }
    )


def _read_items(path: Path) -> pd.DataFrame:
    names = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *ML100K_GENRES]
    raw = pd.read_csv(
        path, sep="|", header=None, names=names, encoding="latin-1",
        dtype={"title": str, "release_date": str, "imdb_url": str}, keep_default_na=False,
    )
    flags = raw[list(ML100K_GENRES)].to_numpy(dtype=np.int8)
    release = pd.to_datetime(raw["release_date"].replace("", None), format="%d-%b-%Y", errors="coerce")
    year_from_title = pd.to_numeric(
        raw["title"].str.extract(r"\((\d{4})\)\s*$", expand=False), errors="coerce"
    )
    year = release.dt.year.astype("Float64").fillna(year_from_title.astype("Float64"))
    genre_names = np.asarray(ML100K_GENRES, dtype=object)
    genres = ["|".join(genre_names[row.astype(bool)]) for row in flags]
    # category: the first flagged genre in u.genre order (a one-level path).
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), 0)
    category = np.where(first == 0, "Unknown", genre_names[first])
    out = pd.DataFrame(
        {
            Columns.ITEM: raw["item_id"].to_numpy(dtype=np.int64),
            "title": raw["title"].str.strip().replace("", "unknown").to_numpy(dtype=object),
            "year": year.astype("Int64"),
            "release_date": release,
            "genres": genres,
            "category": category.astype(object),
        }
    )
    for j, g in enumerate(ML100K_GENRES):
        out[_genre_column(g)] = flags[:, j].astype(bool)
    return out


def _read_users(path: Path) -> pd.DataFrame:
    return pd.read_csv(
        path, sep="|", header=None,
        names=[Columns.USER, "age", "gender", "occupation", "zip_code"],
        dtype={Columns.USER: np.int64, "age": np.int64, "gender": str, "occupation": str,
               "zip_code": str},
    )


def load_movielens_100k(path: str | Path) -> Dataset:
    """Load MovieLens 100K (ratings, demographics, genres) as a :class:`Dataset`.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``ml-100k`` folder holding ``u.data``, ``u.item`` (latin-1) and
        ``u.user``. MovieLens may not be redistributed, so it never ships with
        persona_rec.

    Returns
    -------
    Dataset
        943 users, 1,682 items, 100,000 interactions.

        * interactions: ``user_id``, ``item_id`` (int), ``timestamp`` (from
          Unix seconds, UTC), ``event`` = ``"rating"``, ``weight`` = the
          rating (1-5, float) and ``rating`` (int).
        * users: ``age``, ``gender`` (M/F), ``occupation``, ``zip_code`` (str;
          a few are not numeric). ``age``, ``gender`` and ``zip_code`` are
          flagged sensitive.
        * items: ``title``, ``year`` (release year, from ``release_date``,
          else from the title; ``<NA>`` for the one "unknown" movie),
          ``release_date``, ``genres`` (pipe-joined, e.g.
          ``"Animation|Children's|Comedy"``), one bool column per genre
          (``genre_action``, ``genre_sci_fi``, ...) and ``category``: the
          first flagged genre in ``u.genre`` order as a one-level path
          (``"Animation"``; ``"Unknown"`` when only the unknown flag is set).

    Raises
    ------
    FileNotFoundError
        ``path`` is not a folder or a file is missing.
    CorruptFileError
        A file has empty fields.

    Examples
    --------
    >>> ds = load_movielens_100k("/path/to/ml-100k")  # doctest: +SKIP
    >>> ds.n_users, ds.n_items, ds.n_interactions  # doctest: +SKIP
    (943, 1682, 100000)
    """
    root = require_path(path, "MovieLens 100K folder", is_dir=True)
    files = {name: require_path(root / name, "MovieLens 100K") for name in ("u.data", "u.item", "u.user")}
    inter = _read_ratings(files["u.data"])
    items = _read_items(files["u.item"])
    users = _read_users(files["u.user"])
    return Dataset.from_frames(inter, users=users, items=items)


def load_movielens_100k_split(path: str | Path, split: str = "u1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one of GroupLens' own train/test splits of MovieLens 100K.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``ml-100k`` folder. The split files ``<split>.base`` and
        ``<split>.test`` are looked up in it and in its ``splits/`` subfolder,
        plain or gzip-compressed (``.gz``).
    split : {"u1", "u2", "u3", "u4", "u5", "ua", "ub"}, default "u1"
        ``u1``-``u5`` are disjoint 80/20 folds; ``ua``/``ub`` hold exactly 10
        ratings per user in the test part.

    Returns
    -------
    (train, test) : tuple of pandas.DataFrame
        Interaction frames with the columns of :func:`load_movielens_100k`,
        ready for ``dataset.filter_interactions`` or for
        :meth:`Dataset.from_frames`.

    Examples
    --------
    >>> train, test = load_movielens_100k_split("/path/to/ml-100k", "ua")  # doctest: +SKIP
    >>> len(train), len(test)  # doctest: +SKIP
    (90570, 9430)
    """
    if split not in _SPLITS:
        raise InvalidParameterError(f"The 'split' parameter must be one of {list(_SPLITS)}, got {split!r}.")
    root = require_path(path, "MovieLens 100K folder", is_dir=True)
    out = []
    for part in ("base", "test"):
        name = f"{split}.{part}"
        candidates = [root / name, root / f"{name}.gz", root / "splits" / name, root / "splits" / f"{name}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"MovieLens 100K split file {name!r} not found in {str(root)!r} or its splits/ folder.")
        out.append(_read_ratings(found))
    return out[0], out[1]

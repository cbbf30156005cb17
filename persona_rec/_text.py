"""Text helpers shared across the package: slugs and category paths.

One definition of how a free-text value becomes a slug (``"Home & Garden"``
-> ``"home_garden"``) and how an item ``category`` path
(``"Home > Kitchen > Mugs"``) splits into levels, so that profile affinities,
tag ids, model feature names and marketing category filters agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import InvalidValueError, UnknownIdError

__all__ = [
    "CATEGORY_SEPARATOR",
    "slugify",
    "slugify_values",
    "category_parts",
    "category_path",
    "category_item_mask",
]

#: Separator of the levels in an item ``category`` path.
CATEGORY_SEPARATOR = " > "

_SLUG_RE = re.compile(r"[^0-9a-z]+")


def slugify(value: Any) -> str:
    """Lower-case ``value`` and replace each run of non-alphanumerics by ``_``.

    Leading and trailing ``_`` are removed, so a value without any ASCII
    letter or digit gives ``""``.

    Parameters
    ----------
    value : Any
        Converted with ``str()`` first.

    Returns
    -------
    str

    Examples
    --------
    >>> slugify("Home & Garden")
    'home_garden'
    >>> slugify("  Mugs ")
    'mugs'
    >>> slugify("&")
    ''
    """
    return _SLUG_RE.sub("_", str(value).lower()).strip("_")


def category_parts(path: Any, separators: str = ">") -> list[str]:
    """Slugs of the levels of a category path, empty levels dropped.

    Parameters
    ----------
    path : Any
        A path such as ``"Home > Kitchen > Mugs"`` (converted with ``str()``).
    separators : str, default ">"
        Each character splits levels; ``">/"`` also accepts the slug form
        ``"home/kitchen"``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> category_parts("Home > Kitchen & Dining > Mugs")
    ['home', 'kitchen_dining', 'mugs']
    >>> category_parts("home/kitchen_dining", separators=">/")
    ['home', 'kitchen_dining']
    >>> category_parts(" > ")
    []
    """
    text = str(path)
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    parts = (slugify(p) for p in text.split(separators[0])) if separators else iter([slugify(text)])
    return [p for p in parts if p]


def slugify_values(values: Any) -> np.ndarray:
    """Vectorised :func:`slugify` of an array of values; missing or empty slugs become ``None``.

    Parameters
    ----------
    values : array-like
        Any values; NaN/None/NA stay missing.

    Returns
    -------
    numpy.ndarray of object

    Examples
    --------
    >>> slugify_values(["Acme Co.", None, "&", 7]).tolist()
    ['acme_co', None, None, '7']
    """
    s = pd.Series(np.asarray(values, dtype=object), dtype=object)
    ok = s.notna().to_numpy()
    out = np.full(len(s), None, dtype=object)
    if ok.any():
        slugs = s[ok].astype(str).str.lower().str.replace(_SLUG_RE, "_", regex=True).str.strip("_")
        slugs = slugs.to_numpy(dtype=object)
        slugs[slugs == ""] = None
        out[ok] = slugs
    return out


def category_path(path: Any) -> str:
    """Slug path of a display (``"Toys & Kids > Games"``) or slug (``"toys_kids/games"``) category."""
    return "/".join(category_parts(path, separators=">/"))


def category_item_mask(item_categories: pd.Series, category: str | Sequence[str]) -> np.ndarray:
    """Items whose category path equals or lies under ``category``.

    Parameters
    ----------
    item_categories : pandas.Series
        Category path per item (``"Home > Kitchen > Mugs"``; NaN allowed).
    category : str or sequence of str
        Path(s) to match, display (``"Toys & Kids > Games"``) or slug
        (``"toys_kids/games"``, as in the tag ids) form, case-insensitive.
        Both sides are compared as slug paths (see
        :func:`persona_rec.profiles.slugify`).

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    InvalidValueError
        ``category`` is empty or has no letter or digit.
    UnknownIdError
        A category matches no item (a typo would otherwise select nobody).

    Examples
    --------
    >>> import pandas as pd
    >>> cats = pd.Series(["Home > Kitchen", "Home", "Toys & Kids", None])
    >>> category_item_mask(cats, "home").tolist()
    [True, True, False, False]
    >>> category_item_mask(cats, ["toys_kids", "Home > Kitchen"]).tolist()
    [True, False, True, False]
    """
    cats = [category] if isinstance(category, str) else list(category)
    if not cats:
        raise InvalidValueError("category must name at least one category path, got [].")
    values = pd.Series(item_categories, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # one normalisation per distinct path, not per item
    uniq_norm = pd.Series([category_path(v) if isinstance(v, str) else "" for v in uniques], dtype=object)
    norm = np.append(uniq_norm.to_numpy(dtype=object), "")[np.where(codes < 0, len(uniques), codes)]
    norm = pd.Series(norm, dtype=object)
    out = np.zeros(len(values), dtype=bool)
    for raw in cats:
        c = category_path(raw)
        if not c:
            raise InvalidValueError(
                f"category must name a category path with letters or digits, got {raw!r}."
            )
        hit = ((norm == c) | norm.str.startswith(c + "/")).to_numpy(dtype=bool)
        if not hit.any():
            known = sorted({p.split("/")[0] for p in uniq_norm if p})
            raise UnknownIdError(
                f"category {raw!r} (slug path {c!r}) matches no item's category; "
                f"top-level categories are {known[:20]}."
            )
        out |= hit
    return out

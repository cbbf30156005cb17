"""Text helpers shared across the package: slugs and category paths.

One definition of how a free-text value becomes a slug (``"Home & Garden"``
-> ``"home_garden"``) and how an item ``category`` path
(``"Home > Kitchen > Mugs"``) splits into levels, so that profile affinities,
tag ids, model feature names and marketing category filters agree.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CATEGORY_SEPARATOR", "slugify", "slugify_values", "category_parts"]

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

"""Hierarchical item categories: one convention for every part of the package.

An item ``category`` is a path of levels, such as ``"Home > Kitchen > Mugs"``
or ``"Home/Kitchen/Mugs"``. Profiles (``top_category``, ``top_category_l2``,
the ``category_l*`` affinities), the default taxonomy's ``interest/*`` tags,
:class:`~persona_rec.models.filters.ItemFilter`, the marketing category
filters and the models' category features all split it the same way and
compare levels as slugs (lower case, runs of other characters -> ``_``),
joined by ``/``: both paths above are ``home/kitchen/mugs``.

By default ``">"`` and ``"/"`` both separate levels
(:data:`DEFAULT_CATEGORY_SEP`). Change it for one call with
``category_sep=`` (``ProfileBuilder.build``, ``ItemFilter``, the propensity
functions) or for the whole package with :func:`set_category_sep`. Flat
categories whose names contain a literal ``"/"`` (``"CDs/DVDs"``) opt out
with ``category_sep=()`` (or ``set_category_sep(">")`` when ``">"`` still
marks levels).

Examples
--------
>>> from persona_rec.categories import category_parts, category_path
>>> category_parts("Home/Kitchen/Mugs")
['home', 'kitchen', 'mugs']
>>> category_path("Home > Kitchen & Dining")
'home/kitchen_dining'
>>> category_parts("CDs/DVDs", sep=())
['cds_dvds']
"""

from __future__ import annotations

from ._text import (
    DEFAULT_CATEGORY_SEP,
    CategorySep,
    category_item_mask,
    category_parts,
    category_path,
    get_category_sep,
    set_category_sep,
)

__all__ = [
    "DEFAULT_CATEGORY_SEP",
    "CategorySep",
    "category_item_mask",
    "category_parts",
    "category_path",
    "get_category_sep",
    "set_category_sep",
]

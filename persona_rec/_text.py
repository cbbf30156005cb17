"""Text helpers shared across the package: slugs, category paths, value lists for messages.

One definition of how a free-text value becomes a slug (``"Home & Garden"``
-> ``"home_garden"``) and how an item ``category`` path
(``"Home > Kitchen > Mugs"`` or ``"Home/Kitchen/Mugs"``) splits into levels,
so that profile affinities, tag ids, model feature names, item filters and
marketing category filters agree. It also holds the docstring fragments
that several public functions share (:func:`fill_doc`): a docstring line that
holds only ``{name}`` is replaced by the fragment ``name``, so ``help()`` and
the rendered docs show the full text while the source states it once.

Category separators
-------------------
By default both ``">"`` and ``"/"`` separate levels
(:data:`DEFAULT_CATEGORY_SEP`): ``"Home > Kitchen > Mugs"`` and
``"Home/Kitchen/Mugs"`` are the same path ``home/kitchen/mugs``. Every
function that reads category paths takes ``category_sep=`` (``None`` = the
package default, see :func:`set_category_sep`):

- a string is one separator (``" > "``, ``"::"``, ``"|"`` ...);
- a sequence of strings are several separators;
- an empty sequence ``()`` means flat categories: no level splitting, so a
  name with a literal ``"/"`` (``"CDs/DVDs"``) stays one category
  (``cds_dvds``).
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, Union

import numpy as np
import pandas as pd

from .exceptions import InvalidParameterError, InvalidValueError, UnknownIdError

__all__ = [
    "fill_doc",
    "SAVE_PARAMETERS",
    "LOAD_PARAMETERS",
    "example_values",
    "CATEGORY_SEPARATOR",
    "DEFAULT_CATEGORY_SEP",
    "CategorySep",
    "get_category_sep",
    "set_category_sep",
    "resolve_category_sep",
    "slugify",
    "slugify_values",
    "category_parts",
    "category_path",
    "category_item_mask",
]

#: Separator used when the package *writes* a display category path.
CATEGORY_SEPARATOR = " > "

#: Default separators of the levels of an item ``category`` path.
DEFAULT_CATEGORY_SEP: tuple[str, ...] = (">", "/")

#: A ``category_sep`` argument: None (package default), one separator, or several.
CategorySep = Union[str, Sequence[str], None]

_category_sep: tuple[str, ...] = DEFAULT_CATEGORY_SEP

_SLUG_RE = re.compile(r"[^0-9a-z]+")  # the ASCII case of the slug rule (fast path)
_OTHER_RUNS_RE = re.compile("\0+")


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` is a letter, digit or combining mark of any script (kept in slugs and tag ids).

    Parameters
    ----------
    ch : str
        One character.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_word_char("a"), is_word_char("家"), is_word_char("\u093f"), is_word_char("&")
    (True, True, True, False)
    """
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def slug_text(text: str, keep: str = "") -> str:
    """Lower-case ``text`` (NFKC-normalised) and replace each run of other characters by ``_``.

    Letters, digits and combining marks of any script are kept (the test of
    :func:`is_word_char`), as are the characters of ``keep``; leading and
    trailing ``_`` are not stripped here.

    Parameters
    ----------
    text : str
        The text.
    keep : str, default ""
        Further characters to keep (the default taxonomy keeps ``/_.-``).

    Returns
    -------
    str

    Examples
    --------
    >>> slug_text("Électronique & Bücher")
    'électronique_bücher'
    >>> slug_text("Price 10-20", keep="-")
    'price_10-20'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    if text.isascii() and not keep:
        return _SLUG_RE.sub("_", text)
    marked = "".join(c if c in keep or is_word_char(c) else "\0" for c in text)
    return _OTHER_RUNS_RE.sub("_", marked)


def resolve_category_sep(sep: CategorySep = None, name: str = "category_sep") -> tuple[str, ...]:
    """Validate a ``category_sep`` argument and return it as a tuple of separators.

    Parameters
    ----------
    sep : str, sequence of str or None
        ``None`` gives the package default (:func:`get_category_sep`); a
        string is one separator; ``()`` means flat categories.
    name : str, default "category_sep"
        Argument name used in error messages.

    Returns
    -------
    tuple of str

    Raises
    ------
    InvalidParameterError
        A separator is not a non-empty string.

    Examples
    --------
    >>> resolve_category_sep(" > ")
    (' > ',)
    >>> resolve_category_sep(())
    ()
    >>> resolve_category_sep("")
    Traceback (most recent call last):
    ...
    persona_rec.exceptions.InvalidParameterError: The 'category_sep' parameter must be a non-empty string, a sequence of non-empty strings, () for flat categories or None for the default ('>', '/'), got ''.
    """
    if sep is None:
        return _category_sep
    seps = (sep,) if isinstance(sep, str) else sep
    ok = isinstance(seps, (tuple, list)) and all(isinstance(x, str) and x for x in seps)
    if not ok:
        raise InvalidParameterError(
            f"The {name!r} parameter must be a non-empty string, a sequence of non-empty strings, "
            f"() for flat categories or None for the default {_category_sep}, got {sep!r}."
        )
    return tuple(dict.fromkeys(seps))


def get_category_sep() -> tuple[str, ...]:
    """The package-wide default category separators (``(">", "/")`` unless changed).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> get_category_sep()
    ('>', '/')
    """
    return _category_sep


def set_category_sep(sep: CategorySep) -> tuple[str, ...]:
    """Set the package-wide default category separators; return the previous ones.

    The default applies wherever ``category_sep`` is not given (profiles, tags,
    item filters, marketing category filters, model category features). Set it
    once, before building profiles or fitting models, so that every part reads
    the same hierarchy.

    Parameters
    ----------
    sep : str, sequence of str or None
        New default; ``None`` restores :data:`DEFAULT_CATEGORY_SEP`; ``()``
        makes categories flat.

    Returns
    -------
    tuple of str
        The previous default (pass it back to restore).

    Examples
    --------
    >>> previous = set_category_sep(" > ")
    >>> category_parts("CDs/DVDs > Jazz")
    ['cds_dvds', 'jazz']
    >>> set_category_sep(previous)
    (' > ',)
    >>> category_parts("CDs/DVDs > Jazz")
    ['cds', 'dvds', 'jazz']
    """
    global _category_sep
    new = DEFAULT_CATEGORY_SEP if sep is None else resolve_category_sep(sep)
    old, _category_sep = _category_sep, new
    return old


def slugify(value: Any) -> str:
    """Lower-case ``value`` and replace each run of non-alphanumerics by ``_``.

    Letters and digits of every script are kept (``"Bücher"`` -> ``"bücher"``,
    ``"家居"`` stays ``"家居"``), after NFKC normalisation, so that
    composed and decomposed accents, or full-width and ASCII letters, give one
    slug. Leading and trailing ``_`` are removed, so a value without any
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
    >>> slugify("Électronique"), slugify("家居 用品")
    ('électronique', '家居_用品')
    """
    return slug_text(str(value)).strip("_")


def category_parts(path: Any, sep: CategorySep = None) -> list[str]:
    """Slugs of the levels of a category path, empty levels dropped.

    Parameters
    ----------
    path : Any
        A path such as ``"Home > Kitchen > Mugs"`` or ``"Home/Kitchen/Mugs"``
        (converted with ``str()``).
    sep : str, sequence of str or None, default None
        Level separator(s); ``None`` is the package default (``">"`` and
        ``"/"``), ``()`` keeps the path as one flat level.

    Returns
    -------
    list of str

    Examples
    --------
    >>> category_parts("Home > Kitchen & Dining > Mugs")
    ['home', 'kitchen_dining', 'mugs']
    >>> category_parts("Home/Kitchen/Mugs")
    ['home', 'kitchen', 'mugs']
    >>> category_parts("CDs/DVDs", sep=())
    ['cds_dvds']
    >>> category_parts("Music :: Jazz", sep="::")
    ['music', 'jazz']
    >>> category_parts(" > ")
    []
    """
    return _split_slugs(str(path), resolve_category_sep(sep))


def _split_slugs(text: str, seps: tuple[str, ...]) -> list[str]:
    if seps:
        for s in seps[1:]:
            text = text.replace(s, seps[0])
        raw = text.split(seps[0])
    else:
        raw = [text]
    return [p for p in (slugify(x) for x in raw) if p]


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
        # the rule runs once per distinct text (a vocabulary), not per value
        codes, uniques = pd.factorize(s[ok].astype(str))
        slugs = np.array([slugify(u) or None for u in uniques], dtype=object)
        out[ok] = slugs[codes]
    return out


def category_path(path: Any, sep: CategorySep = None) -> str:
    """Slug path (levels joined by ``/``, as in tag ids) of a category.

    Parameters
    ----------
    path : Any
        A display (``"Toys & Kids > Games"``) or slug (``"toys_kids/games"``) path.
    sep : str, sequence of str or None, default None
        Level separator(s) of the display form (see :func:`category_parts`).

    Returns
    -------
    str

    Examples
    --------
    >>> category_path("Toys & Kids > Games")
    'toys_kids/games'
    >>> category_path("Home/Kitchen/Mugs")
    'home/kitchen/mugs'
    """
    return "/".join(category_parts(path, sep))


def category_item_mask(
    item_categories: pd.Series, category: str | Sequence[str], *, sep: CategorySep = None
) -> np.ndarray:
    """Items whose category path equals or lies under ``category``.

    Parameters
    ----------
    item_categories : pandas.Series
        Category path per item (``"Home > Kitchen > Mugs"``; NaN allowed).
    category : str or sequence of str
        Path(s) to match, display (``"Toys & Kids > Games"``) or slug
        (``"toys_kids/games"``, as in the tag ids) form, case-insensitive.
        Both sides are compared as slug paths (see
        :func:`persona_rec.profiles.slugify`). The slug form with ``/`` is
        accepted even when ``sep`` does not split on ``/``.
    sep : str, sequence of str or None, default None
        Level separator(s) of the item paths and of display-form queries
        (see :func:`category_parts`); ``None`` is the package default.

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
    >>> flat = pd.Series(["CDs/DVDs", "Books"])
    >>> category_item_mask(flat, "CDs/DVDs", sep=()).tolist()
    [True, False]
    """
    seps = resolve_category_sep(sep, "sep")
    cats = [category] if isinstance(category, str) else list(category)
    if not cats:
        raise InvalidValueError("category must name at least one category path, got [].")
    values = pd.Series(item_categories, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # one normalisation per distinct path, not per item
    uniq_norm = pd.Series(
        ["/".join(_split_slugs(v, seps)) if isinstance(v, str) else "" for v in uniques],
        dtype=object,
    )
    norm = np.append(uniq_norm.to_numpy(dtype=object), "")[np.where(codes < 0, len(uniques), codes)]
    norm = pd.Series(norm, dtype=object)
    out = np.zeros(len(values), dtype=bool)
    query_seps = [seps] if "/" in seps else [seps, (*seps, "/")]
    for raw in cats:
        forms = list(dict.fromkeys("/".join(_split_slugs(str(raw), q)) for q in query_seps))
        if not any(forms):
            raise InvalidValueError(
                f"category must name a category path with letters or digits, got {raw!r}."
            )
        hit = np.zeros(len(values), dtype=bool)
        for c in (f for f in forms if f):
            hit |= ((norm == c) | norm.str.startswith(c + "/")).to_numpy(dtype=bool)
        if not hit.any():
            known = sorted({p.split("/")[0] for p in uniq_norm if p})
            raise UnknownIdError(
                f"category {raw!r} (slug path {forms[0]!r}) matches no item's category; "
                f"top-level categories are {known[:20]}."
            )
        out |= hit
    return out


def example_values(values: Iterable[Any], n: int = 3) -> str:
    """Return a short, readable list of the first ``n`` offending values."""
    out = []
    for v in values:
        out.append(repr(v.item() if isinstance(v, np.generic) else v))
        if len(out) >= n:
            break
    return "[" + ", ".join(out) + "]"


# ------------------------------------------------------------- docstrings
_T = TypeVar("_T")

#: ``path``/``key`` parameters and the return value of a ``save`` method.
SAVE_PARAMETERS = """
Parameters
----------
path : str or path-like
    Target file; ``.npz`` is appended when missing.
key : bytes or str, optional
    Secret used to sign the file with HMAC-SHA256; :meth:`load` then
    needs the same key.

Returns
-------
pathlib.Path
    The file written.
"""

#: ``path``/``key`` parameters of a ``load`` method.
LOAD_PARAMETERS = """
Parameters
----------
path : str or path-like
    The file.
key : bytes or str, optional
    The secret the file was signed with (required for signed files,
    refused for unsigned ones).
"""


def fill_doc(**fragments: str) -> Callable[[_T], _T]:
    """Decorator: replace each docstring line ``{name}`` by ``fragments[name]``.

    The fragment is dedented, stripped of surrounding blank lines and
    indented like the placeholder line. Other lines, braces included, are
    left alone; a placeholder without a fragment raises ``KeyError`` when
    the module is imported.

    Parameters
    ----------
    **fragments : str
        Placeholder name -> numpydoc text.

    Returns
    -------
    callable
        The decorator; it returns the decorated object itself.

    Examples
    --------
    >>> @fill_doc(params="x : int\\n    The value.")
    ... def f(x):
    ...     '''Double ``x``.
    ...
    ...     Parameters
    ...     ----------
    ...     {params}
    ...     '''
    >>> print(f.__doc__.splitlines()[4:])
    ['    x : int', '        The value.', '    ']
    """

    def decorate(obj: _T) -> _T:
        doc = obj.__doc__
        if not doc:  # python -OO
            return obj
        out = []
        for line in doc.split("\n"):
            body = line.strip()
            if len(body) > 2 and body[0] == "{" and body[-1] == "}" and body[1:-1].isidentifier():
                indent = line[: len(line) - len(line.lstrip())]
                text = textwrap.dedent(fragments[body[1:-1]]).strip("\n")
                out += [indent + part if part else "" for part in text.split("\n")]
            else:
                out.append(line)
        obj.__doc__ = "\n".join(out)
        return obj

    return decorate

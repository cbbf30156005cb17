"""Shared helpers that turn Dataset attributes, Profiles and tags into feature matrices.

Used by the hybrid models (LightFM, content-based TF-IDF, ALS with side
features). Everything here is private to :mod:`persona_rec.models`; the
public surface is the models themselves.

Conventions
-----------
* Category paths (``"Home > Kitchen > Mugs"``) become one token per level:
  ``category_l1=home``, ``category_l2=home/kitchen``,
  ``category_l3=home/kitchen/mugs`` (lowercase slugs joined with ``/``, the
  same value names as ``Profiles.affinities``).
* Feature names are ``"<column>=<value>"`` strings; identity features are
  ``"user_id=<id>"`` / ``"item_id=<id>"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._arrays import position_in_group
from .._text import category_parts, slugify, slugify_values
from ..columns import Columns, PURCHASE_EVENTS
from ..exceptions import InvalidParameterError, InvalidValueError

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = [
    "slug",
    "category_levels",
    "price_band_labels",
    "one_hot",
    "item_attribute_features",
    "user_attribute_features",
    "with_identity",
    "normalize_rows",
    "item_documents",
    "item_attribute_tokens",
    "purchase_mask",
    "purchase_rows",
    "top_names_per_row",
    "top_feature_terms",
    "cosine_similar",
]

#: Text columns used for item documents, in order.
TEXT_COLUMNS = ("title", "description", "name")

#: Slug of a text value (one definition for the package, see :mod:`persona_rec._text`).
slug = slugify


def category_levels(categories: pd.Series, max_levels: int = 3) -> list[np.ndarray]:
    """Split category paths into per-level slug paths.

    Parameters
    ----------
    categories : pandas.Series of str
        Paths such as ``"Home > Kitchen > Mugs"`` (missing values allowed).
    max_levels : int, default 3
        Number of levels returned.

    Returns
    -------
    list of numpy.ndarray of object
        ``out[l][i]`` is the slug path of item ``i`` down to level ``l + 1``
        (``"home/kitchen"``), or ``None`` when the path is shorter or missing.

    Examples
    --------
    >>> lv = category_levels(pd.Series(["Home > Kitchen > Mugs", "Toys", None]))
    >>> [list(x) for x in lv]
    [['home', 'toys', None], ['home/kitchen', None, None], ['home/kitchen/mugs', None, None]]
    """
    n = len(categories)
    out = [np.full(n, None, dtype=object) for _ in range(max_levels)]
    values = categories.astype("string").to_numpy(dtype=object, na_value=None)
    uniq, inv = np.unique(np.where(pd.isna(values), "", values).astype(str), return_inverse=True)
    per_unique: list[list[str | None]] = []
    for path in uniq:
        parts = category_parts(path)
        levels: list[str | None] = []
        for lvl in range(max_levels):
            levels.append("/".join(parts[: lvl + 1]) if len(parts) > lvl else None)
        per_unique.append(levels)
    table = np.array(per_unique, dtype=object).reshape(len(uniq), max_levels)
    for lvl in range(max_levels):
        out[lvl] = table[inv, lvl] if n else out[lvl]
    return out


def price_band_labels(prices: pd.Series, n_bands: int = 5) -> np.ndarray:
    """Assign quantile price bands ``"p1"`` (cheapest) .. ``"p<n_bands>"``.

    Missing prices get ``None``.

    Examples
    --------
    >>> price_band_labels(pd.Series([1.0, 2.0, 3.0, 4.0, None]), n_bands=2).tolist()
    ['p1', 'p1', 'p2', 'p2', None]
    """
    v = pd.to_numeric(prices, errors="coerce").to_numpy(dtype=np.float64)
    out = np.full(len(v), None, dtype=object)
    ok = np.isfinite(v)
    if not ok.any():
        return out
    edges = np.unique(np.quantile(v[ok], np.linspace(0, 1, n_bands + 1)[1:-1]))
    band = np.searchsorted(edges, v[ok], side="left") + 1
    out[ok] = np.char.add("p", band.astype(str)).astype(object)
    return out


def one_hot(columns: dict[str, np.ndarray], n_rows: int) -> tuple[sp.csr_matrix, list[str]]:
    """One-hot encode several categorical arrays into one sparse matrix.

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        Column name -> per-row value (``None``/NaN means "no feature").
    n_rows : int
        Number of rows.

    Returns
    -------
    (scipy.sparse.csr_matrix float32, list of str)
        Matrix ``n_rows x n_features`` and names ``"<column>=<value>"``.
    """
    blocks: list[sp.csr_matrix] = []
    names: list[str] = []
    for col, values in columns.items():
        vals = pd.Series(values, dtype=object)
        codes, uniques = pd.factorize(vals, sort=True)
        ok = codes >= 0
        rows = np.flatnonzero(ok)
        m = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, codes[ok])),
            shape=(n_rows, len(uniques)),
        )
        blocks.append(m)
        names.extend(f"{col}={u}" for u in uniques)
    if not blocks:
        return sp.csr_matrix((n_rows, 0), dtype=np.float32), []
    return sp.hstack(blocks, format="csr", dtype=np.float32), names


def item_attribute_tokens(items: pd.DataFrame, n_price_bands: int = 5) -> dict[str, np.ndarray]:
    """Categorical attribute tokens of items, keyed by feature column name.

    Uses ``category`` (levels ``category_l1..3``), ``brand`` and
    ``price`` (quantile band ``price_band``) when present.
    """
    cols: dict[str, np.ndarray] = {}
    if "category" in items.columns:
        for lvl, arr in enumerate(category_levels(items["category"]), start=1):
            if any(v is not None for v in arr):
                cols[f"category_l{lvl}"] = arr
    if "brand" in items.columns:
        b = items["brand"].astype("string").to_numpy(dtype=object, na_value=None)
        cols["brand"] = slugify_values(b)
    if Columns.PRICE in items.columns:
        cols["price_band"] = price_band_labels(items[Columns.PRICE], n_price_bands)
    return cols


def item_attribute_features(dataset: Any, n_price_bands: int = 5) -> tuple[sp.csr_matrix, list[str]]:
    """One-hot item features from category levels, brand and price band.

    Rows follow the Dataset's internal item order; items without attributes
    have empty rows.

    Examples
    --------
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1], "item_id": ["a"], "timestamp": [0]})
    >>> items = pd.DataFrame({"item_id": ["a", "b"], "category": ["Home > Mugs", "Toys"],
    ...                       "brand": ["Acme", "Acme"]})
    >>> X, names = item_attribute_features(Dataset.from_frames(inter, items=items))
    >>> names
    ['category_l1=home', 'category_l1=toys', 'category_l2=home/mugs', 'brand=acme']
    >>> X.toarray().tolist()
    [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]
    """
    items = dataset.item_attributes()
    return one_hot(item_attribute_tokens(items, n_price_bands), dataset.n_items)


def user_attribute_features(
    dataset: Any,
    *,
    include_sensitive: bool = False,
    max_categories: int = 50,
    n_bins: int = 5,
) -> tuple[sp.csr_matrix, list[str]]:
    """One-hot user features from the Dataset's user attribute columns.

    Categorical columns are one-hot encoded (the ``max_categories`` most
    frequent values; an id-like column whose other values cover most users
    is skipped); numeric columns with more than ``2 * n_bins`` distinct
    values are cut into ``n_bins`` quantile bins (``age=q1`` .. ``age=q5``),
    others are one-hot; datetime columns are skipped.

    Parameters
    ----------
    dataset : Dataset
    include_sensitive : bool, default False
        Whether sensitive columns (age, gender, ...) may be used.
    max_categories : int, default 50
    n_bins : int, default 5

    Returns
    -------
    (scipy.sparse.csr_matrix float32, list of str)
    """
    attrs = dataset.user_attributes(include_sensitive=include_sensitive)
    cols: dict[str, np.ndarray] = {}
    for col in attrs.columns:
        s = attrs[col]
        if s.dtype.kind == "M" or isinstance(s.dtype, pd.DatetimeTZDtype):
            continue
        if s.dtype.kind in "iuf" and s.nunique() > 2 * n_bins:
            v = s.to_numpy(dtype=np.float64)
            ok = np.isfinite(v)
            if not ok.any():
                continue
            edges = np.unique(np.quantile(v[ok], np.linspace(0, 1, n_bins + 1)[1:-1]))
            lab = np.full(len(v), None, dtype=object)
            lab[ok] = np.char.add("q", (np.searchsorted(edges, v[ok]) + 1).astype(str))
            cols[col] = lab
            continue
        vals = s.astype("string").to_numpy(dtype=object, na_value=None)
        counts = pd.Series(vals, dtype=object).value_counts()
        if len(counts) == 0:
            continue
        keep = counts.index[:max_categories]
        if len(counts) > max_categories and counts.iloc[max_categories:].sum() > 0.5 * len(vals):
            continue  # an id-like column: too many values to be a useful feature
        lab = vals.copy()
        lab[~pd.Series(vals, dtype=object).isin(keep).to_numpy()] = None
        cols[col] = lab
    return one_hot(cols, dataset.n_users)


def with_identity(
    features: sp.csr_matrix,
    names: list[str],
    has_identity: np.ndarray,
    prefix: str,
    external_ids: np.ndarray,
    identity_weight: float = 1.0,
) -> tuple[sp.csr_matrix, list[str]]:
    """Prepend identity columns for the rows where ``has_identity`` is True.

    Rows without interactions get no identity column: in a factorisation
    model such a column would never be trained and would only add its random
    initial embedding as noise.

    Returns
    -------
    (scipy.sparse.csr_matrix float32, list of str)
        ``[identity columns | features]``; identity column ``j`` belongs to
        the ``j``-th row with ``has_identity``.
    """
    n = features.shape[0]
    rows = np.flatnonzero(has_identity)
    ident = sp.csr_matrix(
        (np.full(len(rows), identity_weight, dtype=np.float32), (rows, np.arange(len(rows)))),
        shape=(n, len(rows)),
    )
    out = sp.hstack([ident, features], format="csr", dtype=np.float32)
    ids = pd.Series(np.asarray(external_ids, dtype=object)[rows], dtype=object).astype(str)
    id_names = (f"{prefix}=" + ids).tolist()
    return out, id_names + list(names)


def normalize_rows(x: sp.csr_matrix, norm: str | None = "l1") -> sp.csr_matrix:
    """Scale each row to unit ``l1`` or ``l2`` norm (empty rows stay empty)."""
    if norm is None:
        return x.tocsr().astype(np.float32)
    if norm not in ("l1", "l2"):
        raise InvalidParameterError(f"The 'norm' parameter must be 'l1', 'l2' or None, got {norm!r}.")
    x = x.tocsr().astype(np.float32)
    if norm == "l1":
        s = np.asarray(abs(x).sum(axis=1)).ravel()
    else:
        s = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    s[s == 0] = 1.0
    return sp.diags((1.0 / s).astype(np.float32)) @ x


def item_documents(dataset: Any) -> tuple[list[str], list[str]]:
    """Item text and attribute-token documents, in internal item order.

    Returns
    -------
    (list of str, list of str)
        Free text (``title``/``description``/``name`` joined) and a
        whitespace-separated string of attribute tokens
        (``category_l1=home brand=acme price_band=p3``).
    """
    items = dataset.item_attributes()
    n = dataset.n_items
    text = np.full(n, "", dtype=object)
    for col in TEXT_COLUMNS:
        if col in items.columns:
            vals = items[col].astype("string").fillna("").to_numpy(dtype=object)
            text = np.char.add(np.char.add(text.astype(str), " "), vals.astype(str)).astype(object)
    tokens = np.full(n, "", dtype=object)
    for col, arr in item_attribute_tokens(items).items():
        col_tok = (f"{col}=" + pd.Series(arr, dtype=object)).fillna("").to_numpy(dtype=object)
        tokens = np.char.add(np.char.add(tokens.astype(str), " "), col_tok.astype(str)).astype(object)
    return (
        pd.Series(text, dtype=object).astype(str).str.strip().tolist(),
        pd.Series(tokens, dtype=object).astype(str).str.strip().tolist(),
    )


def purchase_mask(inter: pd.DataFrame) -> np.ndarray:
    """Boolean mask of purchase rows (every row when there is no ``event`` column)."""
    if Columns.EVENT not in inter.columns:
        return np.ones(len(inter), dtype=bool)
    ev = inter[Columns.EVENT].astype("string").str.lower().to_numpy(dtype=object, na_value="")
    mask = np.isin(ev, PURCHASE_EVENTS)
    return mask


def purchase_rows(inter: pd.DataFrame, use_purchases: bool = True) -> np.ndarray:
    """Rows a purchase-based model reads: purchases, or every row when the log has none.

    The choice is made once for the whole log (a schema question: does it
    record purchases?), not per time window, so a window without purchases
    in a log that has them yields no rows instead of falling back to views.

    Parameters
    ----------
    inter : pandas.DataFrame
        Interactions with an optional ``event`` column.
    use_purchases : bool, default True
        ``False`` keeps every row.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> inter = pd.DataFrame({"event": ["view", "purchase", "view"]})
    >>> purchase_rows(inter).tolist(), purchase_rows(inter.iloc[[0, 2]]).tolist()
    ([False, True, False], [True, True])
    """
    if not use_purchases:
        return np.ones(len(inter), dtype=bool)
    pm = purchase_mask(inter)
    return pm if pm.any() else np.ones(len(inter), dtype=bool)


def check_features_shape(x: sp.spmatrix, n_rows: int, what: str) -> sp.csr_matrix:
    """Check that a feature matrix has ``n_rows`` rows and finite values."""
    if not sp.issparse(x):
        x = sp.csr_matrix(np.asarray(x, dtype=np.float32))
    x = x.tocsr().astype(np.float32)
    if x.shape[0] != n_rows:
        raise InvalidValueError(
            f"{what} must have one row per user/item ({n_rows}), got shape {x.shape}."
        )
    if x.nnz and not np.isfinite(x.data).all():
        raise InvalidValueError(f"{what} holds non-finite values (NaN/inf).")
    return x


#: Accepted values of the ``user_features`` option of the hybrid models.
USER_FEATURE_SOURCES = ("attributes", "profile", "tags", "affinities")


def resolve_user_sources(option: Any, profiles: Profiles | None) -> tuple[str, ...]:
    """Turn a ``user_features`` option into a tuple of sources.

    ``"auto"`` means ``("profile",)`` when ``profiles`` is given, else
    ``("attributes",)``; ``"none"``/``None`` means no user features.
    """
    if option is None or option == "none":
        return ()
    if option == "auto":
        return ("profile",) if profiles is not None else ("attributes",)
    opts = (option,) if isinstance(option, str) else tuple(option)
    bad = [o for o in opts if o not in USER_FEATURE_SOURCES]
    if bad:
        raise InvalidParameterError(
            f"The 'user_features' parameter must be 'auto', 'none' or a subset of "
            f"{list(USER_FEATURE_SOURCES)}, got {option!r}."
        )
    return opts


def _align_rows(ids: np.ndarray, dataset: Any) -> np.ndarray:
    """Internal user index of each external id (``-1`` when unknown)."""
    return dataset.user_map.to_internal(np.asarray(ids, dtype=object), strict=False)


def _reindex_rows(x: sp.csr_matrix, row_ids: Any, dataset: Any) -> sp.csr_matrix:
    """Reorder a user-row matrix given by external ids into Dataset order."""
    idx = _align_rows(np.asarray(row_ids), dataset)
    ok = idx >= 0
    P = sp.csr_matrix(
        (np.ones(int(ok.sum()), dtype=np.float32), (idx[ok], np.flatnonzero(ok))),
        shape=(dataset.n_users, x.shape[0]),
    )
    return (P @ x).tocsr().astype(np.float32)


def affinity_features(profiles: Profiles, dataset: Any) -> tuple[sp.csr_matrix, list[str]]:
    """Stack ``Profiles.affinities`` into one user matrix with names ``"<kind>=<value>"``.

    The value names use the same slugs as :func:`item_attribute_tokens`, so
    an affinity ``category_l2=home/kitchen`` lines up with the item token of
    the same name.
    """
    blocks, names = [], []
    frame_ids = profiles.frame.index.to_numpy()
    for kind, (mat, values) in profiles.affinities.items():
        blocks.append(_reindex_rows(sp.csr_matrix(mat), frame_ids, dataset))
        names.extend(f"{kind}={v}" for v in values)
    if not blocks:
        return sp.csr_matrix((dataset.n_users, 0), dtype=np.float32), []
    return sp.hstack(blocks, format="csr", dtype=np.float32), names


def user_side_features(
    dataset: Any,
    profiles: Profiles | None = None,
    *,
    sources: tuple[str, ...] = ("attributes",),
    include_sensitive: bool = False,
) -> tuple[sp.csr_matrix, list[str]]:
    """Build user side features (no identity columns) from the requested sources.

    Parameters
    ----------
    dataset : Dataset
    profiles : Profiles, optional
        Needed for the ``"profile"``, ``"tags"`` and ``"affinities"`` sources.
    sources : tuple of str
        Any of ``"attributes"`` (one-hot Dataset user attributes),
        ``"profile"`` (``profiles.features()``), ``"tags"`` (tag confidences
        from the default taxonomy, via :class:`persona_rec.tags.Tagger`) and
        ``"affinities"`` (``profiles.affinities``).
    include_sensitive : bool, default False

    Returns
    -------
    (scipy.sparse.csr_matrix float32, list of str)
        Rows in Dataset user order.
    """
    blocks: list[sp.csr_matrix] = []
    names: list[str] = []
    for src in sources:
        if src == "attributes":
            x, nm = user_attribute_features(dataset, include_sensitive=include_sensitive)
        else:
            if profiles is None:
                raise InvalidParameterError(
                    f"user_features source {src!r} needs profiles: pass profiles= to fit()."
                )
            if src == "profile":
                x, nm = profiles.features(include_sensitive=include_sensitive)
                x = _reindex_rows(sp.csr_matrix(x), profiles.frame.index.to_numpy(), dataset)
                nm = [f"profile:{n}" for n in nm]
            elif src == "affinities":
                x, nm = affinity_features(profiles, dataset)
            else:  # tags
                from ..tags import Taxonomy, Tagger  # local import: optional module

                tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
                x = _reindex_rows(sp.csr_matrix(tags.matrix), tags.user_ids, dataset)
                tag_ids = list(tags.tag_ids)
                if not include_sensitive:  # drop gender / age-band tags and the like
                    sens = set(getattr(tags, "sensitive_ids", ()))
                    cols = np.array([t not in sens for t in tag_ids], dtype=bool)
                    x = x[:, np.flatnonzero(cols)]
                    tag_ids = [t for t, c in zip(tag_ids, cols) if c]
                nm = [f"tag:{t}" for t in tag_ids]
        blocks.append(check_features_shape(x, dataset.n_users, f"user features {src!r}"))
        names.extend(nm)
    if not blocks:
        return sp.csr_matrix((dataset.n_users, 0), dtype=np.float32), []
    out = sp.hstack(blocks, format="csr", dtype=np.float32)
    out.eliminate_zeros()
    return out, names


def top_names_per_row(rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                      names: np.ndarray, n: int, n_rows: int) -> np.ndarray:
    """``"; "``-joined names of the ``n`` largest values of each row (the models' ``explain``).

    Parameters
    ----------
    rows, cols, values : numpy.ndarray
        One entry per (row, column) candidate, e.g. the coordinates and data
        of a sparse matrix of contributions.
    names : numpy.ndarray of object
        Name of each column.
    n : int
        Names kept per row, largest value first (ties in input order).
    n_rows : int
        Length of the result; rows without a candidate get ``""``.

    Returns
    -------
    numpy.ndarray of object

    Examples
    --------
    >>> import numpy as np
    >>> top_names_per_row(np.array([0, 0, 0, 2]), np.array([0, 1, 2, 1]),
    ...                   np.array([0.1, 0.5, 0.3, 1.0]), np.array(["a", "b", "c"], dtype=object),
    ...                   n=2, n_rows=3).tolist()
    ['b; c', '', 'b']
    """
    order = np.lexsort((-values, rows))
    rows, cols = rows[order], cols[order]
    sel = position_in_group(rows) < n
    picked = pd.Series(names[cols[sel]]).groupby(rows[sel]).agg("; ".join)
    out = np.full(n_rows, "", dtype=object)
    out[picked.index.to_numpy()] = picked.to_numpy()
    return out


def top_feature_terms(features: sp.csr_matrix, coef: np.ndarray, item_vectors: np.ndarray,
                      names: np.ndarray, user_idx: np.ndarray, item_idx: np.ndarray,
                      rows: np.ndarray, n: int, usable: np.ndarray | None = None) -> np.ndarray:
    """The user features that push each recommended item up most (the models' ``explain``).

    For a linear user representation ``x @ coef`` the score of an item with
    vector ``v`` splits over features ``f`` as ``x_f * (coef[f] . v)``; the
    names of the ``n`` largest positive contributions are kept.

    Parameters
    ----------
    features : scipy.sparse.csr_matrix
        User features ``x`` (``n_users x n_features``).
    coef : numpy.ndarray
        ``n_features x d`` mapping of features to the user vector.
    item_vectors : numpy.ndarray
        ``n_items x d`` item vectors.
    names : numpy.ndarray
        Name of each feature.
    user_idx, item_idx : numpy.ndarray of int
        Internal user and item of each recommendation row.
    rows : numpy.ndarray of int
        Positions of the rows to explain; the others get ``""``.
    n : int
        Names kept per row.
    usable : numpy.ndarray of bool, optional
        Features that may be named (default: all).

    Returns
    -------
    numpy.ndarray of object
        ``"; "``-joined names, one per recommendation row.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> x = sp.csr_matrix(np.array([[1.0, 1.0]]))
    >>> coef = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> items = np.array([[2.0, -1.0], [0.5, 1.0]])
    >>> names = np.array(["city=x", "age=30"])
    >>> top_feature_terms(x, coef, items, names, np.array([0, 0]), np.array([0, 1]),
    ...                   np.array([0, 1]), n=2).tolist()
    ['city=x', 'age=30; city=x']
    """
    out = np.full(len(user_idx), "", dtype=object)
    if len(rows):
        F = features[user_idx[rows]].tocsr()
        pos = np.repeat(np.arange(F.shape[0]), np.diff(F.indptr))
        feats = F.indices
        contrib = F.data * np.einsum("ij,ij->i", coef[feats], item_vectors[item_idx[rows][pos]])
        keep = contrib > 0
        if usable is not None:
            keep &= usable[feats]
        out[rows] = top_names_per_row(pos[keep], feats[keep], contrib[keep],
                                      names.astype(object), n, len(rows))
    return out


def cosine_similar(vectors: np.ndarray, item_idx: np.ndarray, served: np.ndarray) -> np.ndarray:
    """Cosine similarity of the rows ``item_idx`` of ``vectors`` to every row (``similar_items``).

    Zero rows have similarity 0; columns of items that are not ``served``
    get ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> cosine_similar(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]), np.array([0]),
    ...                np.array([True, True, False])).round(3).tolist()
    [[1.0, 0.707, -inf]]
    """
    f = vectors.astype(np.float64)
    norms = np.linalg.norm(f, axis=1)
    norms[norms == 0] = 1.0
    unit = f / norms[:, None]
    scores = unit[np.asarray(item_idx)] @ unit.T
    scores[:, ~served] = -np.inf
    return scores

"""Item features for diversity metrics, built from a Dataset's item attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..exceptions import InvalidParameterError, MissingColumnError

__all__ = ["item_features_from_dataset"]


def item_features_from_dataset(
    dataset: Any, columns: Sequence[str] | None = None
) -> tuple[sp.csr_matrix, np.ndarray]:
    """One-hot item features from a Dataset's item attributes.

    Each listed column becomes indicator features of its values. A
    ``category`` path such as ``"Home > Kitchen > Mugs"`` also yields its
    ancestors (``"Home"``, ``"Home > Kitchen"``), so items of sibling
    categories are partly similar; ``genres`` and ``tags`` are split on
    ``"|"`` (multi-hot). Items without any attribute get a zero row.

    Parameters
    ----------
    dataset : Dataset
        Source of :meth:`~persona_rec.Dataset.item_attributes`.
    columns : sequence of str, optional
        Attribute columns to use; default: those of ``category``, ``brand``
        and ``genres`` that exist.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        Features (items x features, float32) and the item ids of the rows.

    Raises
    ------
    InvalidParameterError
        No usable column.
    """
    attrs = dataset.item_attributes()
    if columns is None:
        columns = [c for c in ("category", "brand", "genres") if c in attrs.columns]
        if not columns:
            raise InvalidParameterError(
                "IntraListDiversity needs item features: the train Dataset's items have none of "
                f"the columns ['category', 'brand', 'genres'] (it has "
                f"{list(attrs.columns)}); pass item_features= explicitly."
            )
    missing = [c for c in columns if c not in attrs.columns]
    if missing:
        raise MissingColumnError(f"items are missing attribute column(s) {missing}.")
    n = len(attrs)
    rows_parts, token_parts = [], []
    for col in columns:
        values = attrs[col]
        if col == "category":
            parts = values.astype("string").str.split(" > ")
            depth = parts.str.len().fillna(0).astype(int).to_numpy()
            for d in range(1, int(depth.max()) + 1 if n else 1):  # depth is small
                at = np.flatnonzero(depth >= d)
                prefix = parts.iloc[at].str[:d].str.join(" > ")
                rows_parts.append(at)
                token_parts.append(("category=" + prefix).to_numpy(dtype=object))
        elif col in ("genres", "tags"):  # multi-valued, pipe-separated ("Action|Comedy")
            exploded = values.astype("string").str.split("|").explode().dropna()
            exploded = exploded[exploded.str.len() > 0]
            rows_parts.append(attrs.index.get_indexer(exploded.index))
            token_parts.append((col + "=" + exploded.astype(str)).to_numpy(dtype=object))
        else:
            mask = values.notna().to_numpy()
            rows_parts.append(np.flatnonzero(mask))
            token_parts.append((col + "=" + values[mask].astype(str)).to_numpy(dtype=object))
    rows = np.concatenate(rows_parts) if rows_parts else np.empty(0, dtype=np.int64)
    tokens = np.concatenate(token_parts) if token_parts else np.empty(0, dtype=object)
    codes, uniques = pd.factorize(tokens)
    x = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, codes)),
                      shape=(n, max(len(uniques), 1)))
    x.sum_duplicates()
    x.data[:] = 1.0
    return x, attrs.index.to_numpy()

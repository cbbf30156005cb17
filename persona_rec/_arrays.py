"""Array idioms shared across the package: runs of a sorted group array, sparse lookups.

A "group array" is sorted so that equal values (a user index, a CSR row)
stand together; these helpers find where each run starts and where each
element stands inside its run, without a Python loop. :func:`csr_lookup`
reads many ``(row, col)`` pairs of a sparse matrix at once.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["group_starts", "position_in_group", "csr_lookup"]


def group_starts(sorted_groups: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in an array sorted by group.

    Examples
    --------
    >>> group_starts(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [0, 2, 3]
    """
    sorted_groups = np.asarray(sorted_groups)
    if sorted_groups.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])


def position_in_group(sorted_groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run (array sorted by group).

    With the elements of each group sorted best first, ``position < k``
    keeps the top k of every group.

    Examples
    --------
    >>> position_in_group(np.array([3, 3, 5, 7, 7, 7])).tolist()
    [0, 1, 0, 0, 1, 2]
    """
    n = np.asarray(sorted_groups).size
    if n == 0:
        return np.empty(0, dtype=np.int64)
    starts = group_starts(sorted_groups)
    return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))


def csr_lookup(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray,
               default: float = 0.0) -> np.ndarray:
    """``m[rows[k], cols[k]]`` for stored entries, ``default`` for the others (vectorised).

    Looks the pairs up by binary search in the touched rows' sorted keys, which
    stays fast for millions of pairs (scipy's pairwise fancy indexing does not).

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> csr_lookup(m, np.array([0, 1, 1]), np.array([1, 0, 1]), default=-1.0).tolist()
    [2.0, 3.0, -1.0]
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.full(len(rows), default, dtype=np.float64)
    if len(rows) == 0 or m.nnz == 0:
        return out
    ur, inv = np.unique(rows, return_inverse=True)
    sub = sp.csr_matrix(m[ur])
    sub.sort_indices()
    n_cols = np.int64(m.shape[1])
    keys = np.repeat(np.arange(len(ur), dtype=np.int64), np.diff(sub.indptr)) * n_cols \
        + sub.indices.astype(np.int64)
    if len(keys) == 0:
        return out
    q = inv.ravel().astype(np.int64) * n_cols + cols
    pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
    hit = keys[pos] == q
    out[hit] = sub.data[pos[hit]]
    return out

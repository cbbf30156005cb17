"""The ranking engine shared by every recommender: exact, vectorised top-k per row.

:func:`topk` ranks a dense ``users x items`` score matrix, :func:`topk_sparse`
the stored entries of a CSR matrix; both return ``(row, item, score)``
arrays grouped by row, best first, ties broken by the lower item index, and
never return ``-inf`` (no evidence). Wide rows go through
:func:`topk_sampled` (a threshold from every ``stride``-th column bounds the
``k``-th best), narrow ones through :func:`topk_partition`; both end in
:func:`first_k_per_row`, which cuts each row at its ``k``-th best value before
the final sort. :class:`~persona_rec.models.Recommender` batches users and
calls these; candidate generators (:mod:`persona_rec.models.ranking`) call
them on their own score blocks.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._arrays import position_in_group

__all__ = ["topk", "topk_sparse", "topk_partition", "topk_sampled", "first_k_per_row",
           "float_scores"]


def float_scores(scores: object) -> np.ndarray:
    """``scores`` as an array of its own float type; other dtypes become float64.

    float32 scores (ALS) stay float32: widening to float64 is exact, so the
    order is the same, and the top-k reads half the memory.

    Examples
    --------
    >>> float_scores(np.ones(2, np.float32)).dtype, float_scores([1, 2]).dtype
    (dtype('float32'), dtype('float64'))
    """
    s = np.asarray(scores)
    return s if s.dtype in (np.float32, np.float64) else s.astype(np.float64)


def topk_sparse(
    scores: sp.csr_matrix, seen: sp.csr_matrix | None, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-k of the stored entries per row (same order and ties as :func:`topk`)."""
    n, m = scores.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(scores.indptr))
    cols = scores.indices.astype(np.int64)
    vals = scores.data.astype(np.float64)
    keep = np.isfinite(vals)
    if seen is not None and seen.nnz:
        s_rows = np.repeat(np.arange(seen.shape[0], dtype=np.int64), np.diff(seen.indptr))
        s_keys = np.sort(s_rows * m + seen.indices)
        keys = rows * m + cols
        pos = np.minimum(np.searchsorted(s_keys, keys), len(s_keys) - 1)
        keep &= s_keys[pos] != keys
    return first_k_per_row(rows[keep], cols[keep], vals[keep], k)


def first_k_per_row(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best ``(row, col, val)`` entries per row: score desc, ties by lower col.

    Rows must come grouped in ascending order (CSR order). Rows with more
    than ``k`` entries are first cut at their ``k``-th best value (a
    partition of the row's entries packed into a narrow matrix), so only
    about ``k`` entries per row reach the final sort.
    """
    n_entries = len(rows)
    if n_entries > 4 * k and n_entries and np.all(rows[1:] >= rows[:-1]):
        uniq, starts, counts = np.unique(rows, return_index=True, return_counts=True)
        row_of = np.repeat(np.arange(len(uniq)), counts)
        pos = np.arange(n_entries) - starts[row_of]
        thr = np.full(len(uniq), -np.inf)
        # rows bucketed by their count's power of two, so padding stays under 2x
        bucket = np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64)
        for b in np.unique(bucket[(counts > k) & (counts <= max(64 * k, 4096))]):
            in_b = (bucket == b) & (counts > k)
            slot = np.full(len(uniq), -1, dtype=np.int64)
            slot[in_b] = np.arange(int(in_b.sum()))
            sel = slot[row_of] >= 0
            # -values padded with +inf, partitioned at k-1: fast with many pads
            # (partitioning values padded with -inf at width-k is not)
            packed = np.full((int(in_b.sum()), int(counts[in_b].max())), np.inf)
            packed[slot[row_of[sel]], pos[sel]] = -vals[sel]
            thr[in_b] = -np.partition(packed, k - 1, axis=1)[:, k - 1]
        keep = vals >= thr[row_of]  # every entry tied with the k-th stays
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    top = position_in_group(rows) < k
    return rows[top], cols[top], vals[top]


def topk(
    scores: np.ndarray, seen: sp.csr_matrix | None, k: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised top-k of a score matrix; returns (row, item, score) sorted per row.

    ``scores`` is not modified (copied only when NaN, ``seen`` or ``mask``
    must be applied).
    """
    nan = np.isnan(scores)
    if nan.any() or mask is not None or (seen is not None and seen.nnz):
        scores = np.array(scores, copy=True)  # private, writeable (hooks may return views)
        scores[nan] = -np.inf
        if mask is not None:
            scores[:, ~mask] = -np.inf
        if seen is not None and seen.nnz:
            rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
            scores[rows, seen.indices] = -np.inf
    del nan
    n, m = scores.shape
    kk = min(k, m)
    stride = m // max(1, 20 * kk)
    if kk >= 1 and stride >= 4 and n:
        return topk_sampled(scores, kk, min(stride, 16))
    return topk_partition(scores, kk)


def topk_partition(
    scores: np.ndarray, kk: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``kk`` of every row of a NaN-free matrix by a partition (ties: lower column)."""
    n, m = scores.shape
    if kk <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), scores[:0, 0]
    if kk < m:
        # (partitioning -scores at kk-1 stays fast when most scores tie at -inf;
        # partitioning scores at m-kk does not)
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        # ties at the cut: argpartition picks arbitrary members; re-rank those
        # rows with a stable sort so the lowest item index wins (documented order)
        thr = np.take_along_axis(scores, top, axis=1).min(axis=1)
        ambiguous = np.isfinite(thr) & ((scores >= thr[:, None]).sum(axis=1) > kk)
        if ambiguous.any():
            rows_a = np.flatnonzero(ambiguous)
            top[rows_a] = np.argsort(-scores[rows_a], axis=1, kind="stable")[:, :kk]
    else:
        top = np.broadcast_to(np.arange(m), (n, m)).copy()
    vals = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((top, -vals), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    finite = np.isfinite(vals)
    rows = np.broadcast_to(np.arange(n)[:, None], top.shape)
    return rows[finite], top[finite], vals[finite]


def topk_sampled(
    scores: np.ndarray, kk: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact top-``kk`` of wide rows (no NaN) via a threshold from every ``stride``-th column.

    The ``kk``-th largest score among the sampled columns is a lower bound
    of the row's ``kk``-th largest score, so every entry at or above it is
    a candidate (about ``kk * stride`` per row), ranked by
    :func:`first_k_per_row` (which cuts each row at its ``kk``-th best
    first). Same rows, order and tie-breaks as a full partition at a
    fraction of the memory traffic on wide catalogues.
    """
    n = scores.shape[0]
    sub = scores[:, ::stride]
    n_sub = sub.shape[1]
    if n_sub >= kk:
        thr = np.partition(sub, n_sub - kk, axis=1)[:, n_sub - kk]
    else:
        thr = np.full(n, -np.inf)
    mask = scores >= thr[:, None]
    open_rows = np.flatnonzero(thr == -np.inf)  # a finite threshold already excludes -inf
    if len(open_rows):
        mask[open_rows] &= scores[open_rows] > -np.inf
    # the flat positions of a C-ordered mask, split into (row, col): several times
    # faster than the 2-d np.nonzero, same entries in the same (row-major) order
    rows, cols = np.divmod(np.flatnonzero(mask), scores.shape[1])
    return first_k_per_row(rows, cols, scores[rows, cols], kk)

"""Array idioms shared across the package: runs of a sorted group array.

A "group array" is sorted so that equal values (a user index, a CSR row)
stand together; these helpers find where each run starts and where each
element stands inside its run, without a Python loop.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_starts", "position_in_group"]


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

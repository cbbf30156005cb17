"""The request object handed to every scoring hook of a :class:`Recommender`.

One ``recommend`` call builds one :class:`RecommendRequest`; the hooks read
what the call asked for from it (``k``, ``filter_seen``, the item whitelist
mask and the scoring ``dataset``) and keep per-call caches in
:attr:`RecommendRequest.cache`. Nothing of a call is stored on the model, so a
fitted model serves concurrent ``recommend`` calls from several threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dataset import Dataset

__all__ = ["RecommendRequest", "as_request"]


@dataclass(frozen=True)
class RecommendRequest:
    """What one ``recommend`` call asked for.

    Parameters
    ----------
    k : int, default 10
        Items per user.
    filter_seen : bool, default True
        Whether the user's own history is excluded.
    item_mask : numpy.ndarray of bool, optional
        Items that may be recommended (None: all), aligned with the model's
        item map.
    dataset : Dataset, optional
        The scoring context (``recommend(..., dataset=...)``); None means the
        fit data.
    cache : dict
        Per-call scratch space of the hooks (e.g. the context history matrix).

    Examples
    --------
    >>> RecommendRequest(k=5, filter_seen=False).filter_seen
    False
    """

    k: int = 10
    filter_seen: bool = True
    item_mask: np.ndarray | None = None
    dataset: Dataset | None = None
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def as_request(value: RecommendRequest | Dataset | None) -> RecommendRequest:
    """Return ``value`` as a request (a Dataset or None becomes a default request on it).

    Parameters
    ----------
    value : RecommendRequest, Dataset or None

    Returns
    -------
    RecommendRequest
    """
    if isinstance(value, RecommendRequest):
        return value
    return RecommendRequest(dataset=value)

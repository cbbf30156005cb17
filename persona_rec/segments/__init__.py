"""Segmentation of users (``persona_rec.segments``).

Three ways to segment, one result type:

- :class:`RFMSegmentMap` / :func:`rfm_segments`: named regions of the RFM
  score grid (champions, loyal, potential, new, at_risk, hibernating, lost,
  plus prospect for users without purchases);
- :class:`KMeansSegmenter` / :func:`kmeans_segments`: k-means on scaled
  profile features, k chosen by silhouette;
- :class:`RuleSegmenter`: ordered (segment, tag expression) rules, first
  match wins.

Each returns a :class:`Segmentation` with ``labels``, ``sizes()``,
``describe()`` (over-represented tags and feature means versus the
population) and ``plot()``. Reports suppress segments smaller than
``min_size`` (default 10) for privacy.
"""

from __future__ import annotations

from ._result import DEFAULT_DESCRIBE_COLUMNS, DEFAULT_MIN_SIZE, SUPPRESSED, Segmentation
from .clustering import KMeansSegmenter, kmeans_segments
from .plot import plot_segments
from .rfm import DEFAULT_RFM_REGIONS, RFMSegmentMap, rfm_segments
from .rules import RuleSegmenter

__all__ = [
    "Segmentation",
    "RFMSegmentMap",
    "rfm_segments",
    "KMeansSegmenter",
    "kmeans_segments",
    "RuleSegmenter",
    "plot_segments",
    "DEFAULT_RFM_REGIONS",
    "DEFAULT_DESCRIBE_COLUMNS",
    "DEFAULT_MIN_SIZE",
    "SUPPRESSED",
]

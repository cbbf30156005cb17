"""Scale-out on Apache Spark (install with ``pip install "persona-rec[spark]"``).

The same definitions as the single-machine path, evaluated by Spark where the
data lives:

- :class:`SparkEvents`: events (+ users, items) validated with the rules and
  typed errors of :meth:`persona_rec.Dataset.from_frames`;
- :func:`build_profiles`: the default profile builders as Spark aggregations;
- :class:`SparkALS`: Spark MLlib ALS with top-k frames and export to
  :class:`persona_rec.models.ALSRecommender`;
- :func:`rfm_segments`: RFM segments from the Spark profiles;
- :func:`assign_tags`: a taxonomy's rules as Spark column expressions, roll-up included;
- :func:`select_audience`: the audience funnel of
  :func:`persona_rec.marketing.select_audience` (tag expression compiled to Spark
  columns, propensity, exclusions, quotas, budget, privacy floor), with the same
  users, ranks and tie-breaking as the pandas path;
- :func:`local_session`: a loopback-only local session for tests and laptops.

The modules import pyspark only when called, so this package imports (and its
docstrings are collected) without the extra. See ``docs/scale.md``.
"""

from __future__ import annotations

from ._session import LOOPBACK_CONF, local_session
from .als import SparkALS
from .audience import SparkAudience, select_audience
from .events import SparkEvents
from .profiles import SparkProfiles, build_profiles
from .segments import rfm_segments
from .tags import assign_tags

__all__ = ["LOOPBACK_CONF", "SparkALS", "SparkAudience", "SparkEvents", "SparkProfiles",
           "assign_tags", "build_profiles", "local_session", "rfm_segments", "select_audience"]

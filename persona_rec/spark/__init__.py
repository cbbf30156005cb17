"""Scale-out on Apache Spark (install with ``pip install "persona-rec[spark]"``).

The same definitions as the single-machine path, evaluated by Spark where the
data lives:

- :class:`SparkEvents`: events (+ users, items) validated with the rules and
  typed errors of :meth:`persona_rec.Dataset.from_frames`;
- :func:`build_profiles`: the default profile builders as Spark aggregations;
- :class:`SparkALS`: Spark MLlib ALS with top-k frames and export to
  :class:`persona_rec.models.ALSRecommender`;
- :func:`rfm_segments`: RFM segments from the Spark profiles;
- :func:`local_session`: a loopback-only local session for tests and laptops.

The modules import pyspark only when called, so this package imports (and its
docstrings are collected) without the extra. See ``docs/scale.md``.

.. warning::
   Parity with the pandas path is currently **broken**: the Spark events rules
   and profile builders follow the 0.1 definitions, while this version's pandas
   path changed them (views keep NaN prices, exact duplicates and out-of-range
   times are cleaning reasons, price sensitivity is computed within quantity
   tiers, hours are local, ``known_at_as_of`` and ``days_overdue`` are new).
   :meth:`SparkEvents.from_frames` and :func:`build_profiles` warn
   (:class:`SparkParityWarning`) until the Spark definitions follow; ALS is
   unaffected.
"""

from __future__ import annotations

from ._parity import SparkParityWarning
from ._session import LOOPBACK_CONF, local_session
from .als import SparkALS
from .events import SparkEvents
from .profiles import SparkProfiles, build_profiles
from .segments import rfm_segments

__all__ = ["LOOPBACK_CONF", "SparkALS", "SparkEvents", "SparkParityWarning", "SparkProfiles",
           "build_profiles", "local_session", "rfm_segments"]

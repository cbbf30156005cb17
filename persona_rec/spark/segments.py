"""RFM segments on Spark: the pandas segment map evaluated once on the score grid, then joined."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from ..columns import Columns
from ..exceptions import InvalidDtypeError, MissingColumnError
from ..segments.rfm import RFMSegmentMap
from ._session import require_spark_frame

__all__ = ["rfm_segments"]

_SCORES = ("r_score", "f_score", "m_score")


def rfm_segments(profiles: Any, segment_map: RFMSegmentMap | None = None) -> Any:
    """RFM segment of every user of a Spark profile frame.

    The segment map is applied by :meth:`RFMSegmentMap.assign` itself to the
    126 possible score combinations (5 x 5 x 5 plus "no purchase"); the result
    is a small lookup table joined (broadcast) to the profiles, so the labels
    are those of the pandas path by construction and no per-row Python runs.

    Parameters
    ----------
    profiles : SparkProfiles or pyspark.sql.DataFrame
        A frame with ``user_id, r_score, f_score, m_score``.
    segment_map : RFMSegmentMap, optional
        Default ``RFMSegmentMap()``.

    Returns
    -------
    pyspark.sql.DataFrame
        ``user_id, segment`` (null where the map leaves users unassigned).
    """
    from pyspark.sql import functions as F

    frame = getattr(profiles, "frame", profiles)
    require_spark_frame(frame, "profiles")
    missing = [c for c in (Columns.USER, *_SCORES) if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"profiles is missing column(s) {missing}; it has {list(frame.columns)}.")
    if segment_map is None:
        segment_map = RFMSegmentMap()
    if not isinstance(segment_map, RFMSegmentMap):
        raise InvalidDtypeError(
            f"segment_map must be an RFMSegmentMap, got {type(segment_map).__name__}.")
    grid = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)) + [(np.nan,) * 3],
                        columns=list(_SCORES), dtype=float)
    grid.index = pd.Index([f"g{i}" for i in range(len(grid))], name=Columns.USER)
    labels = segment_map.assign(grid).labels
    table = grid.assign(segment=labels.astype(object).where(labels.notna(), None)).fillna(
        {c: -1.0 for c in _SCORES})
    lookup = frame.sparkSession.createDataFrame(table.reset_index(drop=True))
    keyed = frame.select(Columns.USER, *[F.coalesce(F.col(c).cast("double"), F.lit(-1.0)).alias(c)
                                         for c in _SCORES])
    return keyed.join(F.broadcast(lookup), list(_SCORES), "left").select(
        Columns.USER, Columns.SEGMENT)

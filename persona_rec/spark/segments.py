"""RFM segments on Spark: the pandas segment map evaluated once on the score grid, then joined."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._text import example_values
from .._validation import check_instance
from ..columns import Columns
from ..exceptions import InvalidDtypeError, InvalidValueError, MissingColumnError
from ..segments.rfm import RFMSegmentMap
from ._session import require_spark_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from .profiles import SparkProfiles

__all__ = ["rfm_segments"]

_SCORES = ("r_score", "f_score", "m_score")


def rfm_segments(profiles: SparkProfiles | DataFrame, segment_map: RFMSegmentMap | None = None) -> DataFrame:
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

    Raises
    ------
    InvalidDtypeError
        ``profiles`` is not a Spark frame, a score column is not numeric, or
        ``segment_map`` is not an RFMSegmentMap.
    MissingColumnError
        A score column is missing.
    InvalidValueError
        A score is not an integer 1-5 (or missing), as ``RFMSegmentMap.assign``
        refuses it (one aggregation; three examples reach the driver).
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
    check_instance(segment_map, RFMSegmentMap, "segment_map must be an RFMSegmentMap")
    from pyspark.sql import types as T

    for c in _SCORES:
        dtype = frame.schema[c].dataType
        if not isinstance(dtype, T.NumericType):
            raise InvalidDtypeError(
                f"profiles['{c}'] must be numeric (1-5 or NaN), got Spark type "
                f"{dtype.simpleString()}.")
    # the score rule of RFMSegmentMap: integers 1-5, or missing (null/NaN) without purchases
    checks = []
    for c in _SCORES:
        v = F.col(c).cast("double")
        bad = v.isNotNull() & ~F.isnan(v) & ~v.isin([1.0, 2.0, 3.0, 4.0, 5.0])
        checks.append(F.sum(bad.cast("long")).alias(c))
    counts = frame.agg(*checks).first()
    for c in _SCORES:
        if counts[c]:
            v = F.col(c).cast("double")
            ex = [r[0] for r in frame.where(v.isNotNull() & ~F.isnan(v) & ~v.isin(
                [1.0, 2.0, 3.0, 4.0, 5.0])).select(v).limit(3).collect()]
            raise InvalidValueError(
                f"profiles['{c}'] must hold integer scores 1-5 (or NaN for users without "
                f"purchases); {int(counts[c])} value(s) break this, e.g. {example_values(ex)}.")
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

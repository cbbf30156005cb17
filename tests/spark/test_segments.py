"""Spark RFM segments: the typed errors of RFMSegmentMap.assign on bad score frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec.exceptions import InvalidDtypeError, InvalidValueError, MissingColumnError
from persona_rec.segments.rfm import RFMSegmentMap
from persona_rec.spark import rfm_segments

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pyspark is not installed (extra 'spark')")


def _frame(**cols):
    base = {"user_id": ["a", "b", "c"], "r_score": [1.0, 5.0, np.nan],
            "f_score": [2.0, 3.0, np.nan], "m_score": [4.0, 4.0, np.nan]}
    base.update(cols)
    return pd.DataFrame(base)


def test_segments_and_errors_equal_pandas(spark):
    good = _frame()
    want = RFMSegmentMap().assign(good.set_index("user_id")).labels
    got = rfm_segments(spark.createDataFrame(good)).toPandas().set_index("user_id")["segment"]
    assert got.reindex(want.index).astype(object).fillna("-").tolist() == \
        want.astype(object).fillna("-").tolist()
    bad = _frame(f_score=[2.0, 7.0, 2.5])
    with pytest.raises(InvalidValueError) as pd_err:
        RFMSegmentMap().assign(bad.set_index("user_id"))
    with pytest.raises(InvalidValueError) as sp_err:
        rfm_segments(spark.createDataFrame(bad))
    assert str(sp_err.value) == str(pd_err.value)
    with pytest.raises(InvalidDtypeError, match=r"profiles\['r_score'\] must be numeric"):
        rfm_segments(spark.createDataFrame(_frame(r_score=["1", "2", "3"])))
    with pytest.raises(MissingColumnError, match=r"missing column\(s\) \['m_score'\]"):
        rfm_segments(spark.createDataFrame(good.drop(columns="m_score")))
    with pytest.raises(InvalidDtypeError, match="must be a pyspark.sql.DataFrame"):
        rfm_segments(good)
    with pytest.raises(InvalidDtypeError, match="segment_map must be an RFMSegmentMap"):
        rfm_segments(spark.createDataFrame(good), segment_map="rfm")

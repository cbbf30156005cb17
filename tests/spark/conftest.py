"""A single local[2] SparkSession for the Spark tests (loopback only, UTC, no UI)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest



@pytest.fixture(scope="session")
def spark():
    """One session for the whole run: local[2], bound to 127.0.0.1, UTC, no UI."""
    from persona_rec.spark import local_session

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    # small data: one shuffle partition, no adaptive re-planning (it splits every query into
    # many small jobs), broadcast joins up to 100 MB; measured 3x faster on the tiny shop
    session = local_session("local[2]", shuffle_partitions=1, driver_memory="2g", conf={
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.autoBroadcastJoinThreshold": str(100 * 2**20),
    })
    yield session
    session.stop()


def to_spark(spark, frame: pd.DataFrame):
    """pandas -> Spark keeping row order (one partition per ~50k rows)."""
    return spark.createDataFrame(frame)


def compare_frames(pdf: pd.DataFrame, sdf: pd.DataFrame, rtol: float = 1e-9) -> list[str]:
    """Column-by-column differences (floats to ``rtol``, everything else exactly)."""
    problems = []
    left = pdf.sort_index()
    right = sdf.set_index("user_id").reindex(left.index)
    for col in left.columns:
        if col not in right.columns:
            problems.append(f"{col}: missing in Spark")
            continue
        a, b = left[col], right[col]
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            av = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
            bv = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
            same_nan = np.isnan(av) == np.isnan(bv)
            ok = same_nan & (np.isnan(av) | np.isclose(av, bv, rtol=rtol, atol=0))
        elif a.dtype.kind == "M" or b.dtype.kind == "M":
            av = pd.to_datetime(a).astype("datetime64[ns]").to_numpy()
            bv = pd.to_datetime(b).astype("datetime64[ns]").to_numpy()
            ok = (av == bv) | (pd.isna(av) & pd.isna(bv))
        else:
            av = a.astype(object).where(a.notna(), None).to_numpy()
            bv = b.astype(object).where(b.notna(), None).to_numpy()
            ok = np.array([x == y or (x is None and y is None) for x, y in zip(av, bv)])
        if not ok.all():
            bad = np.flatnonzero(~ok)
            i = bad[0]
            problems.append(f"{col}: {len(bad)} differ, e.g. user {left.index[i]!r}: "
                            f"pandas {a.iloc[i]!r} vs spark {b.iloc[i]!r}")
    return problems

"""Spark session helpers: a loopback-only local session and type checks."""

from __future__ import annotations

import os
from typing import Any

from ..exceptions import InvalidDtypeError

__all__ = ["local_session", "require_spark_frame", "require_pyspark", "LOOPBACK_CONF"]

#: Settings that keep a local session on the loopback interface, in UTC, without a UI.
LOOPBACK_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def require_pyspark() -> None:
    """Raise a clear ImportError when pyspark (the ``spark`` extra) is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'persona_rec.spark needs pyspark: pip install "persona-rec[spark]" '
            "(and a Java 17+ runtime)."
        ) from exc


def local_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
    app_name: str = "persona_rec",
    conf: dict[str, str] | None = None,
) -> Any:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1.

    Sets ``SPARK_LOCAL_IP=127.0.0.1``, ``spark.driver.host`` and
    ``spark.driver.bindAddress`` so nothing listens beyond loopback, the SQL
    session time zone to UTC (persona_rec timestamps are naive UTC), a 16 MB
    thread stack (``-Xss16m``: task threads run in the driver JVM, and ALS's
    iteration lineage can overflow the default stack), and disables the web UI. For a cluster, build your own session with
    ``SparkSession.builder`` (``spark-submit`` does) and keep
    ``spark.sql.session.timeZone=UTC``.

    Parameters
    ----------
    master : str, default "local[2]"
    shuffle_partitions : int, default 4
        ``spark.sql.shuffle.partitions`` (small for small local data).
    driver_memory : str, default "2g"
    app_name : str, default "persona_rec"
    conf : dict, optional
        Extra Spark settings (override the defaults above).

    Returns
    -------
    pyspark.sql.SparkSession
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = dict(LOOPBACK_CONF)
    settings["spark.sql.shuffle.partitions"] = str(int(shuffle_partitions))
    settings["spark.driver.memory"] = driver_memory
    # local mode runs the executors' task threads inside the driver JVM: a larger thread
    # stack keeps deep plans (ALS's iteration lineage without a checkpoint directory) from
    # failing with java.lang.StackOverflowError when a task is deserialised
    settings["spark.driver.extraJavaOptions"] = "-Xss16m"
    settings.update(conf or {})
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def require_spark_frame(frame: Any, name: str) -> Any:
    """Check that ``frame`` is a ``pyspark.sql.DataFrame`` (typed error otherwise)."""
    require_pyspark()
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise InvalidDtypeError(
            f"{name} must be a pyspark.sql.DataFrame, got {type(frame).__name__}; "
            f"convert a pandas frame with spark.createDataFrame(frame)."
        )
    return frame

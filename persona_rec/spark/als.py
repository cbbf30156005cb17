"""ALS at cluster scale: Spark MLlib ALS (implicit feedback) with the library's output columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._params import ParamsMixin
from .._validation import check_bool, check_instance, check_int, check_number
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import NotFittedError
from .events import SparkEvents

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["SparkALS"]


def _index(frame: Any, col: str, out: str) -> Any:
    """Distinct ids of ``col`` numbered 0..n-1 by Spark (``zipWithIndex``, no driver vocabulary)."""
    from pyspark.sql import types as T

    ids = frame.select(col).distinct()
    schema = T.StructType([*ids.schema.fields, T.StructField(out, T.IntegerType(), False)])
    rdd = ids.rdd.zipWithIndex().map(lambda row_i: (*row_i[0], int(row_i[1])))
    return ids.sparkSession.createDataFrame(rdd, schema)


class SparkALS(ParamsMixin):
    """Implicit-feedback ALS on Spark (``pyspark.ml.recommendation.ALS``, ``implicitPrefs=True``).

    Fits on :class:`SparkEvents`, recommends top-k per user as a Spark
    DataFrame ``user_id, item_id, score, rank`` (rank starts at 1), and
    exports its factors to a fitted :class:`~persona_rec.models.ALSRecommender`
    for single-machine serving.

    Confidence is ``1 + alpha * r`` with ``r = 1`` per (user, item) pair
    (``binary=True``, as :class:`~persona_rec.models.ALSRecommender`'s
    default) or the summed event weight. Spark scales the L2 penalty by each
    user's (item's) number of pairs, so ``reg_param`` is not the same number as
    ``ALSRecommender(regularization=...)``: on ML-100K ``reg_param=0.01``
    matches the NDCG@10 of ``ALSRecommender()`` (see ``docs/scale.md``).

    Parameters
    ----------
    factors : int, default 32
    reg_param : float, default 0.01
    iterations : int, default 15
    alpha : float, default 2.0
    binary : bool, default True
    random_state : int, default 0
        Seed of Spark's factor initialisation.

    Attributes
    ----------
    model_ : pyspark.ml.recommendation.ALSModel
    user_index_, item_index_ : pyspark.sql.DataFrame
        External id -> integer index used by Spark ALS.
    """

    def __init__(
        self,
        factors: int = 32,
        reg_param: float = 0.01,
        iterations: int = 15,
        alpha: float = 2.0,
        binary: bool = True,
        random_state: int = 0,
    ) -> None:
        owner = "SparkALS"
        self.factors = check_int(factors, "factors", minimum=1, owner=owner)
        self.reg_param = check_number(reg_param, "reg_param", low=0, owner=owner)
        self.iterations = check_int(iterations, "iterations", minimum=1, owner=owner)
        self.alpha = check_number(alpha, "alpha", low=0, low_inclusive=False, owner=owner)
        self.binary = check_bool(binary, "binary", owner=owner)
        self.random_state = check_int(random_state, "random_state", minimum=0, owner=owner)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("SparkALS is not fitted; call fit(events) first.")

    def fit(self, events: SparkEvents) -> SparkALS:
        """Fit on the (user, item) pairs of ``events``.

        Parameters
        ----------
        events : SparkEvents

        Returns
        -------
        SparkALS
            ``self``, fitted.
        """
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import functions as F

        check_instance(events, SparkEvents, "events must be a persona_rec.spark.SparkEvents")
        pairs = events.interactions.groupBy(Columns.USER, Columns.ITEM).agg(
            F.sum(Columns.WEIGHT).cast("float").alias("_w"))
        pairs = pairs.where(F.col("_w") > 0)
        self.user_index_ = _index(pairs, Columns.USER, "_u").persist()
        self.item_index_ = _index(pairs, Columns.ITEM, "_i").persist()
        rating = F.lit(1.0).cast("float") if self.binary else F.col("_w")
        train = (pairs.join(self.user_index_, Columns.USER).join(self.item_index_, Columns.ITEM)
                 .select("_u", "_i", rating.alias("_r")))
        self.seen_ = train.select("_u", "_i").persist()
        als = ALS(rank=self.factors, maxIter=self.iterations, regParam=self.reg_param,
                  alpha=self.alpha, implicitPrefs=True, seed=self.random_state,
                  userCol="_u", itemCol="_i", ratingCol="_r", coldStartStrategy="drop")
        self.model_ = als.fit(train)
        return self

    def recommend(self, k: int = 10, *, filter_seen: bool = True) -> Any:
        """Top-``k`` items for every training user.

        Parameters
        ----------
        k : int, default 10
        filter_seen : bool, default True
            Leave out the user's training items.

        Returns
        -------
        pyspark.sql.DataFrame
            ``user_id, item_id, score, rank``; ties in score are broken by
            item index.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        self._check_fitted()
        k = check_int(k, "k", minimum=1, owner="SparkALS.recommend")
        extra = 0
        if filter_seen:
            extra = self.seen_.groupBy("_u").count().agg(F.max("count")).first()[0] or 0
        recs = self.model_.recommendForAllUsers(k + int(extra))
        flat = recs.select("_u", F.explode("recommendations").alias("_rec")).select(
            "_u", F.col("_rec._i").alias("_i"), F.col("_rec.rating").alias(Columns.SCORE))
        if filter_seen:
            flat = flat.join(self.seen_, ["_u", "_i"], "left_anti")
        w = Window.partitionBy("_u").orderBy(F.col(Columns.SCORE).desc(), F.col("_i"))
        ranked = flat.withColumn(Columns.RANK, F.row_number().over(w)).where(
            F.col(Columns.RANK) <= k)
        return (ranked.join(self.user_index_, "_u").join(self.item_index_, "_i")
                .select(Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK))

    def factors_frame(self) -> tuple[Any, Any]:
        """User and item factors as Spark frames ``user_id|item_id, features`` (array of float)."""
        self._check_fitted()
        users = self.model_.userFactors.withColumnRenamed("id", "_u").join(
            self.user_index_, "_u").select(Columns.USER, "features")
        items = self.model_.itemFactors.withColumnRenamed("id", "_i").join(
            self.item_index_, "_i").select(Columns.ITEM, "features")
        return users, items

    def to_als_recommender(self, dataset: Dataset) -> Any:
        """Export the factors to a fitted single-machine :class:`~persona_rec.models.ALSRecommender`.

        The factors are collected to the driver (``n_users + n_items`` rows of
        ``factors`` floats), aligned to ``dataset``'s id maps. Users of
        ``dataset`` unknown to the Spark model get no factors (not served by
        the export; fold-in with ``recommend(..., dataset=newer)`` still
        works); unknown items get zero factors.

        Parameters
        ----------
        dataset : Dataset
            The training data as a Dataset (its id maps, seen items and
            popularity are what the served model uses).

        Returns
        -------
        ALSRecommender
            Fitted, with ``user_factors_``/``item_factors_`` from Spark.
        """
        from ..models import ALSRecommender

        self._check_fitted()
        check_instance(dataset, Dataset, "dataset must be a persona_rec Dataset")
        users, items = self.factors_frame()
        u = users.toPandas()
        i = items.toPandas()
        uf = np.full((dataset.n_users, self.factors), np.nan, dtype=np.float32)
        vf = np.zeros((dataset.n_items, self.factors), dtype=np.float32)
        ui = dataset.user_map.to_internal(u[Columns.USER].to_numpy(), strict=False)
        ii = dataset.item_map.to_internal(i[Columns.ITEM].to_numpy(), strict=False)
        if len(u):
            feats = np.stack(u["features"].to_numpy()).astype(np.float32)
            uf[ui[ui >= 0]] = feats[ui >= 0]
        if len(i):
            feats = np.stack(i["features"].to_numpy()).astype(np.float32)
            vf[ii[ii >= 0]] = feats[ii >= 0]
        model = ALSRecommender(factors=self.factors, regularization=self.reg_param,
                               iterations=self.iterations, alpha=self.alpha, binary=self.binary,
                               random_state=self.random_state)

        def _load(ds: Dataset, profiles: Profiles | None) -> None:
            model.user_factors_ = uf
            model.item_factors_ = vf
            model._model = None

        model._fit = _load  # the base class's fit does the bookkeeping (id maps, seen items)
        try:
            model.fit(dataset)
        finally:
            del model._fit
        return model

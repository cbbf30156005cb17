"""Tags on Spark: a taxonomy's rules compiled to Spark column expressions.

:func:`assign_tags` evaluates every tag rule of a
:class:`~persona_rec.tags.Taxonomy` over a :class:`SparkProfiles` frame with
the semantics of :class:`persona_rec.tags.Tagger` (nulls never match,
division by zero is null, ``quantile`` ranks among the users known at
``as_of``, confidences clipped to ``[confidence_floor, 1]``, roll-up to the
ancestors with the sensitive-tag boundary). Each rule becomes one Spark
column expression over the profile row (no Python function per row);
``affinity``/``affinity_rank`` read the long affinity frame through one join
per referenced ``(kind, value)`` pair and ``quantile`` is a rank computed
over one row per distinct value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._validation import check_instance
from ..exceptions import InvalidDtypeError, TaxonomyError
from ..profiles.profiles import KNOWN_COLUMN
from ..tags.rules import (
    _ARITH_OPS,
    Rule,
    _Arith,
    _Bool,
    _Call,
    _Cmp,
    _Col,
    _In,
    _is_bool,
    _IsNull,
    _Lit,
    _Neg,
    _Not,
    _walk,
)
from ..tags.tagger import Tagger
from ..tags.taxonomy import Taxonomy

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from .profiles import SparkProfiles

__all__ = ["assign_tags"]

_U = "user_id"


def _F() -> Any:
    from pyspark.sql import functions as F

    return F


class _Compiler:
    """Rule AST -> Spark column expressions over one profile frame."""

    def __init__(self, frame: Any, known: bool) -> None:
        self.frame = frame
        self.known = known
        self.aff: dict[tuple[str, str], str] = {}
        self.rank: dict[tuple[str, str], str] = {}
        self.quant: dict[Any, str] = {}
        self.types = {f.name: f.dataType for f in frame.schema.fields}

    # -------------------------------------------------------------- columns
    def column(self, name: str) -> Any:
        F = _F()
        if name not in self.types:
            raise InvalidDtypeError(f"profiles have no column {name!r}")
        return F.col(f"`{name}`")

    def _is_floating(self, name: str) -> bool:
        from pyspark.sql import types as T

        return isinstance(self.types.get(name), (T.FloatType, T.DoubleType))

    def value(self, node: Any) -> Any:
        F = _F()
        if isinstance(node, _Lit):
            return F.lit(node.value)
        if isinstance(node, _Col):
            c = self.column(node.name)
            return F.when(~F.isnan(c), c) if self._is_floating(node.name) else c
        if isinstance(node, _Neg):
            return -self.numeric(node.operand)
        if isinstance(node, _Arith):
            a, b = self.numeric(node.left), self.numeric(node.right)
            if node.op in _ARITH_OPS:
                return _ARITH_OPS[node.op](a, b)
            return F.try_divide(a, b)  # division by zero gives null, as pandas' NaN
        if isinstance(node, _Call):
            f = node.func
            if f == "affinity":
                return F.coalesce(F.col(self.aff[self._ref(node)]), F.lit(0.0))
            if f == "affinity_rank":
                return F.col(self.rank[self._ref(node)])
            if f == "quantile":
                return F.col(self.quant[node])
            x = self.value(node.args[0])
            if f == "coalesce":
                return F.coalesce(x, self.value(node.args[1]))
            if f == "abs":
                return F.abs(self.numeric(node.args[0]))
            x = self.numeric(node.args[0])
            lo, hi = self.value(node.args[1]), self.value(node.args[2])
            return F.when(x.isNotNull(), F.least(F.greatest(x, lo), hi))
        raise AssertionError(f"not a value node: {node!r}")  # pragma: no cover

    def numeric(self, node: Any) -> Any:
        if isinstance(node, _Lit):
            return _F().lit(node.value)
        return self.value(node).cast("double")

    def cond(self, node: Any) -> Any:
        """A condition that is never null (null compares as False, as in pandas)."""
        F = _F()
        if isinstance(node, _Bool):
            acc = self.cond(node.children[0])
            for c in node.children[1:]:
                acc = (acc & self.cond(c)) if node.op == "and" else (acc | self.cond(c))
            return acc
        if isinstance(node, _Not):
            return ~self.cond(node.operand)
        if isinstance(node, _Col):
            return F.coalesce(self.column(node.name).cast("boolean"), F.lit(False))
        if isinstance(node, _IsNull):
            isnull = self.value(node.operand).isNull()
            return ~isnull if node.negate else isnull
        if isinstance(node, _In):
            v = self.value(node.operand)
            hit = F.coalesce(v.isin(list(node.values)), F.lit(False))
            return (~hit & v.isNotNull()) if node.negate else hit
        if isinstance(node, _Cmp):
            a, b = self.value(node.left), self.value(node.right)
            ops = {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b,
                   "!=": a != b}
            return F.coalesce(ops[node.op], F.lit(False))
        raise AssertionError(f"not a condition node: {node!r}")  # pragma: no cover

    def values(self, rule: Rule) -> Any:
        """A value expression as a double column (a condition gives 1.0 / 0.0)."""
        if _is_bool(rule._root):
            return self.cond(rule._root).cast("double")
        return self.numeric(rule._root)

    # ------------------------------------------------------------- pre-pass
    @staticmethod
    def _ref(node: Any) -> tuple[str, str]:
        return (str(node.args[0].value), str(node.args[1].value))

    def prepare(self, rules: list[Rule], affinities: Any) -> Any:
        """Join the affinity columns, affinity ranks and quantile ranks the rules read."""
        F = _F()
        frame = self.frame
        calls = [n for r in rules for n in _walk(r._root) if isinstance(n, _Call)]
        for n in calls:
            if n.func in ("affinity", "affinity_rank"):
                ref = self._ref(n)
                self.aff.setdefault(ref, f"_aff{len(self.aff)}")
                if n.func == "affinity_rank":
                    self.rank.setdefault(ref, f"_arank{len(self.rank)}")
        # one pivot per affinity kind (value columns for the referenced values only), and
        # for ranks one window per kind: rank = 1 + number of strictly larger values in the row
        from pyspark.sql import Window

        kinds = sorted({k for k, _ in self.aff})
        for kind in kinds:
            refs = [(v, n) for (k, v), n in self.aff.items() if k == kind]
            values = [v for v, _ in refs]
            rows = affinities.where((F.col("kind") == kind) & (F.col("affinity") > 0)).select(
                _U, "value", F.col("affinity").cast("double").alias("_a"))
            rank_refs = [(v, self.rank[(kind, v)]) for v in values if (kind, v) in self.rank]
            if rank_refs:
                w = Window.partitionBy(_U).orderBy(F.col("_a").desc())
                rows = rows.withColumn("_r", F.rank().over(w).cast("double"))
            rows = rows.where(F.col("value").isin(values))
            aggs = [F.max(F.when(F.col("value") == v, F.col("_a"))).alias(n) for v, n in refs]
            aggs += [F.max(F.when(F.col("value") == v, F.col("_r"))).alias(n)
                     for v, n in rank_refs]
            frame = frame.join(rows.groupBy(_U).agg(*aggs), _U, "left")
        frame = frame.localCheckpoint(eager=True)
        self.frame = frame
        # quantiles, innermost first (the walk lists a node before its arguments)
        quantiles = [n for n in calls if n.func == "quantile"]
        for n in reversed(quantiles):
            if n in self.quant:
                continue
            name = f"_q{len(self.quant)}"
            self.frame = self._quantile(self.frame, self.numeric(n.args[0]), name)
            self.quant[n] = name
        if quantiles:
            self.frame = self.frame.localCheckpoint(eager=True)
        return self.frame

    def _quantile(self, frame: Any, x: Any, name: str) -> Any:
        """pandas ``rank(pct=True, method="average")`` among known users with a value."""
        from pyspark.sql import Window

        F = _F()
        keep = x.isNotNull()
        if self.known:
            keep = keep & F.coalesce(F.col(KNOWN_COLUMN), F.lit(False))
        vals = frame.select(_U, F.when(keep, x).alias("_qv"))
        counts = vals.where(F.col("_qv").isNotNull()).groupBy("_qv").count()
        below = Window.orderBy("_qv").rowsBetween(Window.unboundedPreceding, -1)
        counts = counts.select(
            "_qv",
            ((F.coalesce(F.sum("count").over(below), F.lit(0)) + (F.col("count") + 1) / 2.0)
             / F.sum("count").over(Window.partitionBy(F.lit(1)))).alias(name))
        ranked = vals.join(counts, "_qv").select(_U, name)
        return frame.join(ranked, _U, "left")


def assign_tags(
    profiles: SparkProfiles,
    taxonomy: Taxonomy,
    *,
    confidence_floor: float = 0.01,
    rollup_sensitive: bool = False,
) -> DataFrame:
    """Tag every user of Spark profiles with a taxonomy (the rules of :class:`Tagger`).

    Parameters
    ----------
    profiles : SparkProfiles
        From :func:`persona_rec.spark.build_profiles`.
    taxonomy : Taxonomy
        The tags and their rules (e.g. ``Taxonomy.default(pandas_profiles)``,
        or one loaded from YAML/JSON).
    confidence_floor : float, default 0.01
    rollup_sensitive : bool, default False
        As :class:`persona_rec.tags.Tagger`.

    Returns
    -------
    pyspark.sql.DataFrame
        Long frame ``user_id, tag_id, confidence`` (float, as the float32
        confidences of :class:`~persona_rec.tags.UserTags`), one row per
        assigned tag, roll-up included; users whose ``known_at_as_of`` is
        False get no tags.

    Raises
    ------
    InvalidDtypeError
        ``profiles`` is not a SparkProfiles or ``taxonomy`` not a Taxonomy.
    TaxonomyError
        A rule reads a column the profiles do not have.
    """
    from .profiles import SparkProfiles

    F = _F()
    check_instance(profiles, SparkProfiles, "profiles must be a persona_rec.spark.SparkProfiles")
    tagger = Tagger(taxonomy, confidence_floor=confidence_floor,
                    rollup_sensitive=rollup_sensitive)  # validates the options
    tax = taxonomy
    frame = profiles.frame
    known = KNOWN_COLUMN in frame.columns
    rules: list[Rule] = []
    for tid in tax.tag_ids:
        for r in (tax.rule_of(tid), tax.confidence_of(tid)):
            if isinstance(r, Rule):
                missing = sorted(set(r.columns) - set(frame.columns))
                if missing:
                    raise TaxonomyError(
                        f"Tag {tid!r}: rule {r.text!r} reads column(s) {missing} that the "
                        f"profiles do not have."
                    )
                rules.append(r)
    comp = _Compiler(frame, known)
    frame = comp.prepare(rules, profiles.affinities)
    floor = float(tagger.confidence_floor)
    own: dict[int, Any] = {}
    for j, tid in enumerate(tax.tag_ids):
        rule = tax.rule_of(tid)
        if rule is None:
            continue
        hit = comp.cond(rule._root)
        if known:
            hit = hit & F.coalesce(F.col(KNOWN_COLUMN), F.lit(False))
        src = tax.confidence_of(tid)
        if isinstance(src, Rule):
            conf = F.coalesce(comp.values(src), F.lit(floor))
            conf = F.least(F.greatest(conf, F.lit(floor)), F.lit(1.0))
        else:
            conf = F.lit(float(src))
        own[j] = F.when(hit, conf.cast("float"))
    # roll-up, deepest tags first: max(own, rolled-up children); greatest() skips nulls
    kids = tagger._rollup_children()
    final: dict[int, Any] = {}
    for j in sorted(range(len(tax)), key=lambda k: -tax.depth_of(tax.tag_ids[k])):
        sources = ([own[j]] if j in own else []) + [final[c] for c in kids[j]
                                                   if final[c] is not None]
        final[j] = None if not sources else (
            sources[0] if len(sources) == 1 else F.greatest(*sources))
    cells = [F.struct(F.lit(tid).alias("tag_id"), final[j].alias("confidence"))
             for j, tid in enumerate(tax.tag_ids) if final[j] is not None]
    if not cells:
        return frame.sparkSession.createDataFrame([], "user_id string, tag_id string, "
                                                      "confidence float")
    long = frame.select(_U, F.explode(F.array(*cells)).alias("_t"))
    return long.where(F.col("_t.confidence").isNotNull()).select(
        _U, F.col("_t.tag_id").alias("tag_id"), F.col("_t.confidence").alias("confidence"))

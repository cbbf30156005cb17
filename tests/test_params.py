"""scikit-learn parameter protocol on profile builders and metrics (models: tests/models)."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

import persona_rec.evaluation.metrics as metrics_module
import persona_rec.profiles.builders as builders_module
from persona_rec._params import ParamsMixin
from persona_rec.evaluation import AUC, NDCG, PopularityBias, Recall
from persona_rec.exceptions import InvalidParameterError
from persona_rec.profiles import ProfileBuilder
from persona_rec.profiles.builders import AffinityBuilder, Builder, LifecycleBuilder

BUILDERS = [c for _, c in inspect.getmembers(builders_module, inspect.isclass)
            if issubclass(c, Builder) and c is not Builder]
# every metric class that persona_rec.evaluation.metrics gathers (they are defined by family,
# in persona_rec.evaluation.accuracy and .beyond_accuracy)
METRICS = [c for _, c in inspect.getmembers(metrics_module, inspect.isclass)
           if issubclass(c, metrics_module.Metric) and c.__module__.startswith("persona_rec.evaluation.")
           and "k" in inspect.signature(c.__init__).parameters]


@pytest.mark.parametrize("cls", BUILDERS, ids=lambda c: c.__name__)
def test_every_builder_clones(cls: type) -> None:
    builder = cls()
    copy = clone(builder)
    assert type(copy) is cls and copy is not builder
    assert copy.get_params() == builder.get_params()


def test_the_metric_list_is_complete() -> None:
    names = {c.__name__ for c in METRICS}
    assert {"Precision", "Recall", "NDCG", "MAP", "MRR", "HitRate", "AUC", "CatalogCoverage",
            "Novelty", "PopularityBias", "IntraListDiversity"} <= names


@pytest.mark.parametrize("cls", METRICS, ids=lambda c: c.__name__)
def test_every_metric_clones(cls: type) -> None:
    metric = cls(k=5)
    copy = clone(metric)
    assert type(copy) is cls and copy.label == metric.label
    assert copy.get_params() == metric.get_params()


def test_builder_set_params_validates_and_keeps_self() -> None:
    builder = AffinityBuilder(half_life_days=30)
    assert builder.set_params(min_brand_events=5) is builder
    assert builder.get_params() == {"half_life_days": 30.0, "min_brand_events": 5,
                                    "price_band_min_items": 20, "n_levels": 3}
    with pytest.raises(InvalidParameterError, match="half_life_days"):
        builder.set_params(half_life_days=-1)
    assert builder.half_life_days == 30.0  # unchanged after the rejected value
    with pytest.raises(InvalidParameterError, match="'nope' is not a parameter"):
        builder.set_params(nope=1)


def test_metric_set_params_changes_label_and_validates() -> None:
    metric = Recall(k=10)
    metric.set_params(k=5, normalize="min")
    assert metric.label == "Recall@5(min)"
    with pytest.raises(InvalidParameterError, match="normalize"):
        metric.set_params(normalize="max")
    with pytest.raises(InvalidParameterError, match="'k'"):
        NDCG(k=3).set_params(k=0)
    assert AUC(n_negatives=50, random_state=1).get_params() == {
        "k": None, "catalog": None, "n_negatives": 50, "random_state": 1}
    assert set(PopularityBias(k=5).get_params()) == {"k", "train", "measure", "head_fraction"}


def test_profile_builder_clone_copies_its_builders() -> None:
    pb = ProfileBuilder.default(half_life_days=45)
    copy = clone(pb)
    assert [type(b) for b in copy.builders] == [type(b) for b in pb.builders]
    assert all(a is not b for a, b in zip(copy.builders, pb.builders))
    assert copy.builders[3].half_life_days == 45.0


class _Outer(ParamsMixin):
    """A parameter object holding another one, to check the ``__`` routing."""

    def __init__(self, inner: LifecycleBuilder, scale: float = 1.0) -> None:
        if scale <= 0:
            raise InvalidParameterError(f"scale must be > 0, got {scale}.")
        self.inner = inner
        self.scale = scale


def test_deep_params_and_nested_set_params() -> None:
    outer = _Outer(LifecycleBuilder(new_days=10))
    deep = outer.get_params(deep=True)
    assert deep["inner__new_days"] == 10.0 and deep["scale"] == 1.0
    assert "inner__new_days" not in outer.get_params(deep=False)
    outer.set_params(inner__new_days=20, scale=2.0)
    assert outer.inner.new_days == 20.0 and outer.scale == 2.0
    with pytest.raises(InvalidParameterError, match="new_days"):
        outer.set_params(inner__new_days=-5)
    with pytest.raises(InvalidParameterError, match="no nested parameters"):
        outer.set_params(scale__x=1)
    copy = clone(outer)
    assert copy.inner is not outer.inner and copy.inner.new_days == 20.0


# ------------------------------------------------- one convention for every family
def _package_classes() -> list[type]:
    """Every class defined in persona_rec (the Spark modules only when pyspark is installed)."""
    import importlib
    import pkgutil

    import persona_rec

    out = []
    for info in pkgutil.walk_packages(persona_rec.__path__, "persona_rec."):
        if info.name.startswith("persona_rec.spark") and importlib.util.find_spec("pyspark") is None:
            continue
        module = importlib.import_module(info.name)
        out += [c for _, c in inspect.getmembers(module, inspect.isclass)
                if c.__module__ == info.name]
    return out


def test_no_class_writes_its_own_parameter_protocol() -> None:
    # get_params / set_params / __repr__ of configured objects come from ParamsMixin only
    own = {f"{c.__module__}.{c.__qualname__}.{name}" for c in _package_classes()
           for name in ("get_params", "set_params")
           if name in vars(c) and c is not ParamsMixin}
    own |= {f"{c.__module__}.{c.__qualname__}.__repr__" for c in _package_classes()
            if issubclass(c, ParamsMixin) and "__repr__" in vars(c) and c is not ParamsMixin}
    assert not own, sorted(own)


@pytest.mark.parametrize("cls", BUILDERS + METRICS, ids=lambda c: c.__name__)
def test_unknown_parameter_and_repr_from_the_signature(cls: type) -> None:
    obj = cls(k=5) if cls in METRICS else cls()
    with pytest.raises(InvalidParameterError, match=r"'nope' is not a parameter; parameters: \["):
        obj.set_params(nope=1)
    shown = {k: v for k, v in obj.get_params(deep=False).items()
             if k not in getattr(obj, "needs", ())}
    assert repr(obj) == f"{cls.__name__}(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"
    assert repr(clone(obj)) == repr(obj) == repr(obj.clone())


@pytest.mark.parametrize("cls", METRICS, ids=lambda c: c.__name__)
def test_every_metric_rejects_a_bad_k_with_a_typed_error_and_stays_unchanged(cls: type) -> None:
    metric = cls(k=5)
    with pytest.raises(InvalidParameterError, match="'k'"):
        metric.set_params(k=0)
    assert metric.k == 5 and metric.label.endswith("@5")


def test_metric_repr_leaves_out_its_data_context() -> None:
    import pandas as pd

    train = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"]})
    metric = PopularityBias(k=3, train=train, measure="long_tail_share")
    assert repr(metric) == "PopularityBias(k=3, measure='long_tail_share', head_fraction=0.2)"
    assert clone(metric).get_params()["train"].equals(train)  # clone keeps the context (a copy)
    assert metric.clone().get_params()["train"] is train
    assert repr(AUC(k=5, catalog=["a"], n_negatives=3)) == \
        "AUC(k=5, n_negatives=3, random_state=None)"


def _other_estimators() -> list[tuple[object, str, object]]:
    """(estimator, numeric parameter, invalid value) for the non-model, non-builder families."""
    from persona_rec.marketing import LearnedPropensity
    from persona_rec.profiles.predictive import BGNBD, GammaGamma
    from persona_rec.segments import KMeansSegmenter

    return [(BGNBD(penalizer=0.01), "penalizer", -1.0),
            (GammaGamma(min_customers=20), "min_customers", 1),
            (KMeansSegmenter(n_clusters=4, features=["x", "y"]), "n_clusters", 1),
            (LearnedPropensity(window_days=60, C=0.5,
                               builder=ProfileBuilder.default(half_life_days=45)), "C", 0.0)]


@pytest.mark.parametrize("case", range(4), ids=["BGNBD", "GammaGamma", "KMeansSegmenter",
                                                "LearnedPropensity"])
def test_other_estimators_share_the_convention(case: int) -> None:
    est, name, bad = _other_estimators()[case]
    copy = clone(est)
    assert type(copy) is type(est) and copy is not est and repr(copy) == repr(est)
    before = repr(est)
    with pytest.raises(InvalidParameterError, match=name):
        est.set_params(**{name: bad})
    assert repr(est) == before  # a rejected value leaves the object unchanged
    with pytest.raises(InvalidParameterError, match="'nope' is not a parameter"):
        est.set_params(nope=1)
    good = est.get_params(deep=False)[name]
    assert est.set_params(**{name: good}) is est and repr(est) == before


def test_learned_propensity_nested_builder_parameters() -> None:
    est = _other_estimators()[3][0]
    deep = est.get_params(deep=True)
    assert deep["builder__builders"] is est.builder.builders
    assert clone(est).builder is not est.builder

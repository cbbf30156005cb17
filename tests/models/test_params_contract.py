"""scikit-learn parameter contract shared by every registered model.

``sklearn.base.clone`` rebuilds a model from ``get_params(deep=False)`` and
checks that the constructor stored each parameter unchanged; ``set_params``
validates like the constructor and keeps what the model learned.
"""

from __future__ import annotations

import numbers
from typing import Any

import pytest
from sklearn.base import clone

from persona_rec.exceptions import InvalidParameterError


def _numeric_param(model: Any) -> str | None:
    for name, value in model.get_params(deep=False).items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return name
    return None


def test_sklearn_clone(model_case: Any) -> None:
    _, factory, _ = model_case
    model = factory()
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert copy._json_params() == model._json_params()
    assert not copy.is_fitted
    assert set(model.get_params(deep=True)) >= set(model.get_params(deep=False))


def test_set_params_round_trip(model_case: Any) -> None:
    _, factory, _ = model_case
    model = factory()
    before = model._json_params()
    assert model.set_params(**model.get_params(deep=False)) is model
    assert model._json_params() == before
    assert repr(type(model)(**model.get_params(deep=False))) == repr(model)


def test_set_params_validates(model_case: Any) -> None:
    _, factory, _ = model_case
    model = factory()
    before = model._json_params()
    with pytest.raises(InvalidParameterError, match="not a parameter"):
        model.set_params(no_such_parameter=1)
    name = _numeric_param(model)
    if name is None:  # FallbackChain: its parameters are models and a bool
        name = "fit_links"
    with pytest.raises((ValueError, TypeError), match=name):
        model.set_params(**{name: "not a number"})
    assert model._json_params() == before  # a rejected value leaves the model unchanged


def test_set_params_keeps_learned_state(model_case: Any, block_dataset: Any,
                                        block_profiles: Any) -> None:
    _, factory, options = model_case
    model = factory().fit(block_dataset, block_profiles if options.get("profiles") else None)
    users = block_dataset.user_map.external_ids[:3]
    expected = model.recommend(users, k=3)
    model.set_params(**model.get_params(deep=False))
    assert model.is_fitted
    assert model.recommend(users, k=3).equals(expected)

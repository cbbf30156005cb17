"""scikit-learn's parameter protocol, shared by models, profile builders and metrics.

A class that mixes in :class:`ParamsMixin` stores each ``__init__`` argument
under its own name (validated, nothing learned). It then gets

* ``get_params(deep=True)``: the constructor arguments; with ``deep=True``
  the parameters of nested objects that have ``get_params`` too, as
  ``"<param>__<nested param>"`` (scikit-learn's convention);
* ``set_params(**params)``: change parameters (nested ones with ``__``) and
  return ``self``. The new configuration is validated exactly as at
  construction: the constructor is run on it and, only when it succeeds,
  its validated attributes are copied onto ``self``; so an invalid value
  raises the constructor's typed error and leaves ``self`` unchanged;
* ``clone()``: an unfitted copy (nested parameter objects cloned too);
* ``repr()``: ``Name(param=value, ...)`` from the same parameters, leaving out
  those that :meth:`ParamsMixin._repr_omitted` names (parameters that carry
  data, such as a metric's training Dataset, rather than configuration).

so that :func:`sklearn.base.clone`, grid searches and pipelines work without
scikit-learn being imported by persona_rec. The parameters are declared once,
by the ``__init__`` signature: this is the one configuration convention of
models, profile builders, metrics and the other estimators (BG/NBD,
Gamma-Gamma, k-means segmenter, learned propensity, Spark ALS); none of them
writes its own ``get_params`` or ``__repr__``. Model files store
``get_params(deep=False)`` (see :mod:`persona_rec.persistence`) and profile
files the builders' parameters the same way.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from .exceptions import InvalidParameterError

__all__ = ["ParamsMixin"]

P = TypeVar("P", bound="ParamsMixin")


class ParamsMixin:
    """``get_params``/``set_params`` from the ``__init__`` signature.

    Examples
    --------
    >>> from persona_rec.models import PopularRecommender
    >>> model = PopularRecommender(window_days=30)
    >>> model.set_params(by="weight").get_params()
    {'window_days': 30.0, 'by': 'weight'}
    >>> model
    PopularRecommender(window_days=30.0, by='weight')
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (the configuration).

        Parameters
        ----------
        deep : bool, default True
            Also return the parameters of nested objects that have
            ``get_params`` (e.g. the builders of a ``ProfileBuilder``), as
            ``"<param>__<nested param>"``.

        Returns
        -------
        dict
            Parameter name -> value; ``type(self)(**get_params(deep=False))``
            builds an unfitted copy.
        """
        out: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params(deep=True).items():
                    out[f"{name}__{key}"] = sub
        return out

    def set_params(self: P, **params: Any) -> P:
        """Set parameters, validated as at construction, and return ``self``.

        Parameters
        ----------
        **params
            ``name=value``; ``"<param>__<nested param>"`` sets a parameter of
            a nested object.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A name is not a parameter, or a value fails the constructor's
            validation (then its own typed error is raised, e.g.
            ``InvalidParameterError`` or ``InvalidDtypeError``), and ``self``
            is unchanged.
        """
        if not params:
            return self
        names = self._param_names()
        own: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in names:
                raise InvalidParameterError(
                    f"{type(self).__name__}.set_params: {key!r} is not a parameter; "
                    f"parameters: {sorted(names)}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                own[name] = value
        current = self.get_params(deep=False)
        for name, sub_params in nested.items():
            target = own.get(name, current[name])
            if not hasattr(target, "set_params"):
                raise InvalidParameterError(
                    f"{type(self).__name__}.set_params: parameter {name!r} holds "
                    f"{type(target).__name__}, which has no nested parameters to set "
                    f"({sorted(sub_params)})."
                )
            own[name] = target.set_params(**sub_params)  # in place, as scikit-learn does
        validated = type(self)(**{**current, **own})  # the constructor validates
        for attr, value in vars(validated).items():
            if not (attr.endswith("_") and not attr.startswith("_")):  # keep learned state
                setattr(self, attr, value)
        return self

    def _repr_omitted(self) -> tuple[str, ...]:
        """Parameters left out of ``repr`` (default: none)."""
        return ()

    def __repr__(self) -> str:
        omitted = set(self._repr_omitted())
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                         if k not in omitted)
        return f"{type(self).__name__}({args})"

    def clone(self: P) -> P:
        """Return an unfitted copy with the same configuration (nested objects cloned).

        Returns
        -------
        object
            A new instance of the same class.
        """
        params = {k: _copy_params(v) for k, v in self.get_params(deep=False).items()}
        return type(self)(**params)


def _copy_params(value: Any) -> Any:
    """Unfitted copy of parameter objects (lists/tuples of them too); other values as is."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        if hasattr(value, "clone"):
            return value.clone()
        return type(value)(**value.get_params(deep=False))
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_params(v) for v in value)
    return value

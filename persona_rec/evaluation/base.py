"""The base of every metric: :class:`Metric` and the checks all families share.

The families live in :mod:`~persona_rec.evaluation.accuracy` (ranking metrics
against a test set), :mod:`~persona_rec.evaluation.beyond_accuracy` (coverage,
novelty, popularity bias, diversity) and
:mod:`~persona_rec.evaluation.item_features` (the features diversity reads);
:mod:`~persona_rec.evaluation.metrics` gathers them and computes several at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._params import ParamsMixin
from .._validation import check_int
from ..exceptions import EmptyInputError, InvalidDtypeError, InvalidParameterError

__all__ = ["Metric"]


# --------------------------------------------------------------------- base
class Metric(ParamsMixin):
    """Base class of every metric.

    ``get_params``/``set_params``/``repr`` come from the ``__init__``
    signature (:class:`~persona_rec._params.ParamsMixin`: constructor
    arguments, validated again by ``set_params``), so
    :func:`sklearn.base.clone` works; ``repr`` leaves out the context
    parameters named in :attr:`needs`.

    Subclasses set :attr:`per_user` (False for catalog-level metrics such as
    coverage) and :attr:`needs` (context such as ``"train"`` or
    ``"catalog"`` that :meth:`bind` can fill from a training Dataset).
    """

    #: Whether the metric has a value per user (and thus a mean over users).
    per_user: bool = True
    #: Whether the metric needs the ``test`` frame.
    needs_test: bool = True
    #: Context attributes that :meth:`bind` fills from a training Dataset.
    needs: tuple[str, ...] = ()

    k: int | None

    @property
    def label(self) -> str:
        """Display name such as ``"NDCG@10"``."""
        name = type(self).__name__
        return f"{name}@{self.k}" if self.k is not None else name

    def _repr_omitted(self) -> tuple[str, ...]:
        """The context parameters (:attr:`needs`): data, not configuration."""
        return self.needs

    def bind(self, train: Any) -> Metric:
        """Return a copy with missing context (``needs``) taken from ``train``.

        Parameters
        ----------
        train : Dataset
            The training Dataset of a split. Novelty and popularity read its
            item popularity, coverage and AUC its item catalog, diversity its
            item attributes.

        Returns
        -------
        Metric
            ``self`` when nothing is missing, else a shallow copy.
        """
        missing = [n for n in self.needs if getattr(self, n) is None]
        if not missing:
            return self
        out = copy.copy(self)
        for name in missing:
            if name == "train":
                out.train = train
            elif name == "catalog":
                out.catalog = train
            elif name == "item_features":
                out.item_features = train
            out._reset_cache()
        return out

    def _reset_cache(self) -> None:
        """Drop context derived from constructor arguments (after :meth:`bind`)."""

    def _check_context(self) -> None:
        for name in self.needs:
            if getattr(self, name) is None:
                raise InvalidParameterError(
                    f"{self.label} needs '{name}' (pass {name}= to {type(self).__name__}(...) "
                    f"or use evaluate(), which takes it from the split's train Dataset)."
                )

    # -- public API -----------------------------------------------------
    def calc(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> float:
        """Value of the metric: mean over evaluated users (or a catalog-level value).

        Parameters
        ----------
        reco : pandas.DataFrame
            Recommendations ``user_id, item_id, rank`` (``score`` optional).
        test : pandas.DataFrame
            Relevant ``user_id, item_id`` pairs. Optional for metrics that do
            not use it (coverage, novelty, diversity, popularity bias).

        Returns
        -------
        float
        """
        raise NotImplementedError

    def calc_per_user(self, reco: pd.DataFrame, test: pd.DataFrame | None = None) -> pd.Series:
        """Value per user, indexed by ``user_id`` and named :attr:`label`.

        Parameters
        ----------
        reco, test : pandas.DataFrame
            See :meth:`calc`.

        Returns
        -------
        pandas.Series of float
        """
        raise NotImplementedError


def _mean(values: np.ndarray) -> float:
    """Mean over defined (non-NaN) values; NaN, without a warning, when none is defined."""
    defined = ~np.isnan(values)
    return float(values[defined].mean()) if defined.any() else float("nan")


#: The ``k`` entry of a metric's Parameters section (the metrics fill it in with fill_doc).
_K_DOC = """k : int
    Cut-off, >= 1."""


def _check_k(k: Any, owner: str, allow_none: bool = False) -> int | None:
    if k is None and allow_none:
        return None
    return check_int(k, "k", minimum=1, owner=owner)


def _require_test(metric: Metric, test: Any) -> None:
    if test is None:
        raise InvalidParameterError(f"{metric.label} needs the 'test' frame of relevant items.")


def _catalog_index(catalog: Any, owner: str) -> tuple[pd.Index | None, int]:
    """Turn a catalog argument into (item index or None, size)."""
    from ..dataset import Dataset

    if isinstance(catalog, Dataset):
        ids = catalog.item_map.external_ids
        return pd.Index(ids), len(ids)
    if isinstance(catalog, (int, np.integer)) and not isinstance(catalog, bool):
        n = check_int(catalog, "catalog", minimum=1, owner=owner)
        return None, n
    if isinstance(catalog, (str, bytes)) or not isinstance(catalog, Iterable):
        raise InvalidDtypeError(
            f"The 'catalog' parameter of {owner} must be a Dataset, an array of item ids or "
            f"an int catalog size, got {type(catalog).__name__}."
        )
    if not isinstance(catalog, (np.ndarray, pd.Index, pd.Series)):
        catalog = list(catalog)
    index = pd.Index(pd.unique(pd.Series(catalog, dtype=None if len(catalog) else object)))
    if len(index) == 0:
        raise EmptyInputError(f"The 'catalog' of {owner} is empty.")
    return index, len(index)

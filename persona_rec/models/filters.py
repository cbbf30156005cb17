"""Item filters applied by every recommender: whitelist, blacklist, business rules.

:func:`build_item_mask` turns the ``items=``, ``exclude=`` and ``item_filter=``
arguments of :meth:`Recommender.recommend` into one boolean mask over the
model's internal items. Business rules are an :class:`ItemFilter` (or a dict
with the same keys) evaluated over the item attributes seen at fit time.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_number, example_values
from .._text import category_item_mask, category_path, resolve_category_sep
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    InvalidValueError,
    MissingColumnError,
)
from ..identifiers import IdMap

__all__ = ["ItemFilter", "build_item_mask", "normalise_category"]


def normalise_category(path: Any) -> str:
    """Normalise a category path for prefix matching.

    The display form ``"Home > Kitchen & Dining"`` and the slug form used by
    profiles and tag ids (``"home/kitchen_dining"``) both map to
    ``"home/kitchen_dining"`` (:func:`persona_rec._text.category_path`).

    Examples
    --------
    >>> normalise_category("Home > Kitchen > Mugs")
    'home/kitchen/mugs'
    >>> normalise_category("home/kitchen")
    'home/kitchen'
    >>> normalise_category("Toys & Kids")
    'toys_kids'
    """
    return category_path(path)


_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def _stock_flags(col: pd.Series, name: str) -> np.ndarray:
    """In-stock flags from bools, 0/1 or yes/no/true/false strings (missing = False)."""
    if col.dtype.kind == "b":
        return col.to_numpy(dtype=bool)
    if col.dtype.kind in "iuf":
        return (col.fillna(0).to_numpy(dtype=np.float64) != 0)
    text = col.dropna().astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        raise InvalidValueError(
            f"item attribute {name!r} must hold booleans, 0/1 or yes/no/true/false, "
            f"got {text[bad].iloc[0]!r}."
        )
    flags = np.zeros(len(col), dtype=bool)
    flags[col.notna().to_numpy()] = text.isin(_TRUE).to_numpy()
    return flags


def _as_str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        out = list(value)
        if not out:
            raise InvalidParameterError(f"ItemFilter.{name} must not be empty.")
        return [str(v) for v in out]
    raise InvalidDtypeError(
        f"ItemFilter.{name} must be a str or a list of str, got {type(value).__name__}."
    )


@dataclass(frozen=True)
class ItemFilter:
    """Business rules over item attributes.

    Every rule that is set must hold for an item to be recommended (rules are
    combined with AND). Items whose attribute is missing fail a rule on that
    attribute (an item without a price is not inside a price band, an item
    without a stock flag is not in stock).

    Parameters
    ----------
    categories : str or list of str, optional
        Keep items whose category path equals or lies under one of these
        paths. ``"Home"`` matches ``"Home > Kitchen > Mugs"``; matching is
        case-insensitive and accepts slug paths (``"home/kitchen"``).
    exclude_categories : str or list of str, optional
        Drop items under one of these paths.
    brands, exclude_brands : str or list of str, optional
        Keep / drop items of these brands (exact match).
    min_price, max_price : float, optional
        Keep items with ``min_price <= price <= max_price``.
    price_band : tuple of (float, float), optional
        Shorthand for ``(min_price, max_price)``; cannot be combined with them.
    in_stock : bool, optional
        If True keep only items whose stock column is truthy (and not missing);
        if False keep only items that are out of stock.
    category_column, brand_column, price_column, stock_column : str
        Attribute column names (defaults ``"category"``, ``"brand"``,
        ``"price"``, ``"in_stock"``).
    category_sep : str, sequence of str or None, default None
        Separator(s) of the levels of the category paths; None uses the
        package default (``">"`` and ``"/"``, see
        :func:`persona_rec.set_category_sep`); ``()`` for flat categories.

    Examples
    --------
    >>> import pandas as pd
    >>> attrs = pd.DataFrame({
    ...     "category": ["Home > Kitchen", "Home > Garden", "Toys"],
    ...     "price": [5.0, 50.0, 8.0],
    ... })
    >>> ItemFilter(categories="home", max_price=10).mask(attrs).tolist()
    [True, False, False]
    """

    categories: Sequence[str] | str | None = None
    exclude_categories: Sequence[str] | str | None = None
    brands: Sequence[str] | str | None = None
    exclude_brands: Sequence[str] | str | None = None
    min_price: float | None = None
    max_price: float | None = None
    price_band: tuple[float, float] | None = None
    in_stock: bool | None = None
    category_column: str = "category"
    brand_column: str = "brand"
    price_column: str = "price"
    stock_column: str = "in_stock"
    category_sep: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.category_sep is not None:
            object.__setattr__(self, "category_sep", resolve_category_sep(self.category_sep))
        for name in ("categories", "exclude_categories", "brands", "exclude_brands"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(_as_str_list(value, name)))
        if self.price_band is not None:
            if self.min_price is not None or self.max_price is not None:
                raise InvalidParameterError(
                    "ItemFilter: give either price_band or min_price/max_price, not both."
                )
            band = self.price_band
            if not isinstance(band, (tuple, list)) or len(band) != 2:
                raise InvalidParameterError(
                    f"ItemFilter.price_band must be a (low, high) pair, got {band!r}."
                )
            object.__setattr__(self, "min_price", band[0])
            object.__setattr__(self, "max_price", band[1])
        for name in ("min_price", "max_price"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, check_number(value, name, owner="ItemFilter"))
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise InvalidParameterError(
                f"ItemFilter: min_price ({self.min_price}) must be <= max_price "
                f"({self.max_price})."
            )
        if self.in_stock is not None and not isinstance(self.in_stock, (bool, np.bool_)):
            raise InvalidParameterError(
                f"ItemFilter.in_stock must be True, False or None, got {self.in_stock!r}."
            )

    @classmethod
    def from_any(cls, value: ItemFilter | Mapping[str, Any]) -> ItemFilter:
        """Build an ItemFilter from an ItemFilter or a dict of its fields."""
        if isinstance(value, ItemFilter):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise InvalidParameterError(
                    f"item_filter has unknown key(s) {unknown}; allowed: {sorted(known)}."
                )
            return cls(**dict(value))
        raise InvalidDtypeError(
            f"item_filter must be an ItemFilter or a dict, got {type(value).__name__}."
        )

    def _column(self, attrs: pd.DataFrame, column: str, rule: str) -> pd.Series:
        if column not in attrs.columns:
            raise MissingColumnError(
                f"item_filter rule '{rule}' needs item attribute column '{column}', but the "
                f"items have {list(attrs.columns)}."
            )
        return attrs[column]

    def mask(self, attrs: pd.DataFrame) -> np.ndarray:
        """Evaluate the rules over ``attrs`` (one row per item).

        Parameters
        ----------
        attrs : pandas.DataFrame
            Item attributes, one row per item.

        Returns
        -------
        numpy.ndarray of bool
            True where the item passes every rule.
        """
        keep = np.ones(len(attrs), dtype=bool)
        if self.categories is not None or self.exclude_categories is not None:
            rule = "categories" if self.categories is not None else "exclude_categories"
            raw = self._column(attrs, self.category_column, rule)
            missing = raw.isna().to_numpy()
            if self.categories is not None:
                keep &= category_item_mask(raw, self.categories, sep=self.category_sep) & ~missing
            if self.exclude_categories is not None:
                keep &= ~category_item_mask(raw, self.exclude_categories, sep=self.category_sep)
        if self.brands is not None or self.exclude_brands is not None:
            rule = "brands" if self.brands is not None else "exclude_brands"
            col = self._column(attrs, self.brand_column, rule).astype(object)
            if self.brands is not None:
                keep &= col.isin(list(self.brands)).to_numpy()
            if self.exclude_brands is not None:
                keep &= ~col.isin(list(self.exclude_brands)).to_numpy()
        if self.min_price is not None or self.max_price is not None:
            col = self._column(attrs, self.price_column, "min_price/max_price")
            price = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
            ok = ~np.isnan(price)
            if self.min_price is not None:
                ok &= price >= self.min_price
            if self.max_price is not None:
                ok &= price <= self.max_price
            keep &= ok
        if self.in_stock is not None:
            col = self._column(attrs, self.stock_column, "in_stock")
            present = col.notna().to_numpy()
            flag = _stock_flags(col, self.stock_column)
            keep &= (flag & present) if self.in_stock else (~flag & present)
        return keep


def build_item_mask(
    item_map: IdMap,
    item_attributes: pd.DataFrame | None,
    items: Any = None,
    exclude: Any = None,
    item_filter: ItemFilter | Mapping[str, Any] | None = None,
) -> np.ndarray | None:
    """Combine whitelist, blacklist and business rules into one item mask.

    Parameters
    ----------
    item_map : IdMap
        The model's item id map.
    item_attributes : pandas.DataFrame or None
        Item attributes aligned to ``item_map`` (row ``i`` = item ``i``).
    items : array-like, optional
        Whitelist of external item ids. Ids unknown to the model cannot be
        recommended; they are reported with a ``UserWarning``.
    exclude : array-like, optional
        Blacklist of external item ids (unknown ids are ignored: excluding
        them is a no-op).
    item_filter : ItemFilter or dict, optional
        Business rules over ``item_attributes``.

    Returns
    -------
    numpy.ndarray of bool or None
        ``None`` when no filter was given (everything allowed).
    """
    n = len(item_map)
    if items is None and exclude is None and item_filter is None:
        return None
    mask = np.ones(n, dtype=bool)
    if items is not None:
        idx = item_map.to_internal(items, strict=False, what="item_id")
        if (idx < 0).any():
            unknown = np.asarray(items, dtype=object)[idx < 0] if not isinstance(items, str) \
                else np.asarray([items], dtype=object)
            warnings.warn(
                f"items= whitelist: {int((idx < 0).sum())} item id(s) are unknown to the model "
                f"and cannot be recommended, e.g. {example_values(unknown)}.",
                UserWarning,
                stacklevel=3,
            )
        mask[:] = False
        mask[idx[idx >= 0]] = True
    if exclude is not None:
        idx = item_map.to_internal(exclude, strict=False, what="item_id")
        mask[idx[idx >= 0]] = False
    if item_filter is not None:
        rules = ItemFilter.from_any(item_filter)
        attrs = item_attributes if item_attributes is not None else pd.DataFrame(index=range(n))
        if len(attrs) != n:
            raise InvalidParameterError(
                f"item attributes have {len(attrs)} rows but the model knows {n} items."
            )
        mask &= rules.mask(attrs)
    return mask

"""ItemFilter business rules and the whitelist/blacklist mask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_rec import IdMap
from persona_rec.exceptions import InvalidDtypeError, InvalidParameterError, MissingColumnError
from persona_rec.models import ItemFilter, build_item_mask


@pytest.fixture
def attrs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["Home > Kitchen > Mugs", "Home > Garden", "Homeware", None, "Toys"],
            "brand": ["acme", "acme", "zeta", "zeta", None],
            "price": [5.0, 50.0, np.nan, 12.0, 8.0],
            "in_stock": [True, False, True, None, True],
        },
        index=pd.Index(["a", "b", "c", "d", "e"], name="item_id"),
    )


def test_category_prefix_matches_whole_levels(attrs: pd.DataFrame) -> None:
    assert ItemFilter(categories="Home").mask(attrs).tolist() == [True, True, False, False, False]
    assert ItemFilter(categories="home/kitchen").mask(attrs).tolist() == [
        True, False, False, False, False]
    # exclusion keeps items without a category
    assert ItemFilter(exclude_categories=["HOME"]).mask(attrs).tolist() == [
        False, False, True, True, True]


def test_price_stock_brand_rules(attrs: pd.DataFrame) -> None:
    assert ItemFilter(min_price=6, max_price=20).mask(attrs).tolist() == [
        False, False, False, True, True]
    assert ItemFilter(price_band=(0, 10)).mask(attrs).tolist() == [True, False, False, False, True]
    assert ItemFilter(in_stock=True).mask(attrs).tolist() == [True, False, True, False, True]
    assert ItemFilter(in_stock=False).mask(attrs).tolist() == [False, True, False, False, False]
    assert ItemFilter(brands="acme").mask(attrs).tolist() == [True, True, False, False, False]
    assert ItemFilter(exclude_brands=["acme"]).mask(attrs).tolist() == [
        False, False, True, True, True]
    both = ItemFilter(categories="home", in_stock=True, max_price=10)
    assert both.mask(attrs).tolist() == [True, False, False, False, False]


def test_filter_validation(attrs: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match=r"min_price \(9.0\) must be <= max_price"):
        ItemFilter(min_price=9, max_price=1)
    with pytest.raises(InvalidParameterError, match="either price_band or min_price"):
        ItemFilter(price_band=(1, 2), min_price=0)
    with pytest.raises(InvalidParameterError, match="'max_price' parameter of ItemFilter"):
        ItemFilter(max_price="cheap")
    with pytest.raises(InvalidParameterError, match=r"unknown key\(s\) \['colour'\]"):
        ItemFilter.from_any({"colour": "red"})
    with pytest.raises(InvalidDtypeError, match="item_filter must be an ItemFilter or a dict"):
        ItemFilter.from_any("Home")
    with pytest.raises(MissingColumnError, match="rule 'in_stock' needs item attribute column "
                                                 "'stock'"):
        ItemFilter(in_stock=True, stock_column="stock").mask(attrs)


def test_build_item_mask(attrs: pd.DataFrame) -> None:
    imap = IdMap(attrs.index.to_numpy())
    assert build_item_mask(imap, attrs) is None
    m = build_item_mask(imap, attrs, items=["a", "b", "e"], exclude=["b", "unknown"])
    assert m.tolist() == [True, False, False, False, True]
    with pytest.warns(UserWarning, match="1 item id\\(s\\) are unknown.*'zz'"):
        m = build_item_mask(imap, attrs, items=["a", "zz"])
    assert m.tolist() == [True, False, False, False, False]
    m = build_item_mask(imap, attrs, item_filter={"categories": "Home"}, exclude="a")
    assert m.tolist() == [False, True, False, False, False]


def test_slug_forms_and_unknown_categories() -> None:
    from persona_rec.exceptions import UnknownIdError

    items = pd.DataFrame({"category": ["Toys & Kids > Games", "Kitchen > Mugs & Cups",
                                       "Kitchen > Plates", None]})
    keep = ItemFilter(categories=["toys_kids"]).mask(items)
    assert keep.tolist() == [True, False, False, False]
    keep = ItemFilter(categories=["kitchen/mugs_cups", "Toys & Kids"]).mask(items)
    assert keep.tolist() == [True, True, False, False]
    assert ItemFilter(exclude_categories=["kitchen"]).mask(items).tolist() == [
        True, False, False, True]
    with pytest.raises(UnknownIdError, match=r"category 'kitchn' .*matches no item's category; "
                                             r"top-level categories are \['kitchen', 'toys_kids'\]"):
        ItemFilter(categories=["kitchn"]).mask(items)


def test_in_stock_parses_text_flags_strictly() -> None:
    from persona_rec.exceptions import InvalidValueError

    items = pd.DataFrame({"in_stock": ["yes", "no", "False", "1", None]})
    assert ItemFilter(in_stock=True).mask(items).tolist() == [True, False, False, True, False]
    assert ItemFilter(in_stock=False).mask(items).tolist() == [False, True, True, False, False]
    with pytest.raises(InvalidValueError, match=r"'in_stock' must hold booleans.*got 'maybe'"):
        ItemFilter(in_stock=True).mask(pd.DataFrame({"in_stock": ["yes", "maybe"]}))

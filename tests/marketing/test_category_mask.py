"""category_item_mask: display and slug (tag-id) forms agree; typos raise instead of selecting nobody."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec.dataset import Dataset
from persona_rec.exceptions import InvalidValueError, UnknownIdError
from persona_rec.marketing.propensity import affinity_propensity, category_item_mask

CATS = pd.Series(["Toys & Kids > Toys & Games", "Kitchen > Mugs & Cups", "Kitchen", None, "Homeware"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Toys & Kids", [True, False, False, False, False]),
        ("toys_kids", [True, False, False, False, False]),  # slug form, as in 'interest/toys_kids'
        ("toys_kids/toys_games", [True, False, False, False, False]),
        ("kitchen/mugs_cups", [False, True, False, False, False]),
        ("Kitchen > Mugs & Cups", [False, True, False, False, False]),
        ("KITCHEN", [False, True, True, False, False]),
        (["toys_kids", "homeware"], [True, False, False, False, True]),
    ],
)
def test_display_and_slug_forms_match(query, expected) -> None:
    assert category_item_mask(CATS, query).tolist() == expected


def test_a_prefix_must_end_at_a_level() -> None:
    with pytest.raises(UnknownIdError, match="category 'home'"):  # 'Homeware' is not under 'home'
        category_item_mask(CATS, ["homeware", "home"])


def test_unknown_category_names_the_value_and_the_known_ones() -> None:
    with pytest.raises(UnknownIdError, match=r"category 'Kitchn' .*matches no item.*'kitchen'"):
        category_item_mask(CATS, "Kitchn")


@pytest.mark.parametrize("bad", ["", " > ", "&", []])
def test_empty_category_is_rejected(bad) -> None:
    with pytest.raises(InvalidValueError, match="category must name"):
        category_item_mask(CATS, bad)


def test_affinity_propensity_accepts_the_tag_slug_and_rejects_typos() -> None:
    inter = pd.DataFrame({
        "user_id": ["a", "b", "b"],
        "item_id": ["m", "t", "m"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2023-01-01"]),
        "event": "purchase",
    })
    items = pd.DataFrame({"item_id": ["m", "t"], "category": ["Kitchen > Mugs & Cups", "Toys & Kids"]})
    ds = Dataset.from_frames(inter, items=items)
    display = affinity_propensity(ds, "Kitchen > Mugs & Cups", as_of="2024-02-01")
    slug = affinity_propensity(ds, "kitchen/mugs_cups", as_of="2024-02-01")
    pd.testing.assert_series_equal(display, slug)
    assert display["a"] > display["b"] > 0
    with pytest.raises(UnknownIdError, match="toys_kid"):
        affinity_propensity(ds, "toys_kid", as_of="2024-02-01")

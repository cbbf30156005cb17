"""A tiny literal shop whose profile values are computed by hand in the tests."""

from __future__ import annotations

import pandas as pd
import pytest

from persona_rec import Dataset

AS_OF = pd.Timestamp("2024-03-01")


def tiny_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Interactions, users and items of the hand-computed example.

    - ``a``: three orders (2024-01-01 two lines, 2024-01-31, 2024-02-20), one view.
    - ``b``: view -> cart -> purchase of i1 at a discount on 2024-02-25 (new).
    - ``c``: attribute-only (registered, no events).
    - ``d``: one view, no purchase, no attributes.
    - ``e``, ``f``, ``g``: two orders of i3 each, 30/30/410 days apart
      (churned / at risk / reactivated at as_of).
    """
    rows = [
        # user, item, timestamp, event, quantity, price, order_id
        ("a", "i1", "2024-01-01 10:00", "purchase", 2, 10.0, "o1"),
        ("a", "i2", "2024-01-01 10:05", "purchase", 1, 18.0, "o1"),
        ("a", "i3", "2024-01-20 15:00", "view", 1, 30.0, None),
        ("a", "i1", "2024-01-31 10:00", "purchase", 1, 10.0, "o2"),
        ("a", "i3", "2024-02-20 10:00", "purchase", 1, 30.0, "o3"),
        ("b", "i1", "2024-02-25 09:00", "view", 1, 8.0, None),
        ("b", "i1", "2024-02-25 09:10", "cart", 1, 8.0, None),
        ("b", "i1", "2024-02-25 09:20", "purchase", 1, 8.0, "o4"),
        ("d", "i2", "2024-02-10 12:00", "view", 1, 20.0, None),
        ("e", "i3", "2023-09-01", "purchase", 1, 30.0, "o5"),
        ("e", "i3", "2023-10-01", "purchase", 1, 30.0, "o6"),
        ("f", "i3", "2023-12-01", "purchase", 1, 30.0, "o7"),
        ("f", "i3", "2023-12-31", "purchase", 1, 30.0, "o8"),
        ("g", "i3", "2023-01-01", "purchase", 1, 30.0, "o9"),
        ("g", "i3", "2024-02-15", "purchase", 1, 30.0, "o10"),
    ]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "event", "quantity",
                                        "price", "order_id"])
    inter["timestamp"] = pd.to_datetime(inter["timestamp"], format="ISO8601")
    users = pd.DataFrame({
        "user_id": ["a", "b", "c"],
        "age": [30, 17, 70],
        "gender": ["F", "M", "F"],
        "country": ["UK", "France", "UK"],
        "registration_date": ["2023-12-01", "2024-02-20", "2024-04-01"],
    })
    items = pd.DataFrame({
        "item_id": ["i1", "i2", "i3"],
        "category": ["Home > Kitchen > Mugs", "Home > Kitchen > Plates", "Garden > Tools"],
        "brand": ["Acme", "Acme", "Green Co"],
        "price": [10.0, 20.0, 30.0],
        "first_seen": ["2023-06-01", "2023-12-20", "2024-02-01"],
    })
    return inter, users, items


@pytest.fixture
def tiny_dataset() -> Dataset:
    """The hand-computed example as a Dataset."""
    inter, users, items = tiny_frames()
    return Dataset.from_frames(inter, users=users, items=items)

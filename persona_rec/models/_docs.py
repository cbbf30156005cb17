"""Docstring fragments the model classes share (filled in with :func:`~persona_rec._text.fill_doc`)."""

from __future__ import annotations

#: The opening lines of the models' Examples: five events of three users
#: over items ``a`` and ``b`` (user 3 has only ``a``), bound to ``inter``.
TOY_INTERACTIONS = """
>>> import pandas as pd
>>> from persona_rec import Dataset
>>> inter = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "a", "b", "a"],
...                       "timestamp": pd.date_range("2024-01-01", periods=5)})
"""

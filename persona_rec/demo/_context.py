"""What the demo sections share: the context they pass on, the split time and the text table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..dataset import Dataset

__all__ = ["DemoContext", "format_table", "split_time"]


@dataclass
class DemoContext:
    """State shared by demo sections.

    Parameters
    ----------
    dataset : Dataset
        The data the demo runs on.
    source : str
        Human-readable description of where the data came from.
    random_state : int
        Seed passed to every stochastic step.
    results : dict
        What earlier sections stored for later ones (``"profiles"``,
        ``"user_tags"``, ``"model"``, ``"audience"``, ``"plan"``).
    """

    dataset: Dataset
    source: str = ""
    random_state: int = 0
    results: dict[str, Any] = field(default_factory=dict)


def split_time(dataset: Dataset) -> pd.Timestamp:
    """The demo's train/test cut: 2011-11-09 when the data covers it (Online Retail), else
    30 days before the last event (at midnight).

    Parameters
    ----------
    dataset : Dataset
        Data with timestamps.

    Returns
    -------
    pandas.Timestamp

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 2], "item_id": [7, 8],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-03-15"])})
    >>> split_time(Dataset.from_frames(inter))
    Timestamp('2024-02-14 00:00:00')
    """
    first, last = dataset.time_range
    t = pd.Timestamp("2011-11-09")
    if not first < t < last:
        t = (last - pd.Timedelta(days=30)).normalize()
    return t


def format_table(frame: pd.DataFrame, *, floatfmt: str = "{:,.3f}", index: bool = False) -> str:
    """Render a DataFrame as a plain-text table for terminal reports.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    floatfmt : str, default "{:,.3f}"
        Format applied to float cells.
    index : bool, default False
        Whether to print the index.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> print(format_table(pd.DataFrame({"model": ["a", "b"], "ndcg": [0.12345, 0.5]})))
    model  ndcg
        a 0.123
        b 0.500
    """
    formatters = {
        c: (lambda v, f=floatfmt: "" if pd.isna(v) else f.format(v))
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    return frame.to_string(index=index, formatters=formatters)

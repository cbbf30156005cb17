"""The first two sections of ``persona-rec demo``: what the data holds and what cleaning removed."""

from __future__ import annotations

from ..dataset import Dataset

__all__ = ["cleaning_section", "dataset_section"]


def dataset_section(dataset: Dataset, source: str = "") -> str:
    """Sizes, time range, attributes and event types of ``dataset``, one per line.

    Parameters
    ----------
    dataset : Dataset
    source : str, optional
        Where the data came from (printed first).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [7, 8, 7],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-10"])})
    >>> print(dataset_section(Dataset.from_frames(inter), "a literal table").splitlines()[1])
    interactions         : 3
    """
    s = dataset.summary()
    lines = [
        f"source               : {source}",
        f"interactions         : {s['interactions']:,}",
        f"users                : {s['users']:,} ({s['users_with_interactions']:,} with "
        f"interactions, {s['attribute_only_users']:,} attribute-only)",
        f"items                : {s['items']:,} ({s['items_with_interactions']:,} with interactions)",
        f"density              : {s['density']:.4%}",
        f"time range           : {s['first_event']} .. {s['last_event']}",
        f"user attributes      : {', '.join(map(str, s['user_attributes'])) or '-'}",
        f"item attributes      : {', '.join(map(str, s['item_attributes'])) or '-'}",
        f"sensitive columns    : {', '.join(s['sensitive_columns']) or '-'}",
    ]
    if "events" in s:
        lines.append("events               : " + ", ".join(f"{k}={v:,}" for k, v in s["events"].items()))
    return "\n".join(lines)


def cleaning_section(dataset: Dataset) -> str:
    """The cleaning reports of ``dataset`` (every row removed, per reason), or a note that none was needed.

    Parameters
    ----------
    dataset : Dataset

    Returns
    -------
    str
    """
    reports = dataset.cleaning_reports
    if not reports:
        return "no cleaning was needed (every input row was valid)"
    return "\n".join(str(r) for r in reports)

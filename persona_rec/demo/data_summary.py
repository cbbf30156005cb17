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
    >>> from persona_rec.sample_data import synthetic
    >>> text = dataset_section(synthetic(200, 60, 3000, random_state=1).dataset, "synthetic shop")
    >>> print(text.splitlines()[1])
    interactions         : 3,000
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

"""The warning that Spark results do not yet match this version's pandas definitions."""

from __future__ import annotations

import warnings

__all__ = ["SparkParityWarning", "warn_parity"]


class SparkParityWarning(UserWarning):
    """Spark cleaning rules or profile definitions lag the pandas path (see ``docs/scale.md``)."""


def warn_parity(what: str) -> None:
    """Warn that ``what`` follows the 0.1 definitions, not this version's pandas path.

    Parameters
    ----------
    what : str
        The Spark entry point, for the message.
    """
    warnings.warn(
        f"{what} follows the 0.1 cleaning rules and profile definitions; this version's pandas "
        "path changed them (NaN prices on views, duplicate and out-of-range rows as cleaning "
        "reasons, quantity-tier price sensitivity, local hours, known_at_as_of, days_overdue), "
        "so Spark and pandas results differ until the Spark definitions follow (docs/scale.md).",
        SparkParityWarning,
        stacklevel=3,
    )

"""Reports of rows removed while cleaning input data."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["CleaningReport"]


@dataclass
class CleaningReport:
    """How many rows a cleaning step removed, and why.

    Every row removed by persona_rec is counted under exactly one reason (the
    first rule it broke, in the order the rules are applied), so
    ``n_input == n_output + sum(removed.values())`` always holds for each
    frame.

    Parameters
    ----------
    frame : str
        Which input the report is about (e.g. ``"interactions"``).
    n_input : int
        Rows before cleaning.
    removed : dict of str to int
        Rows removed per reason, in the order the rules were applied.
    descriptions : dict of str to str
        Human-readable description of each reason.

    Examples
    --------
    >>> r = CleaningReport("interactions", 10)
    >>> r.add("missing_user_id", 2, "user_id is missing")
    >>> r.n_output
    8
    """

    frame: str
    n_input: int
    removed: dict[str, int] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, count: int, description: str = "") -> None:
        """Record ``count`` rows removed for ``reason`` (zero counts are kept too)."""
        self.removed[reason] = self.removed.get(reason, 0) + int(count)
        if description:
            self.descriptions[reason] = description

    @property
    def n_removed(self) -> int:
        """Total number of removed rows."""
        return int(sum(self.removed.values()))

    @property
    def n_output(self) -> int:
        """Rows left after cleaning."""
        return self.n_input - self.n_removed

    def to_frame(self) -> pd.DataFrame:
        """Return one row per reason: ``frame, reason, rows_removed, description``."""
        return pd.DataFrame(
            {
                "frame": self.frame,
                "reason": list(self.removed),
                "rows_removed": list(self.removed.values()),
                "description": [self.descriptions.get(r, "") for r in self.removed],
            },
            columns=["frame", "reason", "rows_removed", "description"],
        )

    def __str__(self) -> str:
        lines = [f"{self.frame}: {self.n_input:,} rows in, {self.n_output:,} kept, "
                 f"{self.n_removed:,} removed"]
        for reason, n in self.removed.items():
            if n:
                desc = self.descriptions.get(reason, "")
                lines.append(f"  - {reason:<28} {n:>9,}  {desc}")
        return "\n".join(lines)

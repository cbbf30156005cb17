"""Import cost of persona_rec entry points, from ``python -X importtime``.

Each statement runs in a fresh interpreter ``--repeat`` times; the reported
figure is the median total of the top-level imports it triggers (what
``-X importtime`` lists with no indentation), in seconds. ``import pandas``
is measured alongside as the yardstick of the machine's speed.

Usage: ``python benchmarks/import_time.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STATEMENTS = [
    "import persona_rec",
    "import pandas",
    "from persona_rec import Dataset",
    "from persona_rec import PersonaRecommender",
    "from persona_rec.cli import main",
    "import persona_rec.evaluation",
    "import persona_rec.marketing",
]


def import_seconds(statement: str) -> float:
    """Total top-level import time of ``statement`` in a fresh interpreter (seconds)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", statement],
                         capture_output=True, text=True, check=True)
    total = 0
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # one space after '|' = a top-level import
            total += int(cumulative)
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for stmt in STATEMENTS:
        times = [import_seconds(stmt) for _ in range(args.repeat)]
        print(f"{statistics.median(times):7.3f} s  {stmt}")


if __name__ == "__main__":
    main()

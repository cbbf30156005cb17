"""Import cost of persona_rec entry points, from ``python -X importtime``.

Each statement runs in a fresh interpreter ``--repeat`` times; the reported
figure is the median total of the top-level imports it triggers (what
``-X importtime`` lists with no indentation), in seconds. ``import pandas``
is measured alongside as the yardstick of the machine's speed.

``--source DIR`` measures the ``persona_rec`` package found in ``DIR`` instead of
the installed one (e.g. an older commit unpacked with ``git archive``), so before
and after can be measured in one run.

Usage: ``python benchmarks/import_time.py [--repeat 5] [--source DIR]``
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


def _from_source(statement: str, source: str | None) -> str:
    if source is None:
        return statement
    # drop setuptools' editable-install finder so DIR's persona_rec is the one imported
    return ("import sys; sys.meta_path[:] = [f for f in sys.meta_path "
            "if 'editable' not in getattr(f, '__name__', type(f).__name__)]; "
            f"sys.path.insert(0, {source!r}); {statement}")


def import_seconds(statement: str, source: str | None = None) -> float:
    """Total top-level import time of ``statement`` in a fresh interpreter (seconds)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          _from_source(statement, source)],
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
    parser.add_argument("--source", help="folder holding the persona_rec package to measure")
    args = parser.parse_args()
    if args.source:
        check = subprocess.run([sys.executable, "-c", _from_source(
            "import persona_rec; print(persona_rec.__file__)", args.source)],
            capture_output=True, text=True, check=True).stdout.strip()
        print(f"measuring {check}")
    for stmt in STATEMENTS:
        times = [import_seconds(stmt, args.source) for _ in range(args.repeat)]
        print(f"{statistics.median(times):7.3f} s  {stmt}")


if __name__ == "__main__":
    main()

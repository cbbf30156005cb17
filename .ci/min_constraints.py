"""Print pip constraints pinning every declared dependency to its lower bound.

Reads ``pyproject.toml``: the core ``dependencies`` and the extras named on
the command line (default: none). ``name>=X`` becomes ``name==X``; a
dependency without a lower bound is an error, so every floor is tested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(__file__).resolve().parents[1].joinpath("pyproject.toml").read_text())
project = project["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
seen = set()
for req in requirements:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+?)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*(,.*)?", req)
    if m is None:
        if req.split(">")[0].split("[")[0].strip().lower() == "persona-rec":
            continue  # an extra naming other extras of this project
        sys.exit(f"min_constraints: {req!r} has no '>=' lower bound")
    name = m.group(1).lower()
    if name not in seen:
        seen.add(name)
        print(f"{name}=={m.group(3)}")

"""Print pip constraints pinning every declared dependency to its lower bound.

Reads ``pyproject.toml``: the core ``dependencies`` and the extras named on
the command line (default: none). ``name>=X`` becomes ``name==X``; a
dependency without a lower bound is an error, so every floor is tested.

With ``--check`` first, print the installed versions instead and exit 1 when
one differs from its floor (proof that the environment really is at the floors).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(__file__).resolve().parents[1].joinpath("pyproject.toml").read_text())
project = project["project"]
args = sys.argv[1:]
check = bool(args) and args[0] == "--check"
if check:
    args = args[1:]
requirements = list(project["dependencies"])
for extra in args:
    requirements += project["optional-dependencies"][extra]
seen = set()
failed = False
for req in requirements:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+?)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*(,.*)?", req)
    if m is None:
        if req.split(">")[0].split("[")[0].strip().lower() == "persona-rec":
            continue  # an extra naming other extras of this project
        sys.exit(f"min_constraints: {req!r} has no '>=' lower bound")
    name = m.group(1).lower()
    if name in seen:
        continue
    seen.add(name)
    if not check:
        print(f"{name}=={m.group(3)}")
        continue
    from importlib.metadata import version
    from packaging.version import Version

    installed = version(name)
    ok = Version(installed) == Version(m.group(3))
    print(f"{name:<16} floor {m.group(3):<10} installed {installed:<10} {'ok' if ok else 'DIFFERS'}")
    if not ok:
        failed = True
if check and failed:
    sys.exit("min_constraints: the environment is not at the declared floors")

"""Import cost: ``import persona_rec`` is cheap, heavy libraries load only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import persona_rec


def _loaded(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"{code}; import sys; print(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=300).stdout.strip()
    return eval(out)  # a printed list of str


# (pyarrow is left out: pandas >= 3 imports it by itself when it is installed)
HEAVY = ("lightfm", "sklearn", "scipy.stats", "matplotlib", "lightgbm", "implicit")


def test_import_persona_rec_loads_no_heavy_library() -> None:
    assert _loaded("import persona_rec", ("pandas", "numpy", "scipy", "pyarrow") + HEAVY) == []


def test_flagship_path_and_cli_load_only_what_they_use() -> None:
    code = ("from persona_rec import Dataset, PersonaRecommender; import persona_rec.models; "
            "import persona_rec.evaluation, persona_rec.marketing, persona_rec.profiles; "
            "import persona_rec.cli")
    assert _loaded(code, HEAVY) == []
    assert _loaded("import persona_rec.cli", ("pandas", "numpy")) == []  # --help stays fast


def test_lazy_names_resolve() -> None:
    from persona_rec.dataset import Dataset

    assert persona_rec.Dataset is Dataset
    assert set(persona_rec.__all__) <= set(dir(persona_rec))
    for name in persona_rec.__all__:
        assert getattr(persona_rec, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        persona_rec.nope  # noqa: B018

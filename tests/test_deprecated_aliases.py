"""Renamed modules keep their old import paths for a release, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

#: old module -> new module (docs/architecture.md, "Names that say their job").
RENAMED = {
    "persona_rec.datasets": "persona_rec.sample_data",
    "persona_rec.marketing.evaluation": "persona_rec.marketing.campaign_analysis",
    "persona_rec.marketing.stats": "persona_rec.marketing.ab_stats",
    "persona_rec.evaluation.stats": "persona_rec.evaluation.significance",
}


def _import_fresh(name: str):
    sys.modules.pop(name, None)  # the doctest run may have imported it already
    return importlib.import_module(name)


@pytest.mark.parametrize(("old", "new"), RENAMED.items())
def test_the_old_path_warns_and_hands_on_the_same_objects(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated: it is now {new} "):
        alias = _import_fresh(old)
    target = importlib.import_module(new)
    assert alias.__all__ == target.__all__ and len(target.__all__) > 1
    for name in target.__all__:
        assert getattr(alias, name) is getattr(target, name)


def test_the_warning_points_at_the_importing_code(tmp_path) -> None:
    # in a fresh interpreter: pytest's own import hooks would add frames of their own here
    script = tmp_path / "user_code.py"
    script.write_text("import persona_rec.marketing.stats\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", str(script)],
                         capture_output=True, text=True, check=True, timeout=300)
    assert f"{script}:1: DeprecationWarning: persona_rec.marketing.stats is deprecated" in run.stderr


def test_old_submodule_paths_of_datasets_still_import() -> None:
    from persona_rec.sample_data import synthetic as new_synthetic
    from persona_rec.sample_data.movielens import load_movielens_100k

    with pytest.warns(DeprecationWarning):
        _import_fresh("persona_rec.datasets")
    from persona_rec.datasets import synthetic
    from persona_rec.datasets.movielens import load_movielens_100k as old_loader

    assert synthetic is new_synthetic and old_loader is load_movielens_100k
    assert importlib.import_module("persona_rec.datasets.synthetic") is \
        importlib.import_module("persona_rec.sample_data.synthetic")


def test_the_top_level_attribute_of_the_old_name_still_resolves() -> None:
    import persona_rec

    assert "datasets" not in persona_rec.__all__ and "sample_data" in persona_rec.__all__
    with pytest.warns(DeprecationWarning):
        sys.modules.pop("persona_rec.datasets", None)
        persona_rec.__dict__.pop("datasets", None)
        assert persona_rec.datasets.load_sample is persona_rec.sample_data.load_sample



def _imported_modules(path, root):
    """Absolute names of the modules that the file at ``path`` imports (relative ones resolved)."""
    import ast

    parts = ["persona_rec", *path.relative_to(root).with_suffix("").parts]
    package = parts[:-1]  # __init__.py: the package itself; a module: its package
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            yield from (f"{module}.{a.name}" for a in node.names)


def test_no_module_of_the_package_imports_an_old_path() -> None:
    # the aliases are for user code; the package itself uses the new names
    from pathlib import Path

    import persona_rec

    root = Path(persona_rec.__file__).parent
    aliases = {root / Path(*old.split(".")[1:]) / "__init__.py" if old.count(".") == 1
               else root / Path(*old.split(".")[1:]).with_suffix(".py") for old in RENAMED}
    assert all(p.exists() for p in aliases)
    found = [f"{path.relative_to(root)} imports {name}"
             for path in root.rglob("*.py") if path not in aliases
             for name in _imported_modules(path, root)
             if any(name == old or name.startswith(old + ".") for old in RENAMED)]
    assert found == []
    # the reader resolves relative imports: it sees the new name where the package uses it
    assert "persona_rec.sample_data" in set(_imported_modules(root / "demo" / "__init__.py", root))

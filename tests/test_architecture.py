"""The import structure that docs/architecture.md describes, checked on the code.

Data flows Dataset -> profiles -> tags/segments -> models -> evaluation/marketing, on a ground
floor of shared mechanisms. A module may import from its own floor or from floors below it,
never from above (lazy imports inside functions count too), and no files of different folders
may import each other in a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

import persona_rec

PACKAGE = Path(persona_rec.__file__).parent

#: Floor of each top-level module or sub-package of persona_rec (docs/architecture.md).
FLOORS: dict[str, tuple[float, str]] = {
    **{name: (0, "ground") for name in (
        "exceptions", "columns", "_validation", "_time", "_text", "_arrays", "_types", "_params",
        "_progress", "_lazy", "cleaning", "identifiers", "persistence", "_plotting", "categories",
        "_deprecation",
    )},
    # datasets: the deprecated alias of sample_data (removed in 0.3)
    **{name: (1, "data") for name in ("dataset", "_ingest", "_dataset_io", "sample_data", "datasets")},
    "profiles": (2, "profiles"),
    "tags": (3, "tags"),
    "segments": (3, "segments"),
    "social": (3.5, "social"),
    "feedback": (3.5, "feedback"),
    "content": (3.5, "content"),
    "models": (4, "models"),
    "evaluation": (5, "evaluation"),
    "marketing": (5, "marketing"),
    "spark": (5.5, "spark"),
    "report": (6, "faces"),
    "cli": (6, "faces"),
    "demo": (6, "faces"),
    "__main__": (6, "faces"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("persona_rec",) + path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _from_target(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` statement of module ``name`` (file ``path``) reads."""
    if not node.level:
        return node.module or ""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _import_statements(name: str, path: Path) -> Iterator[tuple[str | None, list[str], int]]:
    """(module a ``from`` import reads, relative ones resolved; the names; line) for every
    import statement of a module, lazy ones included; ``import a.b`` gives (None, ["a.b"], line)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            yield _from_target(name, path, node), [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            yield None, [a.name for a in node.names], node.lineno


def _imports(modules: dict[str, Path]) -> dict[str, set[tuple[str, int]]]:
    """Module -> (imported persona_rec module, line) for every import statement, lazy ones included."""
    edges: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for name, path in modules.items():
        for target, names, line in _import_statements(name, path):
            candidates = names if target is None else [target] + [f"{target}.{n}" for n in names]
            for module in candidates:
                if module in modules and module != name:
                    edges[name].add((module, line))
    return edges


def _floor(module: str) -> tuple[float, str] | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None


MODULES = _modules()
EDGES = _imports(MODULES)

#: Imports allowed to run up the flow: deprecated aliases that hand an old name on to its new
#: home, imported lazily on first use. Each goes when its alias does (0.3).
DEPRECATED_UP = {
    ("persona_rec.profiles", "persona_rec.demo.profiles"),  # profiles.demo_section
}


def test_every_top_level_module_has_a_floor() -> None:
    tops = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    assert tops - set(FLOORS) == set(), "add the new module or package to FLOORS and docs/architecture.md"


def test_the_import_reader_sees_imports() -> None:
    # a reader that found nothing would pass the checks below vacuously
    assert ("persona_rec.tags._grammar" in {t for t, _ in EDGES["persona_rec.tags.rules"]})
    assert sum(len(v) for v in EDGES.values()) > 300


def test_no_import_runs_up_the_flow() -> None:
    up = []
    for source, targets in EDGES.items():
        here = _floor(source)
        for target, line in targets:
            there = _floor(target)
            if (here is not None and there is not None and there[0] > here[0]
                    and (source, target) not in DEPRECATED_UP):
                up.append(f"{source}:{line} imports {target} ({here[1]} -> {there[1]})")
    assert up == []


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the module count (~150)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            out.append(component)

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def _folder(module: str) -> str:
    path = MODULES[module]
    return str(path.parent.relative_to(PACKAGE.parent))


def test_no_import_circle_between_folders() -> None:
    # package faces (__init__.py) hand names on; a circle through one is not a circle of the code
    graph = {s: {t for t, _ in ts if MODULES[t].name != "__init__.py"}
             for s, ts in EDGES.items() if MODULES[s].name != "__init__.py"}
    circles = [sorted(c) for c in _strongly_connected(graph) if len({_folder(m) for m in c}) > 1]
    assert circles == []


@pytest.mark.parametrize("planted", [
    {"a.x": {"b.y"}, "b.y": {"a.x"}},
    {"a.x": {"a.y"}, "a.y": {"b.z"}, "b.z": {"a.x"}},
])
def test_the_circle_finder_finds_a_planted_circle(planted: dict[str, set[str]]) -> None:
    assert any(len(c) >= 2 for c in _strongly_connected(planted))


def _module_names(module: str, tree: ast.Module) -> dict[str, str | ast.expr]:
    """What top-level names of ``module`` stand for: a persona_rec module (``from . import x
    [as y]``) or a list, tuple, set or dict literal assigned to the name."""
    out: dict[str, str | ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            target = _from_target(module, MODULES[module], node)
            for a in node.names:
                if f"{target}.{a.name}" in MODULES:
                    out[a.asname or a.name] = f"{target}.{a.name}"
        elif (isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
              and isinstance(node.value, (ast.List, ast.Tuple, ast.Set, ast.Dict))):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    out[t.id] = node.value
    return out


def _listed_names(module: str, value: ast.expr, scope: dict[str, str | ast.expr]) -> set[str]:
    """The names an ``__all__`` value lists: string literals in a list or tuple, ``+`` of such,
    ``m.__all__`` (or ``*m.__all__`` in a list) of a module ``m`` imported by name, and
    ``list(d)`` of a literal dict or list ``d`` (the lazy-import tables of some packages)."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        out: set[str] = set()
        for e in value.elts:
            out |= (_listed_names(module, e.value, scope) if isinstance(e, ast.Starred)
                    else {ast.literal_eval(e)})
        return out
    if isinstance(value, ast.Dict) and None not in value.keys:
        return {ast.literal_eval(k) for k in value.keys if k is not None}
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _listed_names(module, value.left, scope) | _listed_names(module, value.right, scope)
    if (isinstance(value, ast.Attribute) and value.attr == "__all__"
            and isinstance(value.value, ast.Name) and isinstance(scope.get(value.value.id), str)):
        names = _public_names(str(scope[value.value.id]))
        if names is not None:
            return names
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id in ("list", "tuple", "sorted") and len(value.args) == 1
            and not value.keywords and isinstance(value.args[0], ast.Name)
            and isinstance(scope.get(value.args[0].id), ast.expr)):
        return _listed_names(module, scope[value.args[0].id], scope)  # type: ignore[arg-type]
    raise ValueError(f"{module}: cannot read the names of __all__ from {ast.unparse(value)!r}")


def _public_names(module: str, source: str | None = None) -> set[str] | None:
    """The names ``module`` declares public (its ``__all__``), or None when it declares none.

    ``__all__`` may be assigned and extended (``+=``, ``.extend``, ``.append``) with string
    lists, with the ``__all__`` of modules it imports by name (``from . import splitters``) and
    with the keys of a literal dict; any other form is an error, so no name slips through unread.
    """
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8") if source is None else source)
    scope = _module_names(module, tree)
    names: set[str] | None = None
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and node.value:
            names = (names or set()) | _listed_names(module, node.value, scope)
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Attribute)
              and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id == "__all__"):
            call = node.value
            if call.func.attr not in ("append", "extend") or len(call.args) != 1 or call.keywords:
                raise ValueError(f"{module}: cannot read the names of __all__ from {ast.unparse(call)!r}")
            arg = call.args[0] if call.func.attr == "extend" else ast.List([call.args[0]])
            names = (names or set()) | _listed_names(module, arg, scope)
    return names


def _private_imports(package: str) -> list[str]:
    """Imports of ``package``'s modules that reach into another package's private parts.

    Public means: a module path with no ``_``-prefixed part (``persona_rec.profiles``,
    ``persona_rec.models.persona``), and a name without a leading ``_`` that the module lists
    in its ``__all__``. The package's own modules are free to use each other.
    """
    def private(dotted: str) -> bool:
        return any(p.startswith("_") for p in dotted.split("."))

    bad = []
    for source, path in MODULES.items():
        if not (source == package or source.startswith(package + ".")):
            continue
        for target, names, line in _import_statements(source, path):
            if target is None:  # import persona_rec.x.y
                bad += [f"{source}:{line} imports {n}" for n in names
                        if n.startswith("persona_rec") and not n.startswith(package) and private(n)]
                continue
            if not target.startswith("persona_rec") or target.startswith(package):
                continue
            for name in names:
                full = f"{target}.{name}"
                if full in MODULES:  # a submodule imported by name: judge its path
                    ok = not private(full)
                else:
                    public = _public_names(target) if target in MODULES else None
                    ok = (not private(target) and not name.startswith("_")
                          and (public is None or name in public))
                if not ok:
                    bad.append(f"{source}:{line} imports {name} from {target}")
    return bad


def test_the_demo_uses_only_public_apis() -> None:
    # the demo is a worked example of the API: it may not reach into any package's privates
    assert any(m.startswith("persona_rec.demo.") for m in MODULES)
    assert _private_imports("persona_rec.demo") == []


def test_the_public_api_check_catches_a_private_import() -> None:
    # the same check on a package known to use private helpers finds them
    assert any("_validation" in line for line in _private_imports("persona_rec.marketing"))


def _long_modules_without_a_reason(modules: dict[str, Path], limit: int = 700) -> list[str]:
    """Modules over ``limit`` lines whose docstring does not say why they are one unit."""
    out = []
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > limit:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "hence its length" not in " ".join(doc.split()):
                out.append(f"{name} ({text.count(chr(10))} lines)")
    return sorted(out)


def test_a_long_module_says_why_it_is_one_unit() -> None:
    """Over ~700 lines a module's docstring must say it is one cohesive unit ("hence its length")."""
    assert _long_modules_without_a_reason(_modules()) == []


def test_the_length_check_catches_a_long_module_without_a_reason(tmp_path: Path) -> None:
    long_ = tmp_path / "long.py"
    long_.write_text('"""A module."""\n' + "x = 1\n" * 800, encoding="utf-8")
    said = tmp_path / "said.py"
    said.write_text('"""A module: one cohesive unit, hence its\nlength."""\n' + "x = 1\n" * 800,
                    encoding="utf-8")
    short = tmp_path / "short.py"
    short.write_text('"""A module."""\n' + "x = 1\n" * 10, encoding="utf-8")
    found = _long_modules_without_a_reason({"long": long_, "said": said, "short": short})
    assert found == ["long (801 lines)"]


def test_the_public_names_reader_agrees_with_every_module() -> None:
    # the static reading of __all__ (plain lists and composed ones such as
    # persona_rec.evaluation's "__all__ += splitters.__all__") is what Python makes of it,
    # and every exported name exists
    import importlib
    import warnings

    composed = 0
    for module, path in MODULES.items():
        names = _public_names(module)
        if names is None:
            continue
        composed += "__all__ +=" in path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the deprecated alias modules
            mod = importlib.import_module(module)
        assert names == set(mod.__all__), module
        assert [n for n in mod.__all__ if not hasattr(mod, n)] == [], module
    assert composed >= 1


def test_the_public_names_reader_reads_composed_lists_and_refuses_the_unknown() -> None:
    evaluation = "persona_rec.evaluation"
    base = "from . import splitters\n"
    assert _public_names(evaluation, base + "__all__ = ['a']\n__all__ += splitters.__all__\n") == (
        {"a"} | set(persona_rec.evaluation.splitters.__all__))
    assert _public_names(evaluation, base + "__all__ = [*splitters.__all__, 'b'] + ['c']\n") == (
        {"b", "c"} | set(persona_rec.evaluation.splitters.__all__))
    assert _public_names(evaluation, base + "__all__ = ['a']\n__all__.extend(splitters.__all__)\n"
                         "__all__.append('d')\n") == {"a", "d"} | set(persona_rec.evaluation.splitters.__all__)
    for unreadable in ("__all__ = names()\n", "__all__ = ['a']\n__all__ += other.__all__\n",
                       "__all__ = [n for n in splitters.__all__]\n", "__all__ = ['a']\n__all__.remove('a')\n",
                       "__all__ = []\n__all__.extend(names())\n"):
        with pytest.raises(ValueError, match="cannot read the names of __all__"):
            _public_names(evaluation, base + unreadable)


def test_the_public_api_check_catches_a_name_a_composed_all_does_not_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # persona_rec.evaluation composes its __all__ from its modules' lists: a splitter it exports
    # passes, a name it does not export is still caught
    planted = tmp_path / "planted.py"
    planted.write_text("from persona_rec.evaluation import temporal_split, annotations\n")
    monkeypatch.setitem(MODULES, "persona_rec.demo.planted", planted)
    assert _private_imports("persona_rec.demo") == [
        "persona_rec.demo.planted:1 imports annotations from persona_rec.evaluation"]

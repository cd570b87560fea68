"""Rules of the house that keep the code easy to change, checked on every run: no module grows
past ~400 lines, no two modules share a file name, the start-up path stays light, and no import
cycle is added among the modules in src/ (every import counts: top level, inside functions and
under TYPE_CHECKING). The cycles, long modules and shared names that remain are listed here by
name, so the lists can only shrink."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "fastapi_alembic"
MAX_LINES = 400

#: Modules still over the limit, to be split by concern.
LONG_MODULES: set[str] = set()

#: Cycles still to be broken (each a set of modules importing each other), by a module of each.
KNOWN_CYCLES: set[str] = set()


#: File names still used by more than one module.
SHARED_NAMES: set[str] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _cycles() -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    known = _modules()
    graph = {name: sorted(_imports(name, path, known)) for name, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if position < len(edges):
                work.append((node, position + 1))
                child = edges[position]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_new_import_cycle() -> None:
    cycles = _cycles()
    new = [sorted(c) for c in cycles if not c & KNOWN_CYCLES]
    assert not new, f"import cycles in src/: {new}"
    gone = {name for name in KNOWN_CYCLES if not any(name in c for c in cycles)}
    assert not gone, f"no longer in a cycle (take them off KNOWN_CYCLES): {sorted(gone)}"


#: What the backends' package may import of the rest: the two leaf modules.
DIALECTS_MAY_IMPORT = {"fastapi_alembic.errors", "fastapi_alembic.urls"}


def test_the_dialects_import_nothing_else_of_the_package() -> None:
    """dialects/ is the bottom layer every feature keys its per-backend parts by: it may import
    SQLAlchemy, the standard library, errors.py and urls.py, and nothing else of the package."""
    known = _modules()
    dialects = {
        name: path for name, path in known.items() if name.startswith("fastapi_alembic.dialects")
    }
    assert "fastapi_alembic.dialects.registry" in dialects
    beyond = {
        f"{name} imports {target}"
        for name, path in dialects.items()
        for target in _imports(name, path, known)
        if target not in dialects and target not in DIALECTS_MAY_IMPORT
    }
    assert not beyond, sorted(beyond)


#: The layers, top to bottom (DESIGN.md): a module imports only from its own layer or the ones
#: below, so the facade never leans on its callers and the bottom stays cheap to load. Named by
#: the top-level module or package under fastapi_alembic ("fastapi_alembic": the public surface).
LAYERS: list[tuple[str, ...]] = [
    ("cli", "testing"),
    ("fastapi_alembic",),
    ("migrations",),
    ("integrations",),
    ("jobs",),
    ("workspace", "version_folders"),
    ("adoption", "scaffold", "project_files"),
    (
        "env",
        "migration_guards",
        "database_pinning",
        "env_runs",
        "connect_checks",
        "alembic_cli",
        "reports",
    ),
    ("gate",),
    ("runtime",),
    ("lint", "autogen"),
    ("revisions", "revision_ids", "revision_messages"),
    ("config", "project", "alembic_ini", "database_names", "logs", "exits", "templates"),
    ("dialects",),
    ("urls", "errors", "lazy_names"),
]


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_import_points_down_the_layers() -> None:
    rank = {name: number for number, layer in enumerate(LAYERS) for name in layer}
    known = _modules()
    unplaced = {_layer_of(name) for name in known} - set(rank)
    assert not unplaced, f"modules in no layer (add them to LAYERS): {sorted(unplaced)}"
    upward = {
        f"{name} imports {target}"
        for name, path in known.items()
        for target in _imports(name, path, known)
        if rank[_layer_of(target)] < rank[_layer_of(name)]
    }
    assert not upward, f"imports against the layers: {sorted(upward)}"


def _absolute_imports(path: Path) -> set[str]:
    """Every absolute import in a file, at any level: ``import a.b`` gives a.b, and
    ``from a import b`` gives a and a.b (b may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


#: What the start-up path may not import at any level (the gate's budget): the engine, the
#: command line's libraries and the linter's parser.
GATE_MAY_NOT_IMPORT = ("alembic", "typer", "rich", "click", "sqlglot")


def test_the_gate_names_no_heavy_import() -> None:
    """Statically, so an import inside a function that the start-up test does not call still
    counts."""
    found = set()
    for path in (PACKAGE / "gate").glob("*.py"):
        found |= {
            f"{path.name} imports {name}"
            for name in _absolute_imports(path)
            if name.split(".")[0] in GATE_MAY_NOT_IMPORT
        }
    assert not found, sorted(found)


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    global PACKAGE, SRC, LAYERS
    saved = PACKAGE, SRC, LAYERS
    package = tmp_path / "demo"
    (package / "low").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low" / "__init__.py").write_text("")
    (package / "high.py").write_text("")
    (package / "low" / "leaf.py").write_text("def f():\n    from demo import high\n")
    PACKAGE, SRC, LAYERS = package, tmp_path, [("demo",), ("high",), ("low",)]
    try:
        with pytest.raises(AssertionError, match=re.escape("demo.low.leaf imports demo.high")):
            test_every_import_points_down_the_layers()
    finally:
        PACKAGE, SRC, LAYERS = saved


def test_the_cycle_finder_sees_a_cycle(tmp_path: Path) -> None:
    # The finder above, on a package made to hold one cycle through a function-level import.
    global PACKAGE, SRC
    saved = PACKAGE, SRC
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from demo import b\n")
    (package / "b.py").write_text("def f():\n    from demo.a import x\n")
    (package / "c.py").write_text("import demo.a\n")
    PACKAGE, SRC = package, tmp_path
    try:
        assert _cycles() == [{"demo.a", "demo.b"}]
    finally:
        PACKAGE, SRC = saved


def test_no_module_over_the_line_limit() -> None:
    long = {
        str(path.relative_to(SRC))
        for path in PACKAGE.rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    }
    assert long <= LONG_MODULES, f"modules over {MAX_LINES} lines: {sorted(long - LONG_MODULES)}"
    assert long == LONG_MODULES, f"now short enough: {sorted(LONG_MODULES - long)}"


def test_no_two_modules_share_a_file_name() -> None:
    names = Counter(path.name for path in PACKAGE.rglob("*.py") if path.name not in {"__init__.py"})
    shared = {name for name, count in names.items() if count > 1}
    assert shared <= SHARED_NAMES, f"module names used more than once: {shared - SHARED_NAMES}"
    assert shared == SHARED_NAMES, f"now used once (take them off): {SHARED_NAMES - shared}"


def test_the_start_up_path_loads_no_alembic() -> None:
    """The gate (every module of the package) and the command line's fast path answer without
    Alembic, Typer, Rich, the facade or the jobs."""
    gate = sorted(f"fastapi_alembic.gate.{path.stem}" for path in (PACKAGE / "gate").glob("*.py"))
    assert "fastapi_alembic.gate.head_check" in gate
    probe = (
        f"import sys, {', '.join(gate)}, fastapi_alembic.cli.fast; "
        "print(sorted(m for m in ('alembic', 'typer', 'rich', 'fastapi_alembic.migrations', "
        "'fastapi_alembic.jobs') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_tests_share_helpers_only_through_tests_support() -> None:
    """A test module imports no other test module (it would run its tests twice or hide what
    it needs); what tests share lives in tests/support/, which bench/ imports too."""
    tests = Path(__file__).resolve().parent
    found = set()
    for path in [*tests.rglob("*.py"), *tests.parent.joinpath("bench").glob("*.py")]:
        found |= {
            f"{path.relative_to(tests.parent)} imports {name}"
            for name in _absolute_imports(path)
            if name.startswith("tests.") and name.rpartition(".")[2].startswith("test_")
        }
    assert not found, sorted(found)

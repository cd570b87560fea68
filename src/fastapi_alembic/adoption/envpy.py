"""Reading a project's own Alembic env.py, without running it.

What it passes to ``context.configure`` (kept), the module-level code those options need
(carried over verbatim), where its database URL comes from (kept for plain ``alembic``), and
what it does that ``run_migrations`` would not do (refused, naming the line).
"""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi_alembic.adoption.carry import _Carrying
from fastapi_alembic.adoption.reading import CannotAdopt, EnvReading, iter_statements
from fastapi_alembic.adoption.runner_work import _RunnerWork
from fastapi_alembic.adoption.syntax import (
    PLUMBING_CALLS,
    PLUMBING_OPTIONS,
    bound_names,
    callee,
    is_context_call,
    is_ini_url,
    loaded_names,
    without_percent_escape,
)

__all__ = ["CannotAdopt", "EnvReading", "iter_statements", "read_env"]


def read_env(path: Path, *, with_metadata: bool = True) -> EnvReading:
    """Read env.py; ``with_metadata=False`` when the models are named elsewhere (pyproject),
    so target_metadata and what only it needs are not carried over."""
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise CannotAdopt(
            f"{path} has a syntax error at line {error.lineno}: fix it, then run adopt again."
        ) from None
    return _Reader(EnvReading(path, source), tree, with_metadata).read()


class _Reader(_Carrying, _RunnerWork):
    def __init__(self, reading: EnvReading, tree: ast.Module, with_metadata: bool) -> None:
        self.reading = reading
        self.with_metadata = with_metadata
        self.tree = tree
        self.bindings: dict[str, ast.stmt] = {}
        for statement in tree.body:
            for name in bound_names(statement):
                self.bindings.setdefault(name, statement)
        self.runners = self._runners()
        self.unliftable = {}
        self.parents: dict[ast.AST, ast.AST] = {
            child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }

    # -- which functions run the migrations ----------------------------------------------------

    def _runners(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        functions = {
            s.name: s
            for s in self.tree.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        runners = {
            name: f
            for name, f in functions.items()
            if any(
                is_context_call(n, "configure", "run_migrations", "begin_transaction")
                for n in ast.walk(f)
            )
        }
        grown = True
        while grown:  # a function that calls (or hands over) a runner is one too
            grown = False
            for name, function in functions.items():
                if name not in runners and loaded_names(function) & set(runners):
                    runners[name] = function
                    grown = True
        return runners

    def _enclosing(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> EnvReading:
        reading = self.reading
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "fastapi_alembic.env":
                reading.wired = True
                return reading
        self._sort_runner_work()
        self._lift_nested()
        for function in self.runners.values():
            self._check_runner(function)
        calls = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)]
        calls = [n for n in calls if is_context_call(n, "configure")]
        if not calls:
            raise CannotAdopt(
                f"{reading.path} never calls context.configure: it is not an Alembic env.py "
                "adopt can read; wire it by hand (see docs/guide.md)."
            )
        # The online call (it gets a connection) is what upgrades and autogenerate use; an
        # option only the offline (--sql) call gets is written as a comment, not applied.
        online = [c for c in calls if any(k.arg == "connection" for k in c.keywords)]
        seen: dict[str, tuple[str, ast.AST]] = {}
        for call in online or calls:
            for keyword in call.keywords:
                self._take(call, keyword, seen)
        for call in calls if online else []:
            for keyword in call.keywords:
                if keyword.arg == "url":
                    self._take(call, keyword, seen)
                elif keyword.arg not in seen and keyword.arg not in PLUMBING_OPTIONS:
                    text = (
                        f"{keyword.arg}={self._text(keyword.value)}"
                        if keyword.arg
                        else (f"**{self._text(keyword.value)}")
                    )
                    if text not in reading.offline_only:
                        reading.offline_only.append(text)
        self._find_url()
        self._collect(reading)
        return reading

    def _take(
        self, call: ast.Call, keyword: ast.keyword, seen: dict[str, tuple[str, ast.AST]]
    ) -> None:
        reading = self.reading
        if keyword.arg in PLUMBING_OPTIONS:
            if keyword.arg == "url" and reading.url is None:
                value = self._resolve(call, keyword.value, quiet=True)
                if value is not None and is_ini_url(value):
                    reading.url_from_ini = True
                elif value is not None:
                    reading.url = self._text(value)
            return
        value = self._resolve(call, keyword.value)
        assert value is not None
        text = self._text(value)
        if keyword.arg is None:
            if text not in reading.splats:
                reading.splats.append(text)
            return
        earlier = seen.get(keyword.arg)
        if earlier is not None and earlier[0] != text:
            raise CannotAdopt(
                f"{reading.path} passes {keyword.arg} differently to context.configure at lines "
                f"{getattr(earlier[1], 'lineno', '?')} and {call.lineno}: make them the same "
                "(or wire env.py by hand), then run adopt again."
            )
        seen[keyword.arg] = (text, call)
        if keyword.arg == "target_metadata":
            reading.metadata = text
        else:
            reading.options[keyword.arg] = text

    def _text(self, value: ast.expr) -> str:
        segment = ast.get_source_segment(self.reading.source, value)
        return segment if segment is not None else ast.unparse(value)

    def _resolve(self, call: ast.AST, value: ast.expr, *, quiet: bool = False) -> ast.expr | None:
        """``value`` in terms of module-level names: a local variable becomes what it holds."""
        function = self._enclosing(call)
        for _ in range(5):
            if function is None or not isinstance(value, ast.Name):
                break
            assigned = [
                s.value
                for s in ast.walk(function)
                if isinstance(s, ast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id == value.id
            ]
            if len(assigned) != 1:
                break
            value = assigned[0]
        if function is not None:
            local = {
                n.id
                for n in ast.walk(function)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            } | {a.arg for a in function.args.args + function.args.kwonlyargs}
            inner = loaded_names(value) & local
            if inner:
                if quiet:
                    return None
                raise CannotAdopt(
                    f"{self.reading.where(value)} passes context.configure a value built from "
                    f"{sorted(inner)[0]!r}, a variable of {function.name}(), which adopt cannot "
                    "carry over: define it at module level, then run adopt again."
                )
        return value

    def _check_runner(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Refuse when a migration runner does more than connect and run Alembic and what
        runner_work.py carries over."""
        for node in ast.walk(function):  # a loop first: it says most about such a runner
            if isinstance(node, ast.For | ast.AsyncFor | ast.While):
                raise CannotAdopt(
                    f"{self.reading.where(node)} loops in {function.name}() (several databases, "
                    "engines or schemas?): FastAPI-Alembic wires one database per migrations "
                    "folder, so adopt leaves this env.py as it is; wire it by hand (see "
                    "docs/guide.md)."
                )
        for node in ast.walk(function):
            if node in self.work.handled:
                continue
            if (
                isinstance(node, ast.Expr)
                and isinstance(call := _awaited(node.value), ast.Call)
                and callee(call) in self.bindings
                and callee(call) not in self.runners
            ):  # the project's own work, such as a check before migrating
                raise CannotAdopt(
                    f"{self.reading.where(node)} runs `{self._text(call)}` in {function.name}(), "
                    "which run_migrations would not do: move it into a migration or the app "
                    "(or wire env.py by hand), then run adopt again."
                )
            if isinstance(node, ast.Call):
                name = callee(node)
                if name in PLUMBING_CALLS or name in self.runners or name in self.bindings:
                    if name == "run_migrations" and node.keywords:
                        raise CannotAdopt(
                            f"{self.reading.where(node)} runs the migrations per engine "
                            f"({self._text(node)}): adopt wires one database; wire it by hand."
                        )
                    continue
                raise CannotAdopt(
                    f"{self.reading.where(node)} runs `{self._text(node)}` in {function.name}(), "
                    "which run_migrations would not do: move it into a migration or an "
                    "on_connect hook (or wire env.py by hand), then run adopt again."
                )

    def _find_url(self) -> None:
        """Where plain alembic got the database URL, when env.py says so itself."""
        reading = self.reading
        for node in ast.walk(self.tree):
            found: ast.expr | None = None
            if (
                isinstance(node, ast.Call)
                and callee(node) == "set_main_option"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "sqlalchemy.url"
            ):
                found = without_percent_escape(node.args[1])
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Subscript)
                and isinstance(t.slice, ast.Constant)
                and t.slice.value == "sqlalchemy.url"
                for t in node.targets
            ):
                found = without_percent_escape(node.value)
            elif (
                isinstance(node, ast.Call)
                and callee(node) in ("create_engine", "create_async_engine")
                and node.args
            ):
                found = node.args[0]
            elif isinstance(node, ast.Call) and callee(node) in (
                "engine_from_config",
                "async_engine_from_config",
            ):
                found = next((k.value for k in node.keywords if k.arg == "url"), None)
            if found is not None:
                resolved = self._resolve(node, found, quiet=True)
                if resolved is not None and not is_ini_url(resolved):
                    reading.url, reading.url_from_ini = self._text(resolved), False
                    return


def _awaited(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Await) else node

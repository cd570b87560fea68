"""Reading a project's own Alembic env.py, without running it.

What it passes to ``context.configure`` (kept), the module-level code those options need
(carried over verbatim), where its database URL comes from (kept for plain ``alembic``), and
what it does that ``run_migrations`` would not do (refused, naming the line).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_migrate.adoption.syntax import (
    PLUMBING_CALLS,
    PLUMBING_MODULES,
    PLUMBING_OPTIONS,
    SETTING_UP_CALLS,
    bound_names,
    callee,
    dotted,
    inert,
    is_context_call,
    is_ini_url,
    loaded_names,
    without_percent_escape,
)
from fastapi_migrate.errors import ConfigError


class CannotAdopt(ConfigError):
    """Something in env.py that adopt cannot carry over safely: one sentence, exit 2."""


@dataclass
class EnvReading:
    """What adopt keeps from an env.py."""

    path: Path
    source: str
    options: dict[str, str] = field(default_factory=dict)  # keyword -> source text
    splats: list[str] = field(default_factory=list)  # ``**options`` passed to configure
    metadata: str | None = None  # target_metadata's source text, resolved
    #: "module:attribute" readings of target_metadata when it is an imported name's attribute,
    #: most likely first (the caller imports them to find the one that works).
    metadata_references: list[str] = field(default_factory=list)
    url: str | None = None  # an expression giving the URL plain alembic used
    url_from_ini: bool = False  # plain alembic read sqlalchemy.url from alembic.ini
    carried: list[ast.stmt] = field(default_factory=list)  # needed definitions, in order
    kept: list[ast.stmt] = field(default_factory=list)  # set-up adopt cannot classify
    wired: bool = False  # already calls fastapi_migrate.env.run_migrations
    #: Options only the offline (--sql) configure call had: written commented out.
    offline_only: list[str] = field(default_factory=list)

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node``, decorators included."""
        lines = self.source.splitlines()
        start = min(
            [node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]  # type: ignore[attr-defined]
        )
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        return "\n".join(lines[start - 1 : end])

    def where(self, node: ast.AST) -> str:
        return f"{self.path} line {getattr(node, 'lineno', '?')}"


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


class _Reader:
    def __init__(self, reading: EnvReading, tree: ast.Module, with_metadata: bool) -> None:
        self.reading = reading
        self.with_metadata = with_metadata
        self.tree = tree
        self.bindings: dict[str, ast.stmt] = {}
        for statement in tree.body:
            for name in bound_names(statement):
                self.bindings.setdefault(name, statement)
        self.runners = self._runners()
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
            if isinstance(statement, ast.ImportFrom) and statement.module == "fastapi_migrate.env":
                reading.wired = True
                return reading
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
        """Refuse when a migration runner does more than connect and run Alembic."""
        for node in ast.walk(function):
            if isinstance(node, ast.For | ast.AsyncFor | ast.While):
                raise CannotAdopt(
                    f"{self.reading.where(node)} loops in {function.name}() (several databases or "
                    "engines?): FastAPI-Migrate wires one database per migrations folder, so "
                    "adopt leaves this env.py as it is; wire it by hand (see docs/guide.md)."
                )
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

    # -- what to carry over --------------------------------------------------------------------

    def _collect(self, reading: EnvReading) -> None:
        wanted: set[str] = set()
        sources = [*reading.options.values(), *reading.splats, reading.url or ""]
        if reading.metadata is not None and self._is_none(reading.metadata):
            reading.metadata = None  # `target_metadata = None`: Alembic got no models
        if reading.metadata is not None:
            reading.metadata_references = self._references(reading.metadata)
            if self.with_metadata:
                sources.append(reading.metadata)
        for text in sources:
            if text:
                wanted |= loaded_names(ast.parse(text, mode="eval"))
        for statement in self.tree.body:
            if self._carry_anyway(statement) or not self._droppable(statement):
                wanted |= loaded_names(statement)  # what kept code uses is kept too
        needed = self._closure(wanted)
        for statement in self.tree.body:
            if statement in needed or self._carry_anyway(statement):
                if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    self._refuse_if_connecting(statement)  # a def runs nothing until called
                reading.carried.append(statement)
            elif not self._droppable(statement):
                self._refuse_if_connecting(statement)
                reading.kept.append(statement)

    def _closure(self, names: set[str]) -> set[ast.stmt]:
        needed: set[ast.stmt] = set()
        pending = list(names)
        while pending:
            statement = self.bindings.get(pending.pop())
            if statement is None or statement in needed:
                continue
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and (
                statement.name in self.runners
            ):
                raise CannotAdopt(
                    f"{self.reading.where(statement)}: an option given to context.configure needs "
                    f"{statement.name}(), which also runs the migrations; wire env.py by hand."
                )
            needed.add(statement)
            pending.extend(loaded_names(statement))
        return needed

    def _is_none(self, text: str) -> bool:
        node: ast.expr = ast.parse(text, mode="eval").body
        for _ in range(5):
            if not isinstance(node, ast.Name):
                break
            binding = self.bindings.get(node.id)
            if not isinstance(binding, ast.Assign) or len(binding.targets) != 1:
                break
            node = binding.value
        return isinstance(node, ast.Constant) and node.value is None

    def _references(self, text: str) -> list[str]:
        """``module:attribute`` readings of target_metadata when it is an imported name's
        attribute (``from app.models import Base`` ... ``Base.metadata``)."""
        node: ast.expr = ast.parse(text, mode="eval").body
        for _ in range(5):  # follow ``target_metadata = Base.metadata`` style assignments
            if not isinstance(node, ast.Name):
                break
            binding = self.bindings.get(node.id)
            if not isinstance(binding, ast.Assign) or len(binding.targets) != 1:
                break
            node = binding.value
        path = dotted(node)
        if path is None:
            return []
        head, _, rest = path.partition(".")
        binding = self.bindings.get(head)
        full: str | None = None
        if isinstance(binding, ast.ImportFrom) and binding.module and binding.level == 0:
            for alias in binding.names:
                if (alias.asname or alias.name) == head:
                    full = f"{binding.module}.{alias.name}" + (f".{rest}" if rest else "")
        elif isinstance(binding, ast.Import):
            for alias in binding.names:
                if alias.asname == head:
                    full = alias.name + (f".{rest}" if rest else "")
                elif alias.asname is None and alias.name.split(".")[0] == head:
                    full = path
        if full is None:
            return []
        parts = full.split(".")
        return [
            f"{'.'.join(parts[:i])}:{'.'.join(parts[i:])}" for i in range(len(parts) - 1, 0, -1)
        ]

    def _carry_anyway(self, statement: ast.stmt) -> bool:
        """An app import (it may register the models when imported), or a change to an
        object (``target_metadata.naming_convention = ...``): they stay."""
        if isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            return not all(isinstance(t, ast.Name | ast.Tuple) for t in targets)
        if isinstance(statement, ast.Import):
            return any(a.name.split(".")[0] not in PLUMBING_MODULES for a in statement.names)
        if isinstance(statement, ast.ImportFrom):
            return statement.level > 0 or (statement.module or "").split(".")[0] not in (
                PLUMBING_MODULES
            )
        return False

    def _droppable(self, statement: ast.stmt) -> bool:
        """Plumbing run_migrations replaces, or a definition nothing kept uses."""
        if isinstance(statement, ast.Import | ast.ImportFrom | ast.Assert | ast.Pass):
            return True
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return True
        if isinstance(statement, ast.Expr):
            value = statement.value
            if isinstance(value, ast.Constant):
                return True  # a docstring
            return isinstance(value, ast.Call) and self._is_setting_up_or_running(value)
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            return statement.value is None or inert(statement.value)
        if isinstance(statement, ast.If):
            return all(self._droppable(s) for s in [*statement.body, *statement.orelse])
        return False

    def _is_setting_up_or_running(self, call: ast.Call) -> bool:
        name = callee(call)
        if name in self.runners or name in SETTING_UP_CALLS:
            return True
        if name == "run" and call.args and isinstance(call.args[0], ast.Call):
            return callee(call.args[0]) in self.runners  # asyncio.run(run_async_migrations())
        return False

    def _refuse_if_connecting(self, statement: ast.stmt) -> None:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and callee(node) in (
                "create_engine",
                "create_async_engine",
                "engine_from_config",
                "async_engine_from_config",
                "connect",
            ):
                raise CannotAdopt(
                    f"{self.reading.where(statement)} opens a database connection or engine when "
                    "env.py is loaded, which would bypass the database FastAPI-Migrate is given: "
                    "move it into the app, then run adopt again."
                )


def _awaited(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Await) else node


def iter_statements(reading: EnvReading) -> Iterator[tuple[str, bool]]:
    """The carried and kept statements in file order: (source text, kept unclassified)."""
    kept = set(map(id, reading.kept))
    for statement in sorted([*reading.carried, *reading.kept], key=lambda s: s.lineno):
        yield reading.segment(statement), id(statement) in kept

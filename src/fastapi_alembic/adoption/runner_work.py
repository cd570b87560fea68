"""The project's own work inside an env.py's migration runners, sorted into what adopt carries.

A mix-in of the env.py reader (``envpy._Reader``). Inside the functions that connect and run
Alembic, a project often does a little more; each kind is carried to the new env.py:

- statements on the connection before the migrations (``connection.execute(set_search_path)``,
  ``connection.dialect.default_schema_name = ...``) become the ``on_connect`` hook, which
  ``run_migrations`` runs on the connection it is given;
- a context variable set around the run (``token = MODE.set(...)`` ... ``MODE.reset(token)``)
  is set around ``run_migrations``;
- a guard (``if not settings.url: raise ...``) on module-level names is carried as it is; one on
  the runner's own variables (the engine configuration run_migrations now builds) is dropped;
- a function defined inside the runner and given to ``context.configure``
  (``process_revision_directives``, ``include_object``) is carried at module level.

Whatever else the runner does is left to the reader, which refuses it naming the line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from fastapi_alembic.adoption.reading import CannotAdopt, EnvReading
from fastapi_alembic.adoption.syntax import dotted, is_context_call, loaded_names

#: What a runner may call on its connection before the migrations, carried into on_connect.
CONNECTION_METHODS = {"execute", "exec_driver_sql"}
#: Calls on the connection that run_migrations does itself: dropped.
CONNECTION_PLUMBING = {"commit", "begin", "close", "run_sync", "rollback"}

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class RunnerWork:
    """What the runners do besides connecting and running Alembic, and how it is carried."""

    handled: set[ast.AST] = field(default_factory=set)  # statements not to refuse
    hook: dict[int, str] = field(default_factory=dict)  # line -> statement, in on_connect
    hook_locals: list[ast.stmt] = field(default_factory=list)
    hook_parameter: str | None = None
    context_sets: list[ast.expr] = field(default_factory=list)  # ``MODE.set(...)`` calls
    nested: dict[str, Function] = field(default_factory=dict)  # defined inside a runner


class _RunnerWork:
    reading: EnvReading
    tree: ast.Module
    bindings: dict[str, ast.stmt]
    runners: dict[str, Function]
    work: RunnerWork
    #: Functions defined in a runner that use its variables: refused if an option needs them.
    unliftable: dict[str, tuple[Function, str, str]]

    def _sort_runner_work(self) -> None:
        self.work = RunnerWork()
        for function in self.runners.values():
            if any(isinstance(n, ast.For | ast.AsyncFor | ast.While) for n in ast.walk(function)):
                continue  # several databases or schemas: the reader refuses it as a loop
            self._sort_function(function)
        self.reading.context_sets = [self._source(call) for call in self.work.context_sets]
        if self.work.hook:
            self.reading.hook_parameter = self.work.hook_parameter
            for statement in self.work.hook_locals:
                self.work.hook[statement.lineno] = self.reading.segment(statement)
            self.reading.hook = [text for _, text in sorted(self.work.hook.items())]

    def _sort_function(self, function: Function) -> None:
        locals_ = _local_names(function)
        connections = self._connection_names(function)
        first_run = min(
            (
                n.lineno
                for n in ast.walk(function)
                if isinstance(n, ast.Call)
                and is_context_call(n, "run_migrations", "begin_transaction")
            ),
            default=None,
        )
        for node in ast.walk(function):
            if node is function or node in self.work.handled:
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(is_context_call(n, "configure", "run_migrations") for n in ast.walk(node)):
                    continue  # a runner defined inside a runner: read as part of it
                self.work.nested.setdefault(node.name, node)
                self.work.handled.update(ast.walk(node))
            elif isinstance(node, ast.If) and _is_guard(node):
                self._guard(node, function, locals_)
            elif isinstance(node, ast.stmt) and self._sets_context(node):
                self.work.handled.update(ast.walk(node))
            elif (
                isinstance(node, ast.stmt)
                and connections
                and self._on_connection(node, connections)
            ):
                if first_run is not None and node.lineno > first_run:
                    raise CannotAdopt(
                        f"{self.reading.where(node)} runs `{self._source(node)}` on the "
                        f"connection after the migrations in {function.name}(), which "
                        "run_migrations would not do: move it into a migration, then run adopt "
                        "again."
                    )
                self._into_hook(node, function, locals_, connections)

    # -- the connection ------------------------------------------------------------------------

    def _connection_names(self, function: Function) -> set[str]:
        """Names the function holds its connection in: ``with engine.connect() as NAME``, or
        what it hands context.configure as ``connection=``."""
        names: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    expression = item.context_expr
                    if (
                        isinstance(expression, ast.Call)
                        and isinstance(expression.func, ast.Attribute)
                        and expression.func.attr in ("connect", "begin")
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        names.add(item.optional_vars.id)
            elif is_context_call(node, "configure"):
                assert isinstance(node, ast.Call)
                for keyword in node.keywords:
                    if keyword.arg == "connection" and isinstance(keyword.value, ast.Name):
                        names.add(keyword.value.id)
        return names

    def _on_connection(self, node: ast.stmt, connections: set[str]) -> bool:
        """A statement that works on the connection: a call of one of its methods, or a
        change to one of its attributes (``connection.dialect.default_schema_name = ...``)."""
        if isinstance(node, ast.Expr):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                owner = dotted(value.func.value)
                if owner in connections:
                    if value.func.attr in CONNECTION_PLUMBING:
                        self.work.handled.update(ast.walk(node))
                        return False
                    return value.func.attr in CONNECTION_METHODS
            return False
        if isinstance(node, ast.Assign):
            return all(
                isinstance(t, ast.Attribute) and (dotted(t) or "").split(".")[0] in connections
                for t in node.targets
            )
        return False

    def _into_hook(
        self, node: ast.stmt, function: Function, locals_: set[str], connections: set[str]
    ) -> None:
        used = {(dotted(n) or "").split(".")[0] for n in ast.walk(node) if isinstance(n, ast.Name)}
        name = next(iter(used & connections))
        if self.work.hook_parameter not in (None, name):
            raise CannotAdopt(
                f"{self.reading.where(node)} works on the connection as {name!r}, elsewhere as "
                f"{self.work.hook_parameter!r}: name it the same in env.py, then run adopt again."
            )
        self.work.hook_parameter = name
        self._hook_locals(node, function, locals_ - connections)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Await):
            # awaited on an async connection; on_connect is given the sync one
            self.work.hook[node.lineno] = self._source(node.value.value)
        else:
            self.work.hook[node.lineno] = self.reading.segment(node)
        self.work.handled.update(ast.walk(node))

    def _hook_locals(self, node: ast.AST, function: Function, locals_: set[str]) -> None:
        """The runner's own variables the statement needs: their plain assignments go into the
        hook before it; anything else is refused."""
        for name in sorted(loaded_names(node) & locals_):
            assigned = [
                s
                for s in ast.walk(function)
                if isinstance(s, ast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id == name
            ]
            if len(assigned) != 1:
                raise CannotAdopt(
                    f"{self.reading.where(node)} uses {name!r}, a variable of "
                    f"{function.name}() adopt cannot follow: define it at module level, then "
                    "run adopt again."
                )
            if assigned[0] not in self.work.hook_locals:
                self._hook_locals(assigned[0].value, function, locals_)
                self.work.hook_locals.append(assigned[0])
                self.work.handled.update(ast.walk(assigned[0]))

    # -- context variables and guards ----------------------------------------------------------

    def _sets_context(self, node: ast.stmt) -> bool:
        """``MODE.set(value)`` (its token kept or not) and ``MODE.reset(token)`` on a
        module-level name: a context variable set for the run."""
        value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
        if not (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr in ("set", "reset")
            and (dotted(value.func.value) or "").split(".")[0] in self.bindings
        ):
            return False
        if value.func.attr == "set":
            if len(value.args) != 1 or value.keywords:
                return False
            self.work.context_sets.append(value)
        return True

    def _guard(self, node: ast.If, function: Function, locals_: set[str]) -> None:
        own = sorted(loaded_names(node.test) & locals_)
        text = self._source(node).splitlines()[0]
        if own:
            self.reading.notes.append(
                f"dropped the check at line {node.lineno} (`{text}`): it checks {own[0]!r}, "
                f"a variable of {function.name}() that run_migrations replaces"
            )
        else:
            self.reading.lifted.append(node)
        self.work.handled.update(ast.walk(node))

    # -- text ----------------------------------------------------------------------------------

    def _source(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.reading.source, node)
        return segment if segment is not None else ast.unparse(node)

    def _lift_nested(self) -> None:
        """Functions defined inside a runner become module-level definitions the options can
        name, when they use none of the runner's variables."""
        for name, definition in self.work.nested.items():
            if name in self.bindings:
                continue  # the module's own definition of that name is what env.py meant
            runner = next(f for f in self.runners.values() if definition in ast.walk(f))
            outer = (loaded_names(definition) & _local_names(runner)) - _local_names(definition)
            if outer:
                self.unliftable[name] = (definition, sorted(outer)[0], runner.name)
            self.bindings[name] = definition


def _is_guard(node: ast.If) -> bool:
    """``if <test>: raise ...``: a check that stops the run, with no other effect."""
    return not node.orelse and all(isinstance(s, ast.Raise) for s in node.body)


def _local_names(function: Function) -> set[str]:
    names = {
        n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    arguments = function.args
    names |= {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    return names

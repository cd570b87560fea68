"""Which module-level statements of an env.py adopt carries over, keeps, or refuses.

A mix-in of the env.py reader (``envpy._Reader``): it works on the reader's bindings and
migration runners once the ``context.configure`` options are known.
"""

from __future__ import annotations

import ast

from fastapi_alembic.adoption.reading import CannotAdopt, EnvReading
from fastapi_alembic.adoption.syntax import (
    PLUMBING_MODULES,
    SETTING_UP_CALLS,
    callee,
    dotted,
    inert,
    is_context_call,
    loaded_names,
)


class _Carrying:
    reading: EnvReading
    unliftable: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, str]]
    with_metadata: bool
    tree: ast.Module
    bindings: dict[str, ast.stmt]
    runners: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]

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
        for text in reading.context_sets:
            wanted |= loaded_names(ast.parse(text, mode="eval"))
        if reading.hook:
            hook = ast.parse("\n".join(reading.hook))
            assigned = {
                n.id
                for n in ast.walk(hook)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            wanted |= loaded_names(hook) - assigned - {reading.hook_parameter or ""}
        for statement in reading.lifted:
            wanted |= loaded_names(statement)
        for statement in self.tree.body:
            if self._carry_anyway(statement) or not self._droppable(statement):
                wanted |= loaded_names(statement)  # what kept code uses is kept too
        needed = self._closure(wanted)
        body = set(self.tree.body)
        # functions defined inside a runner that an option needs: carried at module level
        reading.lifted += sorted(needed - body, key=lambda s: s.lineno)
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
            unliftable = self.unliftable.get(getattr(statement, "name", ""))
            if unliftable is not None and unliftable[0] is statement:
                definition, variable, runner = unliftable
                raise CannotAdopt(
                    f"{self.reading.where(definition)}: {definition.name}(), given to "
                    f"context.configure, uses {variable!r}, a variable of {runner}(), which adopt "
                    "cannot carry over: define both at module level, then run adopt again."
                )
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
            if any(is_context_call(n, "is_offline_mode") for n in ast.walk(statement.test)):
                return True  # the dispatch to the runners, which run_migrations replaces
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
                    "env.py is loaded, which would bypass the database FastAPI-Alembic is given: "
                    "move it into the app, then run adopt again."
                )

"""The ``process_revision_directives`` hook ``make`` installs: every rewrite, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import ops
from sqlalchemy import inspect

from fastapi_alembic.autogen.constraints import drop_implicit_indexes, name_foreign_keys
from fastapi_alembic.autogen.defaults import drop_identity_noise
from fastapi_alembic.autogen.descriptions import OperationInfo, describe_operations
from fastapi_alembic.autogen.enum_checks import add_check_operations
from fastapi_alembic.autogen.enums import add_enum_operations
from fastapi_alembic.autogen.moves import hold_back_moves
from fastapi_alembic.autogen.renames import Ask, RenameAnswers, RenameResolver
from fastapi_alembic.autogen.schemas import add_schema_operations
from fastapi_alembic.dialects import for_backend


class MakeDirectives:
    """Rewrites Alembic's operations (renames, enums), then records what the revision does;
    an empty revision is dropped rather than written."""

    def __init__(self, renames: Sequence[str] = (), ask: Ask | None = None) -> None:
        self.renames = RenameResolver(RenameAnswers.parse(renames), ask)
        self.operations: list[OperationInfo] = []
        self.moves: list[str] = []

    @property
    def warnings(self) -> list[str]:
        return [*self.renames.warnings, *self.moves]

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        self.renames(context, revision, directives)
        if not directives:
            return
        script = directives[0]
        moved = [hold_back_moves(u) for u in script.upgrade_ops_list]
        if any(moved):
            self.moves.extend(w for each in moved for w in each)
            script.downgrade_ops_list[:] = [u.reverse() for u in script.upgrade_ops_list]
        for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
            name_foreign_keys(container)
            drop_identity_noise(container, context.dialect)
        dialect = for_backend(context.dialect.name)
        metadata = context.opts["target_metadata"]
        if dialect.native_enum_types:
            add_enum_operations(script, context.bind, metadata)
        if dialect.creates_schemas:
            add_schema_operations(script, context.bind, metadata)
        add_check_operations(script, context.bind, metadata)
        if dialect.foreign_keys_make_indexes and _drops_foreign_keys(script):
            indexed = _indexed_columns(context.bind)
            for container in script.downgrade_ops_list:
                drop_implicit_indexes(container, indexed)
        self.operations.extend(describe_operations(directives[0].upgrade_ops_list))
        if not self.operations:
            directives[:] = []  # write nothing rather than an empty file


def _drops_foreign_keys(script: Any) -> bool:
    return any(
        isinstance(op, ops.DropConstraintOp) and op.constraint_type == "foreignkey"
        for container in script.downgrade_ops_list
        for table_ops in container.ops
        if isinstance(table_ops, ops.ModifyTableOps)
        for op in table_ops.ops
    )


def _indexed_columns(bind: Any) -> set[tuple[str, str]]:
    """(table, first column) of every index in the database as it is now."""
    inspector = inspect(bind)
    return {
        (table, str(index["column_names"][0]))
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
        if index["column_names"]
    }

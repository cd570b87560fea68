"""The ``process_revision_directives`` hook ``make`` installs: every rewrite, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect

from fastapi_migrate.autogen.constraints import drop_implicit_indexes, name_foreign_keys
from fastapi_migrate.autogen.operations import OperationInfo, describe_operations
from fastapi_migrate.autogen.renames import Ask, RenameAnswers, RenameResolver
from fastapi_migrate.dialects import for_backend


class MakeDirectives:
    """Rewrites Alembic's operations (renames, enums), then records what the revision does;
    an empty revision is dropped rather than written."""

    def __init__(self, renames: Sequence[str] = (), ask: Ask | None = None) -> None:
        self.renames = RenameResolver(RenameAnswers.parse(renames), ask)
        self.operations: list[OperationInfo] = []

    @property
    def warnings(self) -> list[str]:
        return self.renames.warnings

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        self.renames(context, revision, directives)
        if not directives:
            return
        script = directives[0]
        for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
            name_foreign_keys(container)
        dialect = for_backend(context.dialect.name)
        if dialect.foreign_keys_make_indexes:
            indexed = _indexed_columns(context.bind)
            for container in script.downgrade_ops_list:
                drop_implicit_indexes(container, indexed)
        self.operations.extend(describe_operations(directives[0].upgrade_ops_list))
        if not self.operations:
            directives[:] = []  # write nothing rather than an empty file


def _indexed_columns(bind: Any) -> set[tuple[str, str]]:
    """(table, first column) of every index in the database as it is now."""
    inspector = inspect(bind)
    return {
        (table, str(index["column_names"][0]))
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
        if index["column_names"]
    }

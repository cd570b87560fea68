"""Schemas the models name that the database lacks (PostgreSQL): made before their first table.

Alembic creates tables in a schema but never the schema itself, so the first revision with
``Table(..., schema="billing")`` fails on upgrade. The schema is made first and dropped last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection


class CreateSchemaOp(ops.MigrateOperation):
    def __init__(self, name: str, sql_name: str) -> None:
        self.name, self.sql_name = name, sql_name

    def reverse(self) -> DropSchemaOp:
        return DropSchemaOp(self.name, self.sql_name)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("create_schema", self.name)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return f"create schema {self.name}", False, None


class DropSchemaOp(ops.MigrateOperation):
    def __init__(self, name: str, sql_name: str) -> None:
        self.name, self.sql_name = name, sql_name

    def reverse(self) -> CreateSchemaOp:
        return CreateSchemaOp(self.name, self.sql_name)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("drop_schema", self.name)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return f"drop schema {self.name}", False, None


@renderers.dispatch_for(CreateSchemaOp)
def _render_create(_context: Any, op: CreateSchemaOp) -> str:
    return f"op.execute({f'CREATE SCHEMA {op.sql_name}'!r})"


@renderers.dispatch_for(DropSchemaOp)
def _render_drop(_context: Any, op: DropSchemaOp) -> str:
    return f"op.execute({f'DROP SCHEMA {op.sql_name}'!r})"


def _schemas_of(metadata: Any) -> set[str]:
    wanted: set[str] = set()
    for each in metadata if isinstance(metadata, list | tuple) else [metadata]:
        if isinstance(each, MetaData):
            wanted |= {t.schema for t in each.tables.values() if t.schema}
    return wanted


def schema_options(
    metadata: Any, include_name_given: Callable[..., bool] | None = None
) -> dict[str, Any]:
    """Options for ``context.configure`` when the models name schemas: compare those schemas
    (and the default one), and no other, so their tables are not written again every time.
    An ``include_name`` already set still decides every other name."""
    schemas = _schemas_of(metadata)
    if not schemas:
        return {}

    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "schema" and name is not None and name not in schemas:
            return False
        return include_name_given is None or include_name_given(name, type_, parent)

    return {"include_schemas": True, "include_name": include_name}


def add_schema_operations(script: Any, connection: Connection, metadata: Any) -> None:
    """Create the models' missing schemas first in the upgrade; drop them last in the downgrade."""
    wanted = _schemas_of(metadata)
    if not wanted:
        return
    missing = sorted(wanted - set(inspect(connection).get_schema_names()))
    if not missing:
        return
    quote = connection.dialect.identifier_preparer
    created = [CreateSchemaOp(name, quote.quote_schema(name)) for name in missing]
    script.upgrade_ops_list[-1].ops[:0] = created
    script.downgrade_ops_list[-1].ops.extend(op.reverse() for op in reversed(created))

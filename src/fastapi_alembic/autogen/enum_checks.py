"""The CHECK constraint of a non-native enum follows its values.

An ``Enum(..., native_enum=False, create_constraint=True)`` column (and any enum column on a
backend without enum types, such as SQLite) is a string with ``CHECK (col IN (...))``. Alembic
does not compare CHECK constraints, so a value added to the model would be refused by the
database after upgrade. Here the reflected constraint's values are compared with the model's,
and a changed one is dropped and made again with the new values.
"""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import CheckConstraint, Column, Enum, MetaData, Table, inspect
from sqlalchemy.engine import Connection

_QUOTED = re.compile(r"'((?:[^']|'')*)'")


class CreateEnumCheckOp(ops.CreateCheckConstraintOp):
    """``create_check_constraint`` with a renderer of ours: before Alembic 1.14 autogenerate
    has none for it (it never compared CHECK constraints)."""

    def reverse(self) -> Any:
        return ops.DropConstraintOp.from_constraint(self.to_constraint())


@renderers.dispatch_for(CreateEnumCheckOp)
def _render_create_check(autogen_context: Any, op: CreateEnumCheckOp) -> str:
    condition = str(op.condition)
    if autogen_context._has_batch:
        return f"batch_op.create_check_constraint({op.constraint_name!r}, {condition!r})"
    return f"op.create_check_constraint({op.constraint_name!r}, {op.table_name!r}, {condition!r})"


def _checked_enums(table: Table, native: bool) -> list[tuple[Column[Any], Enum]]:
    found = []
    for column in table.columns:
        type_ = column.type
        if (
            isinstance(type_, Enum)
            and type_.create_constraint
            and type_.name
            and not (type_.native_enum and native)
        ):
            found.append((column, type_))
    return found


def _condition(connection: Connection, column: str, values: tuple[str, ...]) -> str:
    quoted = connection.dialect.identifier_preparer.quote(column)
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{quoted} IN ({listed})"


def add_check_operations(script: Any, connection: Connection, metadata: Any) -> None:
    inspector = inspect(connection)
    native = bool(connection.dialect.supports_native_enum)
    upgrade_ops = script.upgrade_ops_list[-1]
    downgrade_ops = script.downgrade_ops_list[-1]
    existing = set(inspector.get_table_names())
    for each in metadata if isinstance(metadata, list | tuple) else [metadata]:
        if not isinstance(each, MetaData):
            continue
        for table in each.tables.values():
            if table.schema or table.name not in existing:
                continue
            checked = _checked_enums(table, native)
            if not checked:
                continue
            reflected = {
                c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)
            }
            for column, type_ in checked:
                old_sql = reflected.get(type_.name)
                if old_sql is None:
                    continue
                old_values = tuple(v.replace("''", "'") for v in _QUOTED.findall(old_sql))
                new_values = tuple(type_.enums)
                if old_values == new_values:
                    continue
                shape = Table(
                    table.name, MetaData(), *(Column(c.name, c.type) for c in table.columns)
                )
                old = CheckConstraint(old_sql, name=type_.name, table=shape)
                new = CheckConstraint(
                    _condition(connection, column.name, new_values), name=type_.name, table=shape
                )
                _append(
                    upgrade_ops,
                    table.name,
                    [
                        ops.DropConstraintOp.from_constraint(old),
                        _create_check(new),
                    ],
                )
                _append(
                    downgrade_ops,
                    table.name,
                    [
                        ops.DropConstraintOp.from_constraint(new),
                        _create_check(old),
                    ],
                )


def _create_check(constraint: CheckConstraint) -> CreateEnumCheckOp:
    table = constraint.table
    return CreateEnumCheckOp(
        constraint.name, table.name, str(constraint.sqltext), schema=table.schema
    )


def _append(container: ops.OpContainer, table: str, operations: list[Any]) -> None:
    for table_ops in container.ops:
        if (
            isinstance(table_ops, ops.ModifyTableOps)
            and table_ops.table_name == table
            and not table_ops.schema
        ):
            table_ops.ops.extend(operations)
            return
    container.ops.append(ops.ModifyTableOps(table, operations))

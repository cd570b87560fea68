"""Native enum types (PostgreSQL): made before the first column that uses them, dropped after
the last, and their values changed in place or by a safe rebuild.

Alembic leaves named types to the table that uses them: ``add_column`` never creates one, a
downgrade's ``drop_table`` leaves it behind, and a change of values is not seen at all. Here the
types in the models are compared with the database's, and operations on types are added to the
revision (a ``process_revision_directives`` step) and rendered as plain ``op.execute`` calls, so
the revision needs nothing from this package to run. Columns are rendered with
``create_type=False``: the type operations own the type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import Column, Enum, MetaData, inspect, text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class EnumType:
    """A named type: schema (None for the default one), name and values in order."""

    schema: str | None
    name: str
    values: tuple[str, ...]

    def sql_name(self, quote: Any) -> str:
        return (
            f"{quote.quote_schema(self.schema)}.{quote.quote(self.name)}"
            if self.schema
            else quote.quote(self.name)
        )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values_sql(values: Iterable[str]) -> str:
    return ", ".join(_literal(v) for v in values)


class CreateEnumOp(ops.MigrateOperation):
    def __init__(self, enum: EnumType, sql_name: str) -> None:
        self.enum, self.sql_name = enum, sql_name

    def reverse(self) -> DropEnumOp:
        return DropEnumOp(self.enum, self.sql_name)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return f"create type {self.enum.name} ({', '.join(self.enum.values)})", False, None

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("create_enum", self.enum.name)


class DropEnumOp(ops.MigrateOperation):
    def __init__(self, enum: EnumType, sql_name: str) -> None:
        self.enum, self.sql_name = enum, sql_name

    def reverse(self) -> CreateEnumOp:
        return CreateEnumOp(self.enum, self.sql_name)

    def operation_info(self) -> tuple[str, bool, str | None]:
        return f"drop type {self.enum.name}", False, None

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("drop_enum", self.enum.name)


@dataclass(frozen=True)
class EnumColumn:
    """A column of the database that holds the type: schema, table, column (SQL-quoted)."""

    table_sql: str
    column_sql: str
    label: str
    #: the value of the column's default, when it has one: it is cast to the type, so it is
    #: dropped for the swap and set again (when the value is still there)
    default: str | None = None


class AlterEnumOp(ops.MigrateOperation):
    """The values of a type change: added values in place, anything else by a rebuild."""

    def __init__(
        self,
        old: EnumType,
        new: EnumType,
        sql_names: tuple[str, str],
        columns: tuple[EnumColumn, ...],
        autocommit: bool,
    ) -> None:
        self.old, self.new = old, new
        # the type's name in SQL, and the name it has while it is being replaced
        self.sql_name, self.sql_name_old = sql_names
        self.columns, self.autocommit = columns, autocommit

    def reverse(self) -> AlterEnumOp:
        return AlterEnumOp(
            self.new,
            self.old,
            (self.sql_name, self.sql_name_old),
            self.columns,
            self.autocommit,
        )

    def operation_info(self) -> tuple[str, bool, str | None]:
        if self.only_adds:
            added = [v for v in self.new.values if v not in self.old.values]
            return f"add value(s) {', '.join(added)} to type {self.new.name}", False, None
        removed = [v for v in self.old.values if v not in self.new.values]
        return (
            f"rebuild type {self.new.name} without {', '.join(removed)}",
            True,
            "rows holding a removed value make the upgrade stop",
        )

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("alter_enum", self.new.name, self.old.values, self.new.values)

    @property
    def only_adds(self) -> bool:
        """Whether the old values are all kept, in the same order."""
        kept = [v for v in self.new.values if v in self.old.values]
        return kept == list(self.old.values)


@renderers.dispatch_for(CreateEnumOp)
def _render_create(_context: Any, op: CreateEnumOp) -> str:
    return f"op.execute({f'CREATE TYPE {op.sql_name} AS ENUM ({_values_sql(op.enum.values)})'!r})"


@renderers.dispatch_for(DropEnumOp)
def _render_drop(_context: Any, op: DropEnumOp) -> str:
    return f"op.execute({f'DROP TYPE {op.sql_name}'!r})"


@renderers.dispatch_for(AlterEnumOp)
def _render_alter(_context: Any, op: AlterEnumOp) -> list[str]:
    if op.only_adds:
        return _render_add_values(op)
    return _render_rebuild(op)


def _render_add_values(op: AlterEnumOp) -> list[str]:
    statements = []
    for at, value in enumerate(op.new.values):
        if value in op.old.values:
            continue
        after = [v for v in op.new.values[:at] if v in op.old.values]
        before = [v for v in op.new.values[at + 1 :] if v in op.old.values]
        where = (
            f" BEFORE {_literal(before[0])}"
            if not after and before
            else f" AFTER {_literal(after[-1])}"
            if after
            else ""
        )
        statements.append(f"ALTER TYPE {op.sql_name} ADD VALUE {_literal(value)}{where}")
    if not op.autocommit:
        return [f"op.execute({s!r})" for s in statements]
    # Before PostgreSQL 12, ADD VALUE cannot run inside a transaction block.
    lines = ["with op.get_context().autocommit_block():"]
    lines += [f"    op.execute({s!r})" for s in statements]
    return lines


def _render_rebuild(op: AlterEnumOp) -> list[str]:
    removed = [v for v in op.old.values if v not in op.new.values]
    lines = []
    for column in op.columns:
        sentence = (
            f"Rows of {column.label} still hold a value the type {op.new.name} no longer has "
            f"({', '.join(removed)}): update or delete them, then upgrade again."
        )
        check = (
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {column.table_sql} WHERE "
            f"{column.column_sql}::text IN ({_values_sql(removed)})) THEN RAISE EXCEPTION "
            f"{_literal(sentence.replace('$', ''))}; END IF; END $$"
        )
        lines.append(f"op.execute({check!r})")
    lines.append(f"op.execute({f'ALTER TYPE {op.sql_name} RENAME TO {op.new.name}_old'!r})")
    lines.append(
        f"op.execute({f'CREATE TYPE {op.sql_name} AS ENUM ({_values_sql(op.new.values)})'!r})"
    )
    for column in op.columns:
        target = f"ALTER TABLE {column.table_sql} ALTER COLUMN {column.column_sql}"
        if column.default is not None:
            lines.append(f"op.execute({f'{target} DROP DEFAULT'!r})")
        alter = f"{target} TYPE {op.sql_name} USING {column.column_sql}::text::{op.sql_name}"
        lines.append(f"op.execute({alter!r})")
        if column.default is not None and column.default in op.new.values:
            restore = f"{target} SET DEFAULT {_literal(column.default)}::{op.sql_name}"
            lines.append(f"op.execute({restore!r})")
    lines.append(f"op.execute({f'DROP TYPE {op.sql_name_old}'!r})")
    return lines


def render_enum_type(type_: Any, autogen_context: Any) -> str | None:
    """A native enum column on a backend with named types, written so that the column does not
    make its type (the type operations do): ``postgresql.ENUM(..., create_type=False)``."""
    if not isinstance(type_, Enum) or not type_.native_enum or not type_.name:
        return None
    autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
    schema = f", schema={type_.schema!r}" if type_.schema else ""
    values = ", ".join(repr(v) for v in type_.enums)
    return f"postgresql.ENUM({values}, name={type_.name!r}{schema}, create_type=False)"


# -- comparing ------------------------------------------------------------------------------


def _model_enums(
    metadata: MetaData | list[MetaData], default_schema: str
) -> dict[tuple[str, str], EnumType]:
    found: dict[tuple[str, str], EnumType] = {}
    for each in metadata if isinstance(metadata, list | tuple) else [metadata]:
        for table in each.tables.values():
            for column in table.columns:
                type_ = column.type
                if isinstance(type_, Enum) and type_.native_enum and type_.name:
                    schema = type_.schema  # set from the table when it inherits one
                    key = (schema or default_schema, type_.name)
                    found[key] = EnumType(schema, type_.name, tuple(type_.enums))
    return found


def _database_enums(connection: Connection) -> dict[tuple[str, str], EnumType]:
    default = connection.dialect.default_schema_name or "public"
    return {
        (e["schema"] or default, e["name"]): EnumType(
            None if e["schema"] in (None, default) else e["schema"], e["name"], tuple(e["labels"])
        )
        for e in cast(Any, inspect(connection)).get_enums(schema="*")
    }


_QUOTED_DEFAULT = re.compile(r"^'((?:[^']|'')*)'::")


def _columns_of(connection: Connection, key: tuple[str, str]) -> tuple[EnumColumn, ...]:
    rows = connection.execute(
        text(
            "SELECT c.table_schema, c.table_name, c.column_name, c.column_default "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.udt_schema = :schema AND c.udt_name = :name "
            "AND t.table_type = 'BASE TABLE' ORDER BY 1, 2, 3"
        ),
        {"schema": key[0], "name": key[1]},
    )
    quote = connection.dialect.identifier_preparer
    default = connection.dialect.default_schema_name or "public"
    columns = []
    for schema, table, column, column_default in rows:
        table_sql = (
            quote.quote(table)
            if schema == default
            else f"{quote.quote_schema(schema)}.{quote.quote(table)}"
        )
        label = f"{table}.{column}" if schema == default else f"{schema}.{table}.{column}"
        value = _QUOTED_DEFAULT.match(column_default or "")
        kept = value[1].replace("''", "'") if value else None
        columns.append(EnumColumn(table_sql, quote.quote(column), label, kept))
    return tuple(columns)


def _walk(container: ops.OpContainer) -> Iterator[ops.MigrateOperation]:
    for operation in container.ops:
        if isinstance(operation, ops.OpContainer):
            yield from _walk(operation)
        else:
            yield operation


def _enum_names_dropped(upgrade_ops: ops.UpgradeOps) -> set[str]:
    """Types used by columns the upgrade drops (with their table or alone)."""
    names: set[str] = set()
    for operation in _walk(upgrade_ops):
        columns: list[Any] = []
        if isinstance(operation, ops.DropTableOp):
            columns = [c for c in operation.to_table().columns]
        elif isinstance(operation, ops.DropColumnOp):
            columns = [operation.to_column()]
        for column in columns:
            if isinstance(column, Column) and isinstance(column.type, Enum) and column.type.name:
                names.add(column.type.name)
    return names


def add_enum_operations(script: Any, connection: Connection, metadata: Any) -> None:
    """Put type operations into the revision: creates first, value changes next (both before
    any table operation), drops of types no model uses last; the downgrade mirrors them."""
    quote = connection.dialect.identifier_preparer
    default = connection.dialect.default_schema_name or "public"
    wanted = _model_enums(metadata, default)
    existing = _database_enums(connection)
    autocommit = (connection.dialect.server_version_info or (99,)) < (12,)
    first: list[ops.MigrateOperation] = []
    last: list[ops.MigrateOperation] = []
    for key, enum in wanted.items():
        sql_name = enum.sql_name(quote)
        old = existing.get(key)
        if old is None:
            first.append(CreateEnumOp(enum, sql_name))
        elif old.values != enum.values:
            replaced = EnumType(enum.schema, f"{enum.name}_old", ()).sql_name(quote)
            columns = _columns_of(connection, key)
            first.append(AlterEnumOp(old, enum, (sql_name, replaced), columns, autocommit))
    upgrade_ops = script.upgrade_ops_list[-1]
    dropped = _enum_names_dropped(upgrade_ops)
    for key, enum in existing.items():
        if key not in wanted and enum.name in dropped:
            last.append(DropEnumOp(enum, enum.sql_name(quote)))
    if not first and not last:
        return
    upgrade_ops.ops[:0] = first
    upgrade_ops.ops.extend(last)
    downgrade_ops = script.downgrade_ops_list[-1]
    downgrade_ops.ops[:0] = [o.reverse() for o in reversed(last)]
    downgrade_ops.ops.extend(o.reverse() for o in reversed(first))

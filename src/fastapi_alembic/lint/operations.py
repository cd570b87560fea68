"""Alembic operation objects as lint's actions: what one ``op.*`` call does.

Light to import (the SQL parser loads only when an ``op.execute`` is read): the data-loss guard
uses it on every operation of a running upgrade.
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops as alembic_ops
from alembic.runtime.migration import MigrationContext

from fastapi_alembic.lint.model import Action, ColumnFacts, Kind
from fastapi_alembic.lint.types import facts

_CONTEXTS: dict[str, MigrationContext] = {}


def migration_context(backend: str) -> MigrationContext:
    """An offline migration context for ``backend`` (made once: it only lends its dialect)."""
    if backend not in _CONTEXTS:
        _CONTEXTS[backend] = MigrationContext.configure(
            dialect_name=backend,
            # named parameters (:name) compile to SQL every backend's parser reads
            dialect_opts={"paramstyle": "named"},
            opts={"as_sql": True, "output_buffer": io.StringIO()},
        )
    return _CONTEXTS[backend]


def statement_text(statement: Any, dialect: Any) -> str:
    """The SQL text of a string, text() or Core construct, compiled for ``dialect``."""
    if isinstance(statement, str):
        return statement
    text = getattr(statement, "text", None)
    if isinstance(text, str):  # sa.text(): keep it as written, :name parameters included
        return text
    try:  # values written in: a rule's advice can repeat the statement as it is
        return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # a value with no literal form
        return str(statement.compile(dialect=dialect))


# -- Alembic operation objects to actions --------------------------------------------------


def _column_facts(column: sa.Column[Any]) -> ColumnFacts:
    default = column.server_default
    default_text = None
    if default is not None:
        argument = getattr(default, "arg", None)
        default_text = str(getattr(argument, "text", argument)) if argument is not None else "?"
    serial = column.identity is not None or (
        column.autoincrement is True and isinstance(column.type, sa.Integer)
    )
    if isinstance(default, sa.Sequence):
        serial = True
    return ColumnFacts(
        name=column.name,
        type=facts(column.type),
        nullable=bool(column.nullable) and not column.primary_key,
        server_default=default_text,
        autoincrement=serial,
        primary_key=column.primary_key,
    )


def to_actions(operation: Any, backend: str) -> list[Action]:
    """The actions one Alembic operation stands for, SQL read as ``backend`` reads it."""
    actions = _actions_of(operation, backend)
    schema = getattr(operation, "schema", None)
    if schema is None and isinstance(operation, alembic_ops.BulkInsertOp):
        schema = getattr(operation.table, "schema", None)
    if schema is not None:
        for action in actions:
            if action.source == "op":
                action.schema = schema
    return actions


def _actions_of(operation: Any, backend: str) -> list[Action]:
    o = alembic_ops
    if isinstance(operation, o.ExecuteSQLOp):
        dialect = migration_context(backend).dialect
        try:
            sql = statement_text(operation.sqltext, dialect)
        except Exception as error:
            return [Action(Kind.UNPARSED_SQL, sql=repr(operation.sqltext), error=str(error))]
        from fastapi_alembic.lint.sql import read_sql

        return read_sql(sql, backend)
    if isinstance(operation, o.CreateTableOp):
        columns = tuple(_column_facts(c) for c in operation.columns if isinstance(c, sa.Column))
        return [Action(Kind.CREATE_TABLE, table=operation.table_name, columns=columns)]
    if isinstance(operation, o.DropTableOp):
        return [Action(Kind.DROP_TABLE, table=operation.table_name)]
    if isinstance(operation, o.RenameTableOp):
        return [
            Action(Kind.RENAME_TABLE, table=operation.table_name, new_name=operation.new_table_name)
        ]
    if isinstance(operation, o.AddColumnOp):
        column = _column_facts(operation.column)
        return [
            Action(
                Kind.ADD_COLUMN, table=operation.table_name, column=column.name, columns=(column,)
            )
        ]
    if isinstance(operation, o.DropColumnOp):
        return [Action(Kind.DROP_COLUMN, table=operation.table_name, column=operation.column_name)]
    if isinstance(operation, o.AlterColumnOp):
        return [_alter_column(operation)]
    if isinstance(operation, o.CreateIndexOp):
        return [
            Action(
                Kind.CREATE_INDEX,
                table=operation.table_name,
                name=operation.index_name,
                unique=bool(operation.unique),
                concurrently=bool(operation.kw.get("postgresql_concurrently")),
                column_names=tuple(str(c) for c in operation.columns),
            )
        ]
    if isinstance(operation, o.DropIndexOp):
        return [
            Action(
                Kind.DROP_INDEX,
                table=operation.table_name,
                name=str(operation.index_name),
                concurrently=bool(operation.kw.get("postgresql_concurrently")),
            )
        ]
    if isinstance(operation, o.AddConstraintOp):
        return [_add_constraint(operation)]
    if isinstance(operation, o.DropConstraintOp):
        return [
            Action(
                Kind.DROP_CONSTRAINT,
                table=operation.table_name,
                name=str(operation.constraint_name),
                constraint=operation.constraint_type,
            )
        ]
    if isinstance(operation, o.BulkInsertOp):
        return [Action(Kind.INSERT, table=getattr(operation.table, "name", None))]
    return [Action(Kind.OTHER, table=getattr(operation, "table_name", None))]


def _alter_column(operation: alembic_ops.AlterColumnOp) -> Action:
    using = operation.kw.get("postgresql_using")
    return Action(
        Kind.ALTER_COLUMN,
        table=operation.table_name,
        column=operation.column_name,
        new_type=facts(operation.modify_type),
        old_type=facts(operation.existing_type),
        nullable=operation.modify_nullable,
        new_name=operation.modify_name,
        server_default_changed=operation.modify_server_default is not False,
        using=str(using) if using is not None else None,
    )


def _add_constraint(operation: Any) -> Action:
    o = alembic_ops
    table = getattr(operation, "table_name", None) or getattr(operation, "source_table", None)
    kind = {
        o.CreateForeignKeyOp: "foreign_key",
        o.CreateCheckConstraintOp: "check",
        o.CreateUniqueConstraintOp: "unique",
        o.CreatePrimaryKeyOp: "primary_key",
    }.get(type(operation), "other")
    kw = getattr(operation, "kw", {}) or {}
    columns = tuple(
        str(c)
        for c in getattr(operation, "columns", None) or getattr(operation, "local_cols", None) or ()
    )
    condition = getattr(operation, "condition", None)
    return Action(
        Kind.ADD_CONSTRAINT,
        table=table,
        name=str(operation.constraint_name) if operation.constraint_name else None,
        constraint=kind,
        not_valid=bool(kw.get("postgresql_not_valid")),
        column_names=columns,
        referent=getattr(operation, "referent_table", None),
        referent_columns=tuple(str(c) for c in getattr(operation, "remote_cols", None) or ()),
        referent_options=tuple(
            (key, str(kw[key]))
            for key in ("ondelete", "onupdate", "deferrable", "initially", "match")
            if kw.get(key) is not None
        ),
        condition=_condition_text(condition) if condition is not None else None,
    )


def _condition_text(condition: Any) -> str:
    """A check constraint's condition as SQL (a string, text() or an expression)."""
    if isinstance(condition, str):
        return condition
    text = getattr(condition, "text", None)
    if isinstance(text, str):
        return text
    try:
        return str(condition.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # an expression only a dialect can compile
        return str(condition)

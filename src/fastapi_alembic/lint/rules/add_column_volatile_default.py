"""add-column-volatile-default: a default PostgreSQL must compute per row rewrites the table."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Subject, add_column, call, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import ColumnFacts, Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.sql import volatile_default
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    old_server = context.version() < (11,)
    for action in context.of_kind(Kind.ADD_COLUMN):
        column = action.columns[0] if action.columns else None
        if column is None or column.server_default is None or not context.existed(action.table):
            continue
        if column.autoincrement:
            continue  # add-serial-column says this one
        if volatile_default(column.server_default):
            reason = f"its default {column.server_default} is computed for every row"
        elif old_server:
            reason = "before PostgreSQL 11 any default is written into every row"
        else:
            continue
        yield Hit(
            f"adds {action.target} with a default: {reason}, rewriting the table while reads "
            "and writes wait",
            action,
            action.table,
            action.column,
        )


def default_code(default: str) -> str:
    """A server default as Alembic code: an expression as sa.text(), a constant as itself."""
    if "(" in default or default.upper().startswith("CURRENT_") or default.startswith("'"):
        return f"sa.text({py(default)})"
    return py(default)


def advice(s: Subject) -> str:
    added = s.added or ColumnFacts(s.column or "?")
    default = default_code(added.server_default or "")
    return f"""\
# Add {s.target} without a default (instant), then give new rows the default:
{add_column(s.table, added.name, added.type, "nullable=True")}
{call("op.alter_column", py(s.table), py(added.name), f"server_default={default}")}
# ...fill the old rows in batches in a data migration, then set NOT NULL if needed."""


RULE = Rule(
    id="add-column-volatile-default",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a column with a volatile default",
    why="From PostgreSQL 11 a constant default is stored once and the ALTER is instant, but a "
    "volatile one (random(), gen_random_uuid(), clock_timestamp()) is evaluated for every row, "
    "rewriting the table under an ACCESS EXCLUSIVE lock; before 11 every default does that.",
    advice=advice,
    example=Subject(
        table="users",
        column="token",
        added=ColumnFacts("token", facts(sa.Uuid()), server_default="gen_random_uuid()"),
    ),
    check=check,
    backends=("postgresql",),
    versions="volatile defaults: all versions; any default: before 11",
    scope="size",
)

"""rename-column: the code still running uses the old column name."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Subject, add_column, execute, ident
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import ColumnFacts, Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if not action.new_name or action.new_name == action.column:
            continue
        if not context.existed(action.table) or context.created_here(action.table, action.column):
            continue  # a column this revision made holds no data yet and no code uses it
        yield Hit(
            f"renames column {action.target} to {action.new_name}: the code still running "
            f"reads and writes {action.column} until it is replaced",
            action,
            action.table,
            action.column,
        )


def advice(s: Subject) -> str:
    column = s.column or "?"
    new = s.new_name or f"{column}_new"
    table, old_sql, new_sql = (ident(x, s.backend) for x in (s.table, column, new))
    backfill = f"UPDATE {table} SET {new_sql} = {old_sql} WHERE {new_sql} IS NULL"
    return f"""\
# Release 1: add {new} and write both (in the code, or with a trigger), backfill it:
{add_column(s.table, new, s.type_now, "nullable=True")}
{execute(backfill)}
# Release 2: the code reads {new} only. Release 3: drop {column}."""


RULE = Rule(
    id="rename-column",
    category="compatibility",
    severity=Severity.ERROR,
    title="Renaming a column",
    why="Old code still running during the deploy selects and inserts the old name and fails.",
    advice=advice,
    example=Subject(
        table="users",
        column="name",
        new_name="full_name",
        existing=ColumnFacts("name", facts(sa.String(200))),
    ),
    check=check,
)

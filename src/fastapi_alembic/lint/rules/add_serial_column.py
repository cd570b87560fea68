"""add-serial-column: a serial or identity column fills every existing row in a rewrite."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Subject, add_column, call, execute, ident, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import ColumnFacts, Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_COLUMN):
        column = action.columns[0] if action.columns else None
        if column is not None and column.autoincrement and context.existed(action.table):
            yield Hit(
                f"adds serial/identity column {action.target}: every row gets a value from the "
                "sequence in a table rewrite while reads and writes wait",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    added = s.added or ColumnFacts(s.column or "?", facts(sa.BigInteger()))
    sequence = f"{s.table}_{added.name}_seq"[:63]
    owned = f"{ident(s.table, s.backend)}.{ident(added.name, s.backend)}"
    create = f"CREATE SEQUENCE {ident(sequence, s.backend)} OWNED BY {owned}"
    default = f"nextval('{sequence}')"
    return f"""\
# Add the column empty, number new rows from a sequence, and the old ones in batches:
{add_column(s.table, added.name, added.type, "nullable=True")}
{execute(create)}
{call("op.alter_column", py(s.table), py(added.name), f"server_default=sa.text({py(default)})")}
# ...number the old rows in batches in a data migration."""


RULE = Rule(
    id="add-serial-column",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a serial or identity column to an existing table",
    why="A serial or identity column's default is nextval(), volatile: PostgreSQL rewrites the "
    "table to number every row, under an ACCESS EXCLUSIVE lock.",
    advice=advice,
    example=Subject(table="events", column="seq", added=ColumnFacts("seq", facts(sa.BigInteger()))),
    check=check,
    backends=("postgresql",),
    scope="size",
)

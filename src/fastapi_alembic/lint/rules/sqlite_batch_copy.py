"""sqlite-batch-copy: a batch operation that copies a whole table on SQLite (informational)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Call, Subject, call, kw, py, type_argument
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.facts.sqlite_facts import batch_recreates
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    seen: set[str] = set()
    for action in context.actions:
        table = action.table
        if table and table not in seen and batch_recreates(action) and context.existed(table):
            seen.add(table)
            yield Hit(
                f"batch-alters {table}: SQLite copies every row into a new table and swaps it in",
                action,
                table,
            )


def _step(s: Subject) -> str:
    if s.kind is Kind.DROP_COLUMN and s.column:
        return call("batch_op.drop_column", py(s.column), indent=4)
    if s.kind is Kind.ALTER_COLUMN and s.column:
        arguments: list[str | Call] = [py(s.column)]
        if s.new_type is not None:
            arguments.append(kw("type_", type_argument(s.new_type)))
        if s.nullable is not None:
            arguments.append(f"nullable={s.nullable}")
        if s.type_now is not None:
            arguments.append(kw("existing_type", type_argument(s.type_now)))
        return call("batch_op.alter_column", *arguments, indent=4)
    return "    ..."


def advice(s: Subject) -> str:
    return f"""\
# Group every change to {s.table} in ONE batch, so it is copied once, when it is small
# or while nothing writes to it:
with op.batch_alter_table({py(s.table)}) as batch_op:
{_step(s)}
    # ...and every other change to {s.table} in this revision"""


RULE = Rule(
    id="sqlite-batch-copy",
    category="sqlite",
    severity=Severity.WARNING,
    title="A batch operation that copies the table on SQLite",
    why="SQLite's ALTER TABLE can only add and rename columns; for anything else Alembic's batch "
    "mode creates a new table, copies every row and swaps it in, holding the database's write "
    "lock for the whole copy. Fine on small tables; plan for it on large ones.",
    advice=advice,
    example=Subject(
        backend="sqlite",
        table="users",
        column="name",
        kind=Kind.ALTER_COLUMN,
        new_type=facts(sa.String(100)),
    ),
    check=check,
    backends=("sqlite",),
    scope="size",
)

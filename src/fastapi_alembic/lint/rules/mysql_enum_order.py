"""mysql-enum-order: enum values inserted or reordered, not appended, copy the table."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Call, Subject, alter_column, kw, py, type_argument
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.facts.mysql_facts import enum_reordered
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if not context.existed(action.table):
            continue
        known = context.before.column(action.table, action.column)
        old = action.old_type or (known.type if known else None)
        if enum_reordered(old, action.new_type):
            yield Hit(
                f"changes the ENUM of {action.target} other than by appending values at the end: "
                "the table is copied with writes blocked",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    old = s.type_now
    before = tuple(old.enum_values or ()) if old else ()
    after = tuple(s.new_type.enum_values or ()) if s.new_type else ()
    appended = (*before, *(v for v in after if v not in before))
    name = (s.new_type.name if s.new_type else None) or (old.name if old else None)
    named = (f"name={py(name)}",) if name else ()
    new_type = Call("sa.Enum", (*(py(v) for v in appended), *named), keyword="type_=")
    existing = (kw("existing_type", type_argument(old)),) if old else ()
    return f"""\
# Keep the values {s.target} has, in their order, and add the new ones at the end (instant):
{alter_column(s, new_type, *existing)}"""


RULE = Rule(
    id="mysql-enum-order",
    category="mysql",
    severity=Severity.ERROR,
    title="Enum values not appended at the end",
    why="MySQL stores an ENUM as the index of its value. Appending values at the end is instant; "
    "inserting one in the middle, reordering or removing one renumbers every row, so the "
    "table is copied while writes are blocked.",
    advice=advice,
    example=Subject(
        backend="mysql",
        table="orders",
        column="status",
        old_type=facts(sa.Enum("new", "paid", "shipped", name="status")),
        new_type=facts(sa.Enum("new", "refunded", "paid", "shipped", name="status")),
    ),
    check=check,
    backends=("mysql",),
    scope="size",
)

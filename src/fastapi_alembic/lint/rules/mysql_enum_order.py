"""mysql-enum-order: enum values inserted or reordered, not appended, copy the table."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.dialects.mysql_lint import enum_reordered
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


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


RULE = Rule(
    id="mysql-enum-order",
    category="mysql",
    severity=Severity.ERROR,
    title="Enum values not appended at the end",
    why="MySQL stores an ENUM as the index of its value. Appending values at the end is instant; "
    "inserting one in the middle, reordering or removing one renumbers every row, so the "
    "table is copied while writes are blocked.",
    safe="""\
op.alter_column(
    "orders",
    "status",
    type_=sa.Enum("new", "paid", "shipped", "refunded", name="status"),  # new value last
    existing_type=sa.Enum("new", "paid", "shipped", name="status"),
)""",
    check=check,
    backends=("mysql",),
    scope="size",
)

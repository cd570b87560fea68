"""not-null-column-without-default: a new NOT NULL column with no server default."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_COLUMN):
        column = action.columns[0] if action.columns else None
        if column is None or column.nullable or column.server_default is not None:
            continue
        if column.autoincrement or not context.existed(action.table):
            continue
        yield Hit(
            f"adds {action.target} NOT NULL without a server default: it fails on a table with "
            "rows, and inserts from the code still running fail",
            action,
            action.table,
            action.column,
        )


RULE = Rule(
    id="not-null-column-without-default",
    category="compatibility",
    severity=Severity.ERROR,
    title="A new NOT NULL column without a server default",
    why="Existing rows have no value for it, so the ALTER fails on any table with rows; and the "
    "code still running inserts rows without it, which fail too.",
    safe="""\
op.add_column(
    "users",
    sa.Column("plan", sa.String(20), nullable=False, server_default="free"),
)""",
    check=check,
)

"""add-serial-column: a serial or identity column fills every existing row in a rewrite."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


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


RULE = Rule(
    id="add-serial-column",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a serial or identity column to an existing table",
    why="A serial or identity column's default is nextval(), volatile: PostgreSQL rewrites the "
    "table to number every row, under an ACCESS EXCLUSIVE lock.",
    safe="""\
op.add_column("events", sa.Column("seq", sa.BigInteger(), nullable=True))
op.execute("CREATE SEQUENCE events_seq_seq OWNED BY events.seq")
op.alter_column("events", "seq", server_default=sa.text("nextval('events_seq_seq')"))
# ...number the old rows in batches in a data migration.""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

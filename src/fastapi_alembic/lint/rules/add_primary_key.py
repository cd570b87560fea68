"""add-primary-key: a primary key on an existing table builds its index under a lock."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_CONSTRAINT):
        if action.constraint == "primary_key" and context.existed(action.table):
            yield Hit(
                f"adds a primary key to {action.table}: the columns are scanned for NOT NULL "
                "and the unique index is built while reads and writes wait",
                action,
                action.table,
            )


RULE = Rule(
    id="add-primary-key",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a primary key to an existing table",
    why="ADD PRIMARY KEY sets the columns NOT NULL (a scan) and builds a unique index, all under "
    "an ACCESS EXCLUSIVE lock.",
    safe="""\
with op.get_context().autocommit_block():
    op.create_index(
        "events_pkey_idx",
        "events",
        ["id"],
        unique=True,
        postgresql_concurrently=True,
    )
op.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey_idx")""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

"""create-index-not-concurrently: a plain CREATE INDEX blocks writes for the whole build."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.CREATE_INDEX):
        if not action.concurrently and context.existed(action.table):
            yield Hit(
                f"creates index {action.name or ''} on {action.table} without CONCURRENTLY: "
                "inserts, updates and deletes wait until the index is built",
                action,
                action.table,
            )


RULE = Rule(
    id="create-index-not-concurrently",
    category="locking",
    severity=Severity.ERROR,
    title="Creating an index without CONCURRENTLY",
    why="CREATE INDEX takes a SHARE lock on the table: every INSERT, UPDATE and DELETE waits "
    "until the whole index is built, minutes on a large table.",
    safe="""\
with op.get_context().autocommit_block():
    op.create_index(
        "ix_users_email",
        "users",
        ["email"],
        postgresql_concurrently=True,
    )""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

"""drop-index-not-concurrently: a plain DROP INDEX locks the table against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.DROP_INDEX):
        if action.concurrently or (action.table and not context.existed(action.table)):
            continue
        yield Hit(
            f"drops index {action.name} without CONCURRENTLY: the table is locked "
            "against reads and writes while it waits for running queries",
            action,
            action.table,
        )


RULE = Rule(
    id="drop-index-not-concurrently",
    category="locking",
    severity=Severity.ERROR,
    title="Dropping an index without CONCURRENTLY",
    why="DROP INDEX takes an ACCESS EXCLUSIVE lock on the table. It has to wait for every "
    "running query on the table, and every query after it waits behind it.",
    safe="""\
with op.get_context().autocommit_block():
    op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

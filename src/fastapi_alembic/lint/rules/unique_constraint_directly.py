"""unique-constraint-directly: a unique constraint builds its index under a write lock."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_CONSTRAINT):
        if action.constraint == "unique" and context.existed(action.table):
            yield Hit(
                f"adds unique constraint {action.name or ''} on {action.table} directly: its "
                "index is built while writes are blocked",
                action,
                action.table,
            )


RULE = Rule(
    id="unique-constraint-directly",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a unique constraint directly",
    why="ADD CONSTRAINT ... UNIQUE builds the unique index inside the ALTER, holding a lock that "
    "blocks writes (and reads) for the whole build.",
    safe="""\
with op.get_context().autocommit_block():
    op.create_index(
        "uq_users_email",
        "users",
        ["email"],
        unique=True,
        postgresql_concurrently=True,
    )
op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email")""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

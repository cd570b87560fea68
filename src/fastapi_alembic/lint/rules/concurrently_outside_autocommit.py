"""concurrently-outside-autocommit: CONCURRENTLY inside a transaction fails at deploy time."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.CREATE_INDEX, Kind.DROP_INDEX):
        if action.concurrently and not action.autocommit:
            verb = "creates" if action.kind is Kind.CREATE_INDEX else "drops"
            yield Hit(
                f"{verb} index {action.name or ''} on {action.table or '?'} CONCURRENTLY inside "
                "the migration's transaction: PostgreSQL refuses it",
                action,
                action.table,
            )


RULE = Rule(
    id="concurrently-outside-autocommit",
    category="locking",
    severity=Severity.ERROR,
    title="CONCURRENTLY outside an autocommit block",
    why="PostgreSQL cannot run CREATE/DROP INDEX CONCURRENTLY inside a transaction block, and "
    "migrations run in one: the upgrade fails with 'cannot run inside a transaction block'.",
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
    directions=("upgrade", "downgrade"),
)

"""concurrently-outside-autocommit: CONCURRENTLY inside a transaction fails at deploy time."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import (
    Subject,
    create_index_concurrently,
    drop_index_concurrently,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.CREATE_INDEX, Kind.DROP_INDEX):
        if action.concurrently and not action.autocommit:
            verb = "creates" if action.kind is Kind.CREATE_INDEX else "drops"
            index = f"index {action.name}" if action.name else "an index"
            where = f" on {action.table}" if action.table else ""
            yield Hit(
                f"{verb} {index}{where} CONCURRENTLY inside the migration's transaction: "
                "PostgreSQL refuses it",
                action,
                action.table,
            )


def advice(s: Subject) -> str:
    if s.kind is Kind.DROP_INDEX:
        return drop_index_concurrently(s)
    return create_index_concurrently(s)


RULE = Rule(
    id="concurrently-outside-autocommit",
    category="locking",
    severity=Severity.ERROR,
    title="CONCURRENTLY outside an autocommit block",
    why="PostgreSQL cannot run CREATE/DROP INDEX CONCURRENTLY inside a transaction block, and "
    "migrations run in one: the upgrade fails with 'cannot run inside a transaction block'.",
    advice=advice,
    example=Subject(
        table="users", name="ix_users_email", columns=("email",), kind=Kind.CREATE_INDEX
    ),
    check=check,
    backends=("postgresql",),
    directions=("upgrade", "downgrade"),
)

"""drop-index-not-concurrently: a plain DROP INDEX locks the table against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, drop_index_concurrently
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    actions = context.actions
    for position, action in enumerate(actions):
        if action.kind is not Kind.DROP_INDEX or action.concurrently:
            continue
        if action.table and not context.existed(action.table):
            continue
        # The table goes next in the same revision: DROP TABLE drops its indexes (and takes
        # the same lock) anyway, so dropping them first changes nothing.
        if action.table and any(
            later.kind is Kind.DROP_TABLE and later.table == action.table
            for later in actions[position + 1 :]
        ):
            continue
        where = f" on {action.table}" if action.table else ""
        yield Hit(
            f"drops index {action.name}{where} without CONCURRENTLY: the table is locked "
            "against reads and writes while it waits for running queries",
            action,
            action.table,
        )


def advice(s: Subject) -> str:
    return drop_index_concurrently(s)


RULE = Rule(
    id="drop-index-not-concurrently",
    category="locking",
    severity=Severity.ERROR,
    title="Dropping an index without CONCURRENTLY",
    why="DROP INDEX takes an ACCESS EXCLUSIVE lock on the table. It has to wait for every "
    "running query on the table, and every query after it waits behind it.",
    advice=advice,
    example=Subject(table="users", name="ix_users_email", columns=("email",)),
    check=check,
    backends=("postgresql",),
    scope="size",
)

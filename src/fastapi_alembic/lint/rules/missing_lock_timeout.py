"""missing-lock-timeout: DDL on an existing table with no lock_timeout can stall every query."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule

_LOCKING = {
    Kind.DROP_TABLE,
    Kind.RENAME_TABLE,
    Kind.ADD_COLUMN,
    Kind.DROP_COLUMN,
    Kind.ALTER_COLUMN,
    Kind.ADD_CONSTRAINT,
    Kind.DROP_CONSTRAINT,
}


def check(context: RuleContext) -> Iterator[Hit]:
    if context.has_lock_timeout or context.environment.runner_lock_timeout > 0:
        return  # the revision sets one, or our runner does (lock_timeout under [tool.fastapi-alembic])
    for action in context.actions:
        if action.kind in _LOCKING and context.existed(action.table):
            yield Hit(
                f"alters {action.table} with no lock_timeout: while it waits for its lock, "
                "every other query on the table waits behind it",
                action,
                action.table,
            )
            return


def advice(s: Subject) -> str:
    return f"""\
# First thing in {s.direction}(), before it alters {s.table}: fail fast rather than queue
op.execute("SET lock_timeout = '5s'")
# (or leave lock_timeout under [tool.fastapi-alembic] on: FastAPI-Alembic's runner sets it)"""


RULE = Rule(
    id="missing-lock-timeout",
    category="locking",
    severity=Severity.ERROR,
    title="DDL on an existing table without lock_timeout",
    why="An ALTER TABLE waits for the ACCESS EXCLUSIVE lock behind any long query or open "
    "transaction, and every query that arrives after it queues behind the ALTER: the table is "
    "down until the long query ends. A lock_timeout makes the migration fail fast instead, "
    "to be retried. FastAPI-Alembic's runner sets one around every migration (lock_timeout "
    "under [tool.fastapi-alembic], default 5 s, with retries), so this fires only where that is "
    "turned off (lock_timeout = 0) and the revision sets none itself.",
    advice=advice,
    example=Subject(table="users"),
    check=check,
    backends=("postgresql",),
    scope="size",
)

"""create-index-not-concurrently: a plain CREATE INDEX blocks writes for the whole build."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, create_index_concurrently, index_name
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.CREATE_INDEX):
        if not action.concurrently and context.existed(action.table):
            index = (
                f"index {action.name} on {action.table}"
                if action.name
                else f"an index on {action.table} ({', '.join(action.column_names) or '?'})"
            )
            yield Hit(
                f"creates {index} without CONCURRENTLY: inserts, updates and deletes wait until "
                "the index is built",
                action,
                action.table,
            )


def advice(s: Subject) -> str:
    return f"""\
# Build {index_name(s)} without blocking writes to {s.table}:
{create_index_concurrently(s)}"""


RULE = Rule(
    id="create-index-not-concurrently",
    category="locking",
    severity=Severity.ERROR,
    title="Creating an index without CONCURRENTLY",
    why="CREATE INDEX takes a SHARE lock on the table: every INSERT, UPDATE and DELETE waits "
    "until the whole index is built, minutes on a large table.",
    advice=advice,
    example=Subject(table="users", name="ix_users_email", columns=("email",)),
    check=check,
    backends=("postgresql",),
    scope="size",
)

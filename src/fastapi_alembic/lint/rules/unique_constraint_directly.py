"""unique-constraint-directly: a unique constraint builds its index under a write lock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from fastapi_alembic.lint.advice import (
    Subject,
    constraint_name,
    create_index_concurrently,
    execute,
    ident,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_CONSTRAINT):
        if action.constraint == "unique" and context.existed(action.table):
            constraint = (
                f"unique constraint {action.name}"
                if action.name
                else f"a unique constraint ({', '.join(action.column_names) or '?'})"
            )
            yield Hit(
                f"adds {constraint} on {action.table} directly: its index is built while "
                "writes are blocked",
                action,
                action.table,
            )


def advice(s: Subject) -> str:
    name = constraint_name(replace(s, constraint="unique"))
    index = replace(s, name=name, unique=True, sql=None)
    attach = (
        f"ALTER TABLE {ident(s.table, s.backend)} ADD CONSTRAINT {ident(name, s.backend)} "
        f"UNIQUE USING INDEX {ident(name, s.backend)}"
    )
    return f"""\
# Build the unique index without blocking writes, then make it the constraint (instant):
{create_index_concurrently(index)}
{execute(attach)}"""


RULE = Rule(
    id="unique-constraint-directly",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a unique constraint directly",
    why="ADD CONSTRAINT ... UNIQUE builds the unique index inside the ALTER, holding a lock that "
    "blocks writes (and reads) for the whole build.",
    advice=advice,
    example=Subject(table="users", name="uq_users_email", constraint="unique", columns=("email",)),
    check=check,
    backends=("postgresql",),
    scope="size",
)

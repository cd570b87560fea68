"""add-primary-key: a primary key on an existing table builds its index under a lock."""

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
        if action.constraint == "primary_key" and context.existed(action.table):
            yield Hit(
                f"adds a primary key to {action.table}: the columns are scanned for NOT NULL "
                "and the unique index is built while reads and writes wait",
                action,
                action.table,
            )


def advice(s: Subject) -> str:
    name = constraint_name(replace(s, constraint="primary_key"))
    index = f"{name}_idx"[:63]
    attach = (
        f"ALTER TABLE {ident(s.table, s.backend)} ADD CONSTRAINT {ident(name, s.backend)} "
        f"PRIMARY KEY USING INDEX {ident(index, s.backend)}"
    )
    build = create_index_concurrently(replace(s, name=index, unique=True, sql=None))
    return f"""\
# Build the unique index without blocking writes, then make it the primary key:
{build}
{execute(attach)}"""


RULE = Rule(
    id="add-primary-key",
    category="locking",
    severity=Severity.ERROR,
    title="Adding a primary key to an existing table",
    why="ADD PRIMARY KEY sets the columns NOT NULL (a scan) and builds a unique index, all under "
    "an ACCESS EXCLUSIVE lock.",
    advice=advice,
    example=Subject(table="events", name="events_pkey", constraint="primary_key", columns=("id",)),
    check=check,
    backends=("postgresql",),
    scope="size",
)

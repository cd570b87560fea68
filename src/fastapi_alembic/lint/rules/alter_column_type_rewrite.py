"""alter-column-type-rewrite: a type change PostgreSQL does by rewriting the whole table."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Subject, add_column
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.facts.postgresql_facts import rewrites_on_type_change
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.new_type is None or not context.existed(action.table):
            continue
        known = context.before.column(action.table, action.column)
        old = action.old_type or (known.type if known else None)
        if rewrites_on_type_change(old, action.new_type):
            yield Hit(
                f"changes the type of {action.target} to {action.new_type}: PostgreSQL rewrites "
                "the table and its indexes while reads and writes wait",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    column = s.column or "?"
    new_column = f"{column}_new"[:63]
    return f"""\
# Add a new column, fill it in batches, switch the code over, then drop the old one:
{add_column(s.table, new_column, s.new_type, "nullable=True")}
# ...a data migration copies {column} into {new_column} in batches of a few thousand rows...
# ...a later revision swaps the columns once the code uses {new_column}."""


RULE = Rule(
    id="alter-column-type-rewrite",
    category="locking",
    severity=Severity.ERROR,
    title="A column type change that rewrites the table",
    why="Most type changes (integer to bigint, varchar to integer, timestamp to timestamptz...) "
    "rewrite every row and rebuild every index under an ACCESS EXCLUSIVE lock. Only a few are "
    "free: a longer varchar, varchar to text, a wider numeric.",
    advice=advice,
    example=Subject(
        table="events", column="id", old_type=facts(sa.Integer()), new_type=facts(sa.BigInteger())
    ),
    check=check,
    backends=("postgresql",),
    scope="size",
)

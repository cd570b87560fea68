"""alter-column-type-rewrite: a type change PostgreSQL does by rewriting the whole table."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.dialects.postgresql_lint import rewrites_on_type_change
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


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


RULE = Rule(
    id="alter-column-type-rewrite",
    category="locking",
    severity=Severity.ERROR,
    title="A column type change that rewrites the table",
    why="Most type changes (integer to bigint, varchar to integer, timestamp to timestamptz...) "
    "rewrite every row and rebuild every index under an ACCESS EXCLUSIVE lock. Only a few are "
    "free: a longer varchar, varchar to text, a wider numeric.",
    safe="""\
# Add a new column, fill it in batches, switch the code over, then drop the old one:
op.add_column("events", sa.Column("id_new", sa.BigInteger(), nullable=True))
# ...a data migration copies id into id_new in batches of a few thousand rows...
# ...a later revision swaps the columns once the code uses id_new.""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

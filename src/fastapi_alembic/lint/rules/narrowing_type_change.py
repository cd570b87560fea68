"""narrowing-type-change: a type change that cannot hold every value the old type could."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import narrowing


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.new_type is None or not context.existed(action.table):
            continue
        known = context.before.column(action.table, action.column)
        old = action.old_type or (known.type if known else None)
        if old is not None and old.family == "enum" and action.new_type.family == "enum":
            continue  # drop-enum-value says this one
        why = narrowing(old, action.new_type)
        if why:
            yield Hit(
                f"changes {action.target}: {why}; longer or larger values are cut or rejected",
                action,
                action.table,
                action.column,
            )


RULE = Rule(
    id="narrowing-type-change",
    category="data-loss",
    severity=Severity.ERROR,
    title="Narrowing a column's type",
    why="A shorter string, smaller integer or lower precision cannot hold every existing value: "
    "the ALTER fails half-way on PostgreSQL, and on MySQL outside strict mode it silently "
    "truncates the values.",
    safe="""\
# Check first that no value is too long, and fix those that are:
op.execute("UPDATE users SET name = left(name, 50) WHERE length(name) > 50")
op.alter_column("users", "name", type_=sa.String(50), existing_type=sa.String(200))""",
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

"""rename-column: the code still running uses the old column name."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.new_name and action.new_name != action.column and context.existed(action.table):
            yield Hit(
                f"renames column {action.target} to {action.new_name}: the code still running "
                f"reads and writes {action.column} until it is replaced",
                action,
                action.table,
                action.column,
            )


RULE = Rule(
    id="rename-column",
    category="compatibility",
    severity=Severity.ERROR,
    title="Renaming a column",
    why="Old code still running during the deploy selects and inserts the old name and fails.",
    safe="""\
# Release 1: add the new column and write both (code or trigger), backfill it:
op.add_column("users", sa.Column("full_name", sa.String(200), nullable=True))
op.execute("UPDATE users SET full_name = name WHERE full_name IS NULL")
# Release 2: the code reads full_name only. Release 3: drop name.""",
    check=check,
)

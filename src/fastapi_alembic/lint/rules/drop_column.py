"""drop-column: dropping a column deletes its values in every row."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.DROP_COLUMN):
        if context.existed(action.table) and not context.created_here(action.table, action.column):
            yield Hit(
                f"drops column {action.target} and its value in every row",
                action,
                action.table,
                action.column,
            )


RULE = Rule(
    id="drop-column",
    category="data-loss",
    severity=Severity.ERROR,
    title="Dropping a column",
    why="The column's values are deleted from every row; a downgrade adds the column back "
    "empty. Code still running that selects or inserts the column fails until it is replaced.",
    safe="""\
# Release 1: remove the column from the model (or mark it deferred) and deploy.
# Release 2: drop it, after keeping the values if they may be needed:
op.execute("CREATE TABLE users_phone_backup AS SELECT id, phone FROM users")
op.drop_column("users", "phone")""",
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

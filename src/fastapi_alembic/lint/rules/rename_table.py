"""rename-table: the code still running uses the old name."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.RENAME_TABLE):
        if context.existed(action.table):
            yield Hit(
                f"renames table {action.table} to {action.new_name}: the code still running "
                f"queries {action.table} until it is replaced",
                action,
                action.table,
            )


RULE = Rule(
    id="rename-table",
    category="compatibility",
    severity=Severity.ERROR,
    title="Renaming a table",
    why="While the new code rolls out, the old code keeps querying the old name and fails. A "
    "rename is only safe when nothing runs during the migration.",
    safe="""\
# Release 1: create the new name as a view the old code can also use.
op.rename_table("users", "accounts")
op.execute("CREATE VIEW users AS SELECT * FROM accounts")
# Release 2, when no code uses users any more:
op.execute("DROP VIEW users")""",
    check=check,
)

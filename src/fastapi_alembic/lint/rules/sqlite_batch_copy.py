"""sqlite-batch-copy: a batch operation that copies a whole table on SQLite (informational)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.dialects.sqlite_lint import batch_recreates
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    seen: set[str] = set()
    for action in context.actions:
        table = action.table
        if table and table not in seen and batch_recreates(action) and context.existed(table):
            seen.add(table)
            yield Hit(
                f"batch-alters {table}: SQLite copies every row into a new table and swaps it in",
                action,
                table,
            )


RULE = Rule(
    id="sqlite-batch-copy",
    category="sqlite",
    severity=Severity.WARNING,
    title="A batch operation that copies the table on SQLite",
    why="SQLite's ALTER TABLE can only add and rename columns; for anything else Alembic's batch "
    "mode creates a new table, copies every row and swaps it in, holding the database's write "
    "lock for the whole copy. Fine on small tables; plan for it on large ones.",
    safe="""\
# Group every change to the table in ONE batch, so it is copied once:
with op.batch_alter_table("users") as batch_op:
    batch_op.alter_column("name", type_=sa.String(100))
    batch_op.drop_column("legacy")""",
    check=check,
    backends=("sqlite",),
    scope="size",
)

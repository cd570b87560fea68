"""unbatched-data-change: UPDATE or DELETE of a whole table inside the migration's transaction."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.UPDATE, Kind.DELETE):
        if action.whole_table and not action.autocommit and context.existed(action.table):
            verb = "updates" if action.kind is Kind.UPDATE else "deletes from"
            yield Hit(
                f"{verb} every row of {action.table} in one statement inside the migration's "
                "transaction: each row stays locked until the whole migration ends",
                action,
                action.table,
            )


RULE = Rule(
    id="unbatched-data-change",
    category="hygiene",
    severity=Severity.ERROR,
    title="An unbatched whole-table UPDATE or DELETE",
    why="One UPDATE over the whole table locks every row it touches until the migration's "
    "transaction commits, and on a large table it writes a huge transaction; the app's "
    "writes to those rows wait the whole time.",
    safe="""\
connection = op.get_bind()
with op.get_context().autocommit_block():
    while True:
        done = connection.execute(
            sa.text(
                "UPDATE users SET plan = 'free' WHERE id IN "
                "(SELECT id FROM users WHERE plan IS NULL LIMIT 5000)"
            )
        ).rowcount
        if not done:
            break""",
    check=check,
    scope="size",
)

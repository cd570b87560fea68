"""drop-column: dropping a column deletes its values in every row."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, execute, ident, py
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


def advice(s: Subject) -> str:
    column = s.column or "?"
    backup = f"{s.table}_{column}_backup"[:63]
    kept = [*(k for k in s.key if k != column), column] if s.key else []
    selected = ", ".join(ident(c, s.backend) for c in kept) or "*"
    copy = (
        f"CREATE TABLE {ident(backup, s.backend)} AS "
        f"SELECT {selected} FROM {ident(s.table, s.backend)}"
    )
    return f"""\
# Release 1: remove {s.target} from the model (or map it with deferred()) and deploy.
# Release 2: drop it, after keeping the values if they may be needed:
{execute(copy)}
{call("op.drop_column", py(s.table), py(column))}"""


RULE = Rule(
    id="drop-column",
    category="data-loss",
    severity=Severity.ERROR,
    title="Dropping a column",
    why="The column's values are deleted from every row; a downgrade adds the column back "
    "empty. Code still running that selects or inserts the column fails until it is replaced.",
    advice=advice,
    example=Subject(table="users", column="phone", key=("id",)),
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

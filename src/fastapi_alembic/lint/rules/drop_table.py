"""drop-table: dropping a table deletes every row in it."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.DROP_TABLE):
        if context.existed(action.table):
            yield Hit(f"drops table {action.table} and every row in it", action, action.table)


def advice(s: Subject) -> str:
    kept = f"{s.table}_deleted"[:63]
    return f"""\
# Release 1: stop using {s.table} in the code, keep the data.
# Release 2 (once nothing reads it), keep it under another name instead of dropping it:
{call("op.rename_table", py(s.table), py(kept))}
# ... and only in a later revision, when you are sure nothing needs it:
{call("op.drop_table", py(kept))}"""


RULE = Rule(
    id="drop-table",
    category="data-loss",
    severity=Severity.ERROR,
    title="Dropping a table",
    why="Every row in the table is deleted, and a downgrade brings back an empty table, not the "
    "data. The code still running when the revision is applied may also still read the table.",
    advice=advice,
    example=Subject(table="orders"),
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

"""rename-table: the code still running uses the old name."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, execute, ident, py
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


def advice(s: Subject) -> str:
    new = s.new_name or f"{s.table}_new"
    old_sql, new_sql = ident(s.table, s.backend), ident(new, s.backend)
    writable = (
        ""
        if s.backend != "sqlite"
        else "\n# (SQLite views are read-only: old code can read, not write)"
    )
    return f"""\
# Release 1: rename, and keep the old name as a view the old code can still use:
{call("op.rename_table", py(s.table), py(new))}
{execute(f"CREATE VIEW {old_sql} AS SELECT * FROM {new_sql}")}{writable}
# Release 2, in a later revision, when no code uses {s.table} any more:
{execute(f"DROP VIEW {old_sql}")}"""


RULE = Rule(
    id="rename-table",
    category="compatibility",
    severity=Severity.ERROR,
    title="Renaming a table",
    why="While the new code rolls out, the old code keeps querying the old name and fails. A "
    "rename is only safe when nothing runs during the migration.",
    advice=advice,
    example=Subject(table="users", new_name="accounts"),
    check=check,
)

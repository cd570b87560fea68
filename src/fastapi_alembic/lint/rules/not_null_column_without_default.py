"""not-null-column-without-default: a NOT NULL column added with nothing for the old rows."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Subject, add_column, alter_column, kw, py, type_argument
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import ColumnFacts, Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import TypeFacts, facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_COLUMN):
        column = action.columns[0] if action.columns else None
        if column is None or column.nullable or column.server_default is not None:
            continue
        if column.autoincrement or not context.existed(action.table):
            continue
        yield Hit(
            f"adds {action.target} NOT NULL without a server default: it fails on a table with "
            "rows, and inserts from the code still running fail",
            action,
            action.table,
            action.column,
        )


def _constant(type_: TypeFacts | None) -> str | None:
    """A server default every backend takes for a column of ``type_``, if there is a plain one."""
    family = type_.family if type_ is not None else "text"
    if family in {"string", "text"}:
        return '""'
    if family in {"integer", "numeric", "float"}:
        return 'sa.text("0")'
    if family == "boolean":
        return "sa.false()"
    if family == "enum" and type_ is not None and type_.enum_values:
        return py(type_.enum_values[0])
    if family == "datetime":
        return "sa.text(\"'1970-01-01 00:00:00'\")"
    if family == "date":
        return "sa.text(\"'1970-01-01'\")"
    return None


def advice(s: Subject) -> str:
    added = s.added or ColumnFacts(s.column or "?")
    default = _constant(added.type)
    if default is None:
        existing = kw("existing_type", type_argument(added.type))
        return f"""\
# Add {s.target} nullable, fill it for every row, and only then make it NOT NULL:
{add_column(s.table, added.name, added.type, "nullable=True")}
# ...a data migration gives every row of {s.table} its {added.name}, in batches...
{alter_column(s, "nullable=False", existing, column=added.name)}"""
    return f"""\
# Give the old rows (and the inserts of the code still running) a value; pick the right one:
{add_column(s.table, added.name, added.type, "nullable=False", f"server_default={default}")}"""


RULE = Rule(
    id="not-null-column-without-default",
    category="compatibility",
    severity=Severity.ERROR,
    title="A new NOT NULL column without a server default",
    why="Existing rows have no value for it, so the ALTER fails on any table with rows; and the "
    "code still running inserts rows without it, which fail too.",
    advice=advice,
    example=Subject(
        table="users",
        column="plan",
        added=ColumnFacts("plan", facts(sa.String(20)), nullable=False),
    ),
    check=check,
)

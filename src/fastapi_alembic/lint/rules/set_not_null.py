"""set-not-null: SET NOT NULL scans the whole table under an exclusive lock."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, execute, ident, py, py_type
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    validated = any(
        a.kind is Kind.ADD_CONSTRAINT and a.constraint == "check" and a.not_valid
        for a in context.actions
    ) or any(a.kind is Kind.VALIDATE_CONSTRAINT for a in context.actions)
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.nullable is not False or validated:
            continue
        # A column this revision added is no exception: the table it sits in is still scanned.
        if context.existed(action.table):
            yield Hit(
                f"sets {action.target} NOT NULL: the whole table is scanned while reads and "
                "writes wait",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    column = s.column or "?"
    check_name = f"{s.table}_{column}_not_null"[:63]
    table, quoted, name = (ident(x, s.backend) for x in (s.table, column, check_name))
    existing = (f"existing_type={py_type(s.type_now)}",) if s.type_now is not None else ()
    add = f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({quoted} IS NOT NULL) NOT VALID"
    return f"""\
# A validated check proves the column has no NULL, so SET NOT NULL skips the scan (PostgreSQL 12+):
{execute(add)}
{execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")}
{call("op.alter_column", py(s.table), py(column), "nullable=False", *existing)}
{call("op.drop_constraint", py(check_name), py(s.table), 'type_="check"')}"""


RULE = Rule(
    id="set-not-null",
    category="locking",
    severity=Severity.ERROR,
    title="SET NOT NULL without a validated check",
    why="ALTER COLUMN ... SET NOT NULL holds an ACCESS EXCLUSIVE lock while it reads every row. "
    "From PostgreSQL 12 a validated CHECK (col IS NOT NULL) lets it skip the scan.",
    advice=advice,
    example=Subject(table="users", column="phone"),
    check=check,
    backends=("postgresql",),
    versions="all versions (the check route needs 12+)",
    scope="size",
)

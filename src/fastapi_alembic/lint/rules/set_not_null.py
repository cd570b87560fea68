"""set-not-null: SET NOT NULL scans the whole table under an exclusive lock."""

from __future__ import annotations

from collections.abc import Iterator

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


RULE = Rule(
    id="set-not-null",
    category="locking",
    severity=Severity.ERROR,
    title="SET NOT NULL without a validated check",
    why="ALTER COLUMN ... SET NOT NULL holds an ACCESS EXCLUSIVE lock while it reads every row. "
    "From PostgreSQL 12 a validated CHECK (col IS NOT NULL) lets it skip the scan.",
    safe="""\
op.execute(
    "ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID"
)
op.execute("ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null")
op.alter_column("users", "phone", nullable=False)  # no scan: the check proves it
op.drop_constraint("users_phone_not_null", "users", type_="check")""",
    check=check,
    backends=("postgresql",),
    versions="all versions (the check route needs 12+)",
    scope="size",
)

"""unparsed-sql: raw SQL the linter could not parse, so could not check."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.UNPARSED_SQL):
        statement = " ".join((action.sql or "").split())
        if len(statement) > 60:
            statement = statement[:57] + "..."
        yield Hit(
            f"cannot parse the SQL {statement!r} ({action.error}): it was not checked",
            action,
        )


RULE = Rule(
    id="unparsed-sql",
    category="hygiene",
    severity=Severity.WARNING,
    title="Raw SQL that cannot be parsed",
    why="Lint reads raw SQL with a SQL parser; a statement it cannot parse is not checked by any "
    "rule. It may also be SQL of another backend than the one it will run on.",
    safe="""\
# Prefer Alembic operations; for SQL of one backend, run it only there:
if op.get_bind().dialect.name == "postgresql":
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
# or silence it with the reason it is safe:
# fastapi-alembic: allow unparsed-sql -- vendor syntax, reviewed by hand""",
    check=check,
    directions=("upgrade", "downgrade"),
)

"""unparsed-sql: raw SQL the linter could not parse, so could not check."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.dialects.registry import aliases_of
from fastapi_alembic.lint.advice import Subject, execute, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.facts import backends as lint_backends
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.sql import read_sql


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.UNPARSED_SQL):
        statement = " ".join((action.sql or "").split())
        if len(statement) > 60:
            statement = statement[:57] + "..."
        yield Hit(
            f"cannot parse the SQL {statement!r} ({action.error}): it was not checked",
            action,
        )


def parsed_by(sql: str) -> list[str]:
    """The backends whose SQL ``sql`` is."""
    return [
        backend
        for backend in lint_backends()
        if all(a.kind is not Kind.UNPARSED_SQL for a in read_sql(sql, backend))
    ]


def advice(s: Subject) -> str:
    sql = s.sql or ""
    backends = parsed_by(sql) if sql else []
    if not backends:
        return """\
# Lint cannot read this SQL for any backend: check it by hand, then say so in the file:
# fastapi-alembic: allow unparsed-sql -- <what it does, reviewed by hand>"""
    # What op.get_bind().dialect.name says on each backend (MariaDB URLs say "mariadb").
    names = tuple(n for b in backends for n in aliases_of(b))
    test = (
        f"op.get_bind().dialect.name == {py(names[0])}"
        if len(names) == 1
        else f"op.get_bind().dialect.name in ({', '.join(py(n) for n in names)})"
    )
    listed = ", ".join(py(b) for b in backends)
    return f"""\
# This is {" or ".join(backends)} SQL: run it only there,
if {test}:
{execute(sql, indent=4)}
# or, if the project only ever runs there, tell lint: dialects = [{listed}]
# under [tool.fastapi-alembic] in pyproject.toml."""


RULE = Rule(
    id="unparsed-sql",
    category="hygiene",
    severity=Severity.WARNING,
    title="Raw SQL that cannot be parsed",
    why="Lint reads raw SQL with a SQL parser; a statement it cannot parse is not checked by any "
    "rule. It may also be SQL of another backend than the one it will run on: lint reads it "
    "for the project's backends (dialects under [tool.fastapi-alembic], else the URL's).",
    advice=advice,
    example=Subject(
        backend="sqlite",
        table="?",
        sql="CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN NEW.updated_at = now(); "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
    ),
    check=check,
    directions=("upgrade", "downgrade"),
)

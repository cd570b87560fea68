"""unreadable-revision: upgrade() raised while being read, so the rest of it was not checked."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, first_table, ident, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    error = context.reading.raised
    if error is not None:
        yield Hit(
            f"revision {context.revision}'s upgrade() raised {type(error).__name__} ({error}) "
            "while lint read it without a database: what follows was not checked",
            line=context.reading.raised_line,
            name=type(error).__name__,
        )


def advice(s: Subject) -> str:
    table = first_table(s)
    where = f" at line {s.line}" if s.line else ""
    head = f"""\
# upgrade() stopped{where} with {s.error or "an error"}: lint reads it with no rows in any table,
# as a fresh database has none. Let the code handle that case"""
    if table == "?":
        return (
            head
            + "; or, if it is fine, say why:\n# fastapi-alembic: allow unreadable-revision -- <why>"
        )
    query = f"SELECT * FROM {ident(table, s.backend)} LIMIT 1"
    return f"""{head}, for example:
{call("sa.text", py(query), prefix="query = ")}
row = op.get_bind().execute(query).first()
if row is not None:
    ...  # what needs a row of {table}"""


RULE = Rule(
    id="unreadable-revision",
    category="hygiene",
    severity=Severity.WARNING,
    title="An upgrade() lint cannot read to the end",
    why="Lint runs upgrade() against operations that record instead of running, and a "
    "connection that records and returns no rows (a value that must exist, from scalar_one(), "
    "is empty, zero and false). Code that needs real rows to go on (a fetched row unpacked "
    "into names, say), or a part of the connection the recorder has no stand-in for, stops "
    "there, and the operations after it are not checked.",
    advice=advice,
    example=Subject(table="users", error="TypeError", line=14),
    check=check,
)

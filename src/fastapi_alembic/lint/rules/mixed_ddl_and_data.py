"""mixed-ddl-and-data: schema changes and large data changes in one revision."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    ddl = [a for a in context.actions if a.is_ddl and context.existed(a.table)]
    data = [
        a
        for a in context.actions
        if a.kind in {Kind.UPDATE, Kind.DELETE} and not a.autocommit and context.existed(a.table)
    ]
    if ddl and data:
        first = data[0]
        yield Hit(
            f"changes rows of {first.table} and alters {ddl[0].table} in the same transaction: "
            "the DDL's locks are held while the data is rewritten",
            first,
            first.table,
            name=ddl[0].table,
        )


def advice(s: Subject) -> str:
    altered = s.name or s.table
    return f"""\
# Keep the schema change to {altered} in this revision, and move the change to the rows
# of {s.table} into a revision of its own (its own transaction), made with:
#   fastapi-alembic make --empty "update {s.table}"
# and, where the schema needs the data first, a third revision for the constraint."""


RULE = Rule(
    id="mixed-ddl-and-data",
    category="hygiene",
    severity=Severity.WARNING,
    title="Schema and data changes in one revision",
    why="In one transaction, the ALTER's exclusive lock is held for as long as the data change "
    "runs; and if the data change fails, the schema change is rolled back with it (or, on "
    "MySQL, is already committed). Separate revisions fail and retry cleanly.",
    advice=advice,
    example=Subject(table="users", name="users"),
    check=check,
)

"""imports-app-models: a revision that imports the application's models."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import Call, Subject, call, py, type_argument
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import ColumnFacts, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def _is_models(module: str, packages: tuple[str, ...]) -> bool:
    parts = module.split(".")
    if parts[0] in packages:
        return True
    return any(part in {"models", "model"} for part in parts)


def check(context: RuleContext) -> Iterator[Hit]:
    environment = context.environment
    for module, line in context.imports:
        if module in environment.template_imports:
            continue  # script.py.mako puts it in every revision: the project's own choice
        if _is_models(module, environment.app_packages):
            yield Hit(
                f"imports {module}: the models will change after this revision is written, and "
                "then this revision breaks",
                line=line,
                name=module,
            )


def _column(column: ColumnFacts) -> Call:
    if column.type is None:
        return Call("sa.column", (py(column.name),))
    return Call("sa.column", (py(column.name), type_argument(column.type)))


def advice(s: Subject) -> str:
    module = s.name or "the models"
    if s.table == "?":
        return f"""\
# Do not import {module} here: describe each table this revision reads or writes as it is
# at this revision, with sa.table("name", sa.column("id", sa.Integer), ...)."""
    columns = (_column(c) for c in s.table_columns[:4] or (ColumnFacts("id"),))
    return f"""\
# Do not import {module} here: describe {s.table} as it is at this revision, and use that:
{call("sa.table", py(s.table), *columns, prefix="table = ")}
rows = op.get_bind().execute(sa.select(table)).all()"""


RULE = Rule(
    id="imports-app-models",
    category="hygiene",
    severity=Severity.WARNING,
    title="A migration that imports the application's models",
    why="A revision must keep doing what it did the day it was written; the models move on. "
    "Once a column is renamed or removed from a model, the old revision fails on a fresh "
    "database. Imports that script.py.mako writes into every revision (a project's column "
    "types, say) are the project's choice and not reported.",
    advice=advice,
    example=Subject(
        table="users",
        name="app.models",
        table_columns=(
            ColumnFacts("id", facts(sa.Integer())),
            ColumnFacts("plan", facts(sa.String(20))),
        ),
    ),
    check=check,
)

"""imports-app-models: a revision that imports the application's models."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import Rule


def _is_models(module: str, packages: tuple[str, ...]) -> bool:
    parts = module.split(".")
    if parts[0] in packages:
        return True
    return any(part in {"models", "model"} for part in parts)


def check(context: RuleContext) -> Iterator[Hit]:
    for module, line in context.imports:
        if _is_models(module, context.environment.app_packages):
            yield Hit(
                f"imports {module}: the models will change after this revision is written, and "
                "then this revision breaks",
                line=line,
            )


RULE = Rule(
    id="imports-app-models",
    category="hygiene",
    severity=Severity.WARNING,
    title="A migration that imports the application's models",
    why="A revision must keep doing what it did the day it was written; the models move on. "
    "Once a column is renamed or removed from a model, the old revision fails on a fresh "
    "database.",
    safe="""\
users = sa.table("users", sa.column("id", sa.Integer), sa.column("plan", sa.String))
connection = op.get_bind()
connection.execute(users.update().where(users.c.plan.is_(None)).values(plan="free"))""",
    check=check,
)

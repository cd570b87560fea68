"""drop-mapped-column: dropping a column the models still map."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    mapped = context.environment.model_columns
    if mapped is None or context.revision not in context.environment.heads:
        return  # the models describe the schema at head, not at older revisions
    for action in context.of_kind(Kind.DROP_COLUMN):
        if action.table and action.column in mapped.get(action.table, set()):
            yield Hit(
                f"drops column {action.target}, which the models still map: every query "
                "through the model fails once it is gone",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    return f"""\
# Release 1: remove {s.target} from the model (or map it with deferred()) and deploy.
# Release 2, in a later revision, drop the column:
{call("op.drop_column", py(s.table), py(s.column or "?"))}"""


RULE = Rule(
    id="drop-mapped-column",
    category="compatibility",
    severity=Severity.ERROR,
    title="Dropping a column the models still map",
    why="SQLAlchemy selects every mapped column: once the column is gone, every query on the "
    "model fails, in the code being deployed and in the code still running.",
    advice=advice,
    example=Subject(table="users", column="legacy_flag"),
    check=check,
)

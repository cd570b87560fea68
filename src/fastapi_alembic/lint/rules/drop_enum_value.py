"""drop-enum-value: an enum that loses a value the rows may still hold."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import (
    Subject,
    alter_column,
    execute,
    ident,
    kw,
    sql_text,
    type_argument,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.new_type is None or action.new_type.family != "enum":
            continue
        known = context.before.column(action.table, action.column)
        old = action.old_type or (known.type if known else None)
        if old is None or old.family != "enum" or not context.existed(action.table):
            continue
        dropped = [v for v in old.enum_values or () if v not in (action.new_type.enum_values or ())]
        if dropped:
            yield Hit(
                f"drops enum value(s) {', '.join(map(repr, dropped))} from {action.target}",
                action,
                action.table,
                action.column,
            )


def advice(s: Subject) -> str:
    column = s.column or "?"
    old = s.type_now
    kept = tuple(s.new_type.enum_values or ()) if s.new_type else ()
    dropped = [v for v in (old.enum_values or ()) if v not in kept] if old else []
    table, quoted = ident(s.table, s.backend), ident(column, s.backend)
    target = sql_text(kept[0]) if kept else "NULL"
    listed = ", ".join(sql_text(v) for v in dropped) or "''"
    move = f"UPDATE {table} SET {quoted} = {target} WHERE {quoted} IN ({listed})"
    head = f"""\
# Move the rows off {", ".join(dropped) or "the dropped values"} first (here to {target}: pick \
the value they should hold), then change the type:
{execute(move)}"""
    if s.backend == "postgresql":
        name = (s.new_type.name if s.new_type else None) or (old.name if old else None) or column
        old_name = f"{name}_old"[:63]
        values = ", ".join(sql_text(v) for v in kept)
        steps = [
            f"ALTER TYPE {ident(name, s.backend)} RENAME TO {ident(old_name, s.backend)}",
            f"CREATE TYPE {ident(name, s.backend)} AS ENUM ({values})",
            f"ALTER TABLE {table} ALTER COLUMN {quoted} TYPE {ident(name, s.backend)} "
            f"USING {quoted}::text::{ident(name, s.backend)}",
            f"DROP TYPE {ident(old_name, s.backend)}",
        ]
        return head + "".join(f"\n{execute(step)}" for step in steps)
    existing = (kw("existing_type", type_argument(old)),) if old is not None else ()
    return head + "\n" + alter_column(s, kw("type_", type_argument(s.new_type)), *existing)


RULE = Rule(
    id="drop-enum-value",
    category="data-loss",
    severity=Severity.ERROR,
    title="Dropping an enum value",
    why="Rows that hold the dropped value make the ALTER fail, or on MySQL outside strict mode "
    "become empty strings. Code still running may still write the value.",
    advice=advice,
    example=Subject(
        table="orders",
        column="status",
        old_type=facts(sa.Enum("new", "paid", "void", "cancelled", name="status")),
        new_type=facts(sa.Enum("new", "paid", "cancelled", name="status")),
    ),
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

"""narrowing-type-change: a type change that cannot hold every value the old type could."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import (
    Subject,
    add_column,
    alter_column,
    char_length,
    guard,
    ident,
    kw,
    shortened,
    type_argument,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import TypeFacts, facts, narrowing

_INTEGER_RANGES = {8: 2**7, 16: 2**15, 24: 2**23, 32: 2**31}


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ALTER_COLUMN):
        if action.new_type is None or not context.existed(action.table):
            continue
        known = context.before.column(action.table, action.column)
        old = action.old_type or (known.type if known else None)
        if old is not None and old.family == "enum" and action.new_type.family == "enum":
            continue  # drop-enum-value says this one
        why = narrowing(old, action.new_type)
        if why:
            yield Hit(
                f"changes {action.target}: {why}; longer or larger values are cut or rejected",
                action,
                action.table,
                action.column,
            )


def _condition(column: str, new: TypeFacts, backend: str) -> tuple[str, str] | None:
    """SQL true of a value the new type cannot hold, and how to say it; None if unknown."""
    if new.family in {"string", "binary"} and new.length:
        length = char_length(column, backend) if new.family == "string" else f"length({column})"
        unit = "characters" if new.family == "string" else "bytes"
        return f"{length} > {new.length}", f"longer than {new.length} {unit}"
    if new.family == "integer" and new.length in _INTEGER_RANGES:
        limit = _INTEGER_RANGES[new.length]
        return f"{column} NOT BETWEEN {-limit} AND {limit - 1}", f"that does not fit {new}"
    if new.family == "numeric" and (new.precision or new.scale is not None):
        scale = new.scale or 0
        tests = [f"{column} <> round({column}, {scale})"]
        if new.precision:
            tests.insert(0, f"abs({column}) >= {10 ** (new.precision - scale)}")
        return " OR ".join(tests), f"that does not fit {new}"
    return None


def advice(s: Subject) -> str:
    column = s.column or "?"
    old, new = s.type_now, s.new_type or facts(sa.Text())
    assert new is not None
    existing = (kw("existing_type", type_argument(old)),) if old is not None else ()
    alter = alter_column(s, kw("type_", type_argument(new)), *existing)
    quoted = ident(column, s.backend)
    found = _condition(quoted, new, s.backend)
    if found is None:
        new_column = f"{column}_new"[:63]
        return f"""\
# Convert into a new column instead, so no value is lost on the way:
{add_column(s.table, new_column, new, "nullable=True")}
# ...a data migration converts {s.target} into {new_column}, and lists the rows it cannot;
# ...a later revision drops {column} and renames {new_column} once the code uses it."""
    condition, what = found
    fix = ""
    if new.family == "string" and new.length:
        cut = shortened(quoted, new.length, s.backend)
        table = ident(s.table, s.backend)
        fix = (
            f"\n# or, if cutting them is what you want, first:"
            f"\n# UPDATE {table} SET {quoted} = {cut} WHERE {condition}"
        )
    return f"""\
# Stop with a clear error while rows still hold values the new type cannot:
{guard(s, condition, f"hold a {column} {what}: fix them first")}{fix}
{alter}"""


RULE = Rule(
    id="narrowing-type-change",
    category="data-loss",
    severity=Severity.ERROR,
    title="Narrowing a column's type",
    why="A shorter string, smaller integer or lower precision cannot hold every existing value: "
    "the ALTER fails half-way on PostgreSQL, and on MySQL outside strict mode it silently "
    "truncates the values.",
    advice=advice,
    example=Subject(
        table="users",
        column="name",
        old_type=facts(sa.String(200)),
        new_type=facts(sa.String(50)),
    ),
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

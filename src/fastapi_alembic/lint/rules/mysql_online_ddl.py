"""mysql-online-ddl: an ALTER that MySQL/MariaDB cannot run without blocking writes."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from fastapi_alembic.lint.advice import (
    Subject,
    add_column,
    constraint_name,
    foreign_key_call,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.facts.mysql_facts import online_ddl_blocker
from fastapi_alembic.lint.model import Action, Kind, Severity
from fastapi_alembic.lint.rule import Rule
from fastapi_alembic.lint.types import facts

_TOOLS = "an online schema change tool (gh-ost, pt-online-schema-change)"


def _checks_off(action: Action) -> bool | None:
    """True for SET foreign_key_checks = 0, False for = 1, None for anything else."""
    if action.kind is not Kind.SET_OPTION or action.setting != "foreign_key_checks":
        return None
    value = (action.sql or "").replace(" ", "").rstrip(";").rpartition("=")[2].lower()
    return value in {"0", "off", "false"}


def check(context: RuleContext) -> Iterator[Hit]:
    checks_off = False
    for action in context.actions:
        switched = _checks_off(action)
        if switched is not None:
            checks_off = switched
            continue
        if not context.existed(action.table):
            continue
        if checks_off and action.kind is Kind.ADD_CONSTRAINT and action.constraint == "foreign_key":
            continue  # with foreign_key_checks off MySQL adds the key in place
        known = context.before.column(action.table, action.column)
        blocker = online_ddl_blocker(action, action.old_type or (known.type if known else None))
        if blocker:
            yield Hit(f"alters {action.target}: {blocker}", action, action.table, action.column)


def advice(s: Subject) -> str:
    if s.kind is Kind.ADD_CONSTRAINT and s.constraint == "foreign_key":
        name = constraint_name(s)
        return f"""\
# With foreign_key_checks off, MySQL adds the key in place instead of copying {s.table}:
op.execute("SET foreign_key_checks = 0")
{foreign_key_call(s, name)}
op.execute("SET foreign_key_checks = 1")
# ...and find the rows it does not match yourself: old rows are not checked."""
    if s.kind is Kind.ALTER_COLUMN and s.new_type is not None:
        column = s.column or "?"
        new_column = f"{column}_new"[:63]
        return f"""\
# Adding a column is instant; changing {s.target}'s type copies {s.table}. Add a new column,
{add_column(s.table, new_column, s.new_type, "nullable=True")}
# ...backfill it in batches, switch the code over, and drop {column} in a later revision;
# or run this ALTER with {_TOOLS}."""
    what = {
        Kind.ADD_COLUMN: "an AUTO_INCREMENT column",
        Kind.ADD_CONSTRAINT: "a check constraint",
        Kind.DROP_CONSTRAINT: "a primary key change",
    }.get(s.kind or Kind.OTHER, "this change")
    return f"""\
# MySQL cannot make {what} on {s.table} without copying it: run this ALTER with
# {_TOOLS}, or in a window when writes to {s.table} may wait;
# then silence it here with that reason:
# fastapi-alembic: allow mysql-online-ddl -- run with gh-ost on {s.table}"""


RULE = Rule(
    id="mysql-online-ddl",
    category="mysql",
    severity=Severity.ERROR,
    title="An ALTER that cannot run online on MySQL/MariaDB",
    why="MySQL and MariaDB run most ALTERs in place (ALGORITHM=INSTANT or INPLACE, LOCK=NONE), "
    "but some copy the whole table while writes are blocked: most type changes, a VARCHAR "
    "growing past 255 bytes, AUTO_INCREMENT columns, foreign keys with checks on, check "
    "constraints.",
    advice=advice,
    example=Subject(
        backend="mysql",
        table="users",
        column="age",
        kind=Kind.ALTER_COLUMN,
        old_type=facts(sa.Integer()),
        new_type=facts(sa.BigInteger()),
    ),
    check=check,
    backends=("mysql",),
    versions="MySQL 5.6+, MariaDB 10.0+ (INSTANT: MySQL 8.0.12+, MariaDB 10.3+)",
    scope="size",
)

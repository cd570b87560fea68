"""mysql-online-ddl: an ALTER that MySQL/MariaDB cannot run without blocking writes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.dialects.mysql_lint import online_ddl_blocker
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.actions:
        if not context.existed(action.table):
            continue
        known = context.before.column(action.table, action.column)
        blocker = online_ddl_blocker(action, action.old_type or (known.type if known else None))
        if blocker:
            yield Hit(f"alters {action.target}: {blocker}", action, action.table, action.column)


RULE = Rule(
    id="mysql-online-ddl",
    category="mysql",
    severity=Severity.ERROR,
    title="An ALTER that cannot run online on MySQL/MariaDB",
    why="MySQL and MariaDB run most ALTERs in place (ALGORITHM=INSTANT or INPLACE, LOCK=NONE), "
    "but some copy the whole table while writes are blocked: most type changes, a VARCHAR "
    "growing past 255 bytes, AUTO_INCREMENT columns, foreign keys with checks on, check "
    "constraints.",
    safe="""\
# Ask for the online algorithm explicitly: MySQL refuses instead of silently copying.
op.execute("ALTER TABLE users MODIFY name VARCHAR(60) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE")
# If it refuses, use an online schema change tool (gh-ost, pt-online-schema-change)
# or add a new column, backfill it in batches, and switch over.""",
    check=check,
    backends=("mysql",),
    versions="MySQL 5.6+, MariaDB 10.0+ (INSTANT: MySQL 8.0.12+, MariaDB 10.3+)",
    scope="size",
)

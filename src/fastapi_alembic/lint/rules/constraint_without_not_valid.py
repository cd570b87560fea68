"""constraint-without-not-valid: a foreign key or check added in one step scans under a lock."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_CONSTRAINT):
        if action.constraint not in {"foreign_key", "check"} or action.not_valid:
            continue
        if context.existed(action.table):
            kind = "foreign key" if action.constraint == "foreign_key" else "check constraint"
            yield Hit(
                f"adds {kind} {action.name or ''} on {action.table} without NOT VALID: every "
                "row is checked while writes are blocked",
                action,
                action.table,
            )


RULE = Rule(
    id="constraint-without-not-valid",
    category="locking",
    severity=Severity.ERROR,
    title="Foreign key or check constraint without NOT VALID",
    why="Adding a validated constraint reads the whole table (and, for a foreign key, locks the "
    "referenced table too) while writes wait. NOT VALID adds it instantly for new rows; "
    "VALIDATE CONSTRAINT then checks old rows without blocking writes.",
    safe="""\
op.create_foreign_key(
    "fk_posts_owner_id",
    "posts",
    "users",
    ["owner_id"],
    ["id"],
    postgresql_not_valid=True,
)
# In the next revision (or after a commit):
op.execute("ALTER TABLE posts VALIDATE CONSTRAINT fk_posts_owner_id")""",
    check=check,
    backends=("postgresql",),
    scope="size",
)

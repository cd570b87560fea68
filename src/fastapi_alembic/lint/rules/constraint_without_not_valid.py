"""constraint-without-not-valid: a foreign key or check added in one step scans under a lock."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import (
    Subject,
    call,
    constraint_name,
    execute,
    foreign_key_call,
    ident,
    py,
)
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Action, Kind, Severity
from fastapi_alembic.lint.rule import Rule


def named(action: Action) -> str:
    """``foreign key fk_x`` or, for one without a name, ``a foreign key (owner_id)``."""
    kind = {"foreign_key": "foreign key", "check": "check constraint"}.get(
        action.constraint or "", f"{action.constraint or ''} constraint".strip()
    )
    if action.name:
        return f"{kind} {action.name}"
    columns = f" ({', '.join(action.column_names)})" if action.column_names else ""
    return f"an unnamed {kind}{columns}"


def check(context: RuleContext) -> Iterator[Hit]:
    for action in context.of_kind(Kind.ADD_CONSTRAINT):
        if action.constraint not in {"foreign_key", "check"} or action.not_valid:
            continue
        if context.existed(action.table):
            yield Hit(
                f"adds {named(action)} on {action.table} without NOT VALID: every row is checked "
                "while writes are blocked",
                action,
                action.table,
            )


def advice(s: Subject) -> str:
    name = constraint_name(s)
    note = "" if s.name else "\n# (named here: VALIDATE CONSTRAINT needs its name)"
    validate = (
        f"ALTER TABLE {ident(s.table, s.backend)} VALIDATE CONSTRAINT {ident(name, s.backend)}"
    )
    if s.constraint == "check":
        condition = s.condition or "TRUE"
        add = call(
            "op.create_check_constraint",
            py(name),
            py(s.table),
            py(condition),
            "postgresql_not_valid=True",
        )
    else:
        add = foreign_key_call(s, name, "postgresql_not_valid=True")
    return f"""\
# Add it for new rows only (instant), then check the old rows without blocking writes:{note}
{add}
# In the next revision (or after a commit):
{execute(validate)}"""


RULE = Rule(
    id="constraint-without-not-valid",
    category="locking",
    severity=Severity.ERROR,
    title="Foreign key or check constraint without NOT VALID",
    why="Adding a validated constraint reads the whole table (and, for a foreign key, locks the "
    "referenced table too) while writes wait. NOT VALID adds it instantly for new rows; "
    "VALIDATE CONSTRAINT then checks old rows without blocking writes.",
    advice=advice,
    example=Subject(
        table="posts",
        name="fk_posts_owner_id",
        constraint="foreign_key",
        columns=("owner_id",),
        referent="users",
        referent_columns=("id",),
    ),
    check=check,
    backends=("postgresql",),
    scope="size",
)

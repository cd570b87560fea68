"""drop-enum-value: an enum that loses a value the rows may still hold."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


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


RULE = Rule(
    id="drop-enum-value",
    category="data-loss",
    severity=Severity.ERROR,
    title="Dropping an enum value",
    why="Rows that hold the dropped value make the ALTER fail, or on MySQL outside strict mode "
    "become empty strings. Code still running may still write the value.",
    safe="""\
# Move the rows off the value first, then change the type:
op.execute("UPDATE orders SET status = 'cancelled' WHERE status = 'void'")
op.alter_column(
    "orders",
    "status",
    type_=sa.Enum("new", "paid", "cancelled", name="status"),
    existing_type=sa.Enum("new", "paid", "void", "cancelled", name="status"),
)""",
    check=check,
    directions=("upgrade", "downgrade"),
    scope="rows",
)

"""missing-downgrade: no downgrade(), or one that does nothing after an upgrade that does."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    if context.reading.raised is not None:
        return  # downgrade-raises-silently judges a downgrade that raises
    does_something = any(a.kind is not Kind.SET_OPTION for a in context.upgrade.actions)
    if not context.reading.defined:
        yield Hit(f"revision {context.revision} has no downgrade() function", line=1)
    elif does_something and not any(a.kind is not Kind.SET_OPTION for a in context.actions):
        yield Hit(f"revision {context.revision}'s downgrade() does nothing", line=None)


RULE = Rule(
    id="missing-downgrade",
    category="hygiene",
    severity=Severity.WARNING,
    title="A missing or empty downgrade()",
    why="`downgrade` then reports success while leaving the schema as it was: the database "
    "records the older revision, and the next upgrade fails on objects that already exist.",
    safe="""\
def downgrade():
    op.drop_column("users", "phone")


# or, when it truly cannot be undone, say so:
def downgrade():
    raise NotImplementedError("irreversible: the old values were merged into full_name")""",
    check=check,
    directions=("downgrade",),
)

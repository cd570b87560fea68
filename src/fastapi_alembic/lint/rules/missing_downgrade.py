"""missing-downgrade: no downgrade(), or one that does nothing after an upgrade that does."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, describe, py, reverse_of
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Action, Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    if context.reading.raised is not None:
        return  # downgrade-raises-silently judges a downgrade that raises
    does_something = any(a.kind is not Kind.SET_OPTION for a in context.upgrade.actions)
    if not context.reading.defined:
        yield Hit(f"revision {context.revision} has no downgrade() function", line=1)
    elif does_something and not any(a.kind is not Kind.SET_OPTION for a in context.actions):
        yield Hit(f"revision {context.revision}'s downgrade() does nothing", line=None)


def advice(s: Subject) -> str:
    undo: list[str] = []
    by_hand: list[Action] = []
    for action in reversed(s.upgrade):
        reverse = reverse_of(action, indent=4)
        if reverse is None:
            by_hand.append(action)
        elif reverse:
            undo.append(reverse)
    if not undo:
        reason = f"irreversible: revision {s.revision} {describe(s.upgrade)}"
        return "def downgrade():\n" + call(
            "NotImplementedError", py(reason), prefix="raise ", indent=4
        )
    lines = ["def downgrade():", *undo]
    if by_hand:
        lines.append(f"    # ...and undo by hand what upgrade() {describe(tuple(by_hand))}")
    return "\n".join(lines)


RULE = Rule(
    id="missing-downgrade",
    category="hygiene",
    severity=Severity.WARNING,
    title="A missing or empty downgrade()",
    why="`downgrade` then reports success while leaving the schema as it was: the database "
    "records the older revision, and the next upgrade fails on objects that already exist.",
    advice=advice,
    example=Subject(
        table="?",
        upgrade=(Action(Kind.ADD_COLUMN, table="users", column="phone"),),
    ),
    check=check,
    directions=("downgrade",),
)

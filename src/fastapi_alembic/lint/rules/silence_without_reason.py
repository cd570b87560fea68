"""silence-without-reason: an allow comment that does not say why."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    from fastapi_alembic.lint.rules import BY_ID  # the registry imports this module

    for silence in context.silences:
        unknown = [name for name in silence.rules if name not in BY_ID]
        if unknown:
            yield Hit(
                f"'allow {', '.join(unknown)}' names no lint rule, so it silences nothing: "
                "`fastapi-alembic lint --rules` lists them",
                line=silence.line,
            )
        if not silence.reason:
            yield Hit(
                f"'allow {', '.join(silence.rules) or '?'}' gives no reason, so it silences "
                "nothing: add ' -- <why it is safe>'",
                line=silence.line,
            )


RULE = Rule(
    id="silence-without-reason",
    category="hygiene",
    severity=Severity.WARNING,
    title="A silence without a reason, or of no rule",
    why="A silenced finding is a decision; the next reader needs to know why it was safe. A "
    "silence with no reason does not silence anything, nor does one naming a rule that does "
    "not exist (a typo would otherwise hide nothing and look like it does).",
    safe="""\
# fastapi-alembic: allow create-index-not-concurrently -- users has 40 rows, admin table""",
    check=check,
)

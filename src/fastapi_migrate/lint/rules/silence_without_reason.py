"""silence-without-reason: an allow comment that does not say why."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_migrate.lint.context import Hit, RuleContext
from fastapi_migrate.lint.model import Severity
from fastapi_migrate.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    for silence in context.silences:
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
    title="A silence without a reason",
    why="A silenced finding is a decision; the next reader needs to know why it was safe. A "
    "silence with no reason does not silence anything.",
    safe="""\
# fastapi-migrate: allow create-index-not-concurrently -- users has 40 rows, admin table""",
    check=check,
)

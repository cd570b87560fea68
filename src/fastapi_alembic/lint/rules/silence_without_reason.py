"""silence-without-reason: an allow comment that does not say why."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Severity
from fastapi_alembic.lint.rule import REGISTERED_IDS, Rule


def _known() -> list[str]:
    return list(REGISTERED_IDS)


def check(context: RuleContext) -> Iterator[Hit]:
    known = _known()
    for silence in context.silences:
        unknown = [name for name in silence.rules if name not in known]
        if unknown:
            yield Hit(
                f"'allow {', '.join(unknown)}' names no lint rule, so it silences nothing: "
                "`fastapi-alembic lint --rules` lists them",
                line=silence.line,
                name=", ".join(silence.rules),
            )
        if not silence.reason:
            yield Hit(
                f"'allow {', '.join(silence.rules) or '?'}' gives no reason, so it silences "
                "nothing: add ' -- <why it is safe>'",
                line=silence.line,
                name=", ".join(silence.rules),
            )


def advice(s: Subject) -> str:
    known = _known()
    named = [n.strip() for n in (s.name or "").split(",") if n.strip()]
    rules = []
    for name in named or ["drop-column"]:
        if name in known:
            rules.append(name)
        else:
            rules.extend(difflib.get_close_matches(name, list(known), n=1) or [name])
    return f"""\
# Name the rule (`fastapi-alembic lint --rules` lists them) and say why it is safe here:
# fastapi-alembic: allow {", ".join(dict.fromkeys(rules))} -- <why it is safe here>"""


RULE = Rule(
    id="silence-without-reason",
    category="hygiene",
    severity=Severity.WARNING,
    title="A silence without a reason, or of no rule",
    why="A silenced finding is a decision; the next reader needs to know why it was safe. A "
    "silence with no reason does not silence anything, nor does one naming a rule that does "
    "not exist (a typo would otherwise hide nothing and look like it does).",
    advice=advice,
    example=Subject(table="?", name="create-index-not-concurently"),
    check=check,
)

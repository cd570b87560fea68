"""downgrade-raises-silently: a downgrade() that raises without saying it is irreversible."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_alembic.lint.advice import Subject, call, describe, py
from fastapi_alembic.lint.context import Hit, RuleContext
from fastapi_alembic.lint.model import Action, Kind, Severity
from fastapi_alembic.lint.rule import Rule


def check(context: RuleContext) -> Iterator[Hit]:
    error = context.reading.raised
    if error is None or context.reading.reader_limit:
        return  # raised by lint's stand-ins, not by the downgrade
    if isinstance(error, NotImplementedError | RuntimeError) and str(error).strip():
        return  # it says why
    yield Hit(
        f"revision {context.revision}'s downgrade() raises {type(error).__name__}"
        + (f" ({error})" if str(error).strip() else "")
        + " without saying the revision is irreversible",
        line=context.reading.raised_line,
    )


def advice(s: Subject) -> str:
    reason = (
        f"irreversible: revision {s.revision} {describe(s.upgrade)}; "
        "restore from a backup taken before it"
    )
    return f"""\
# If it is one-way on purpose, say so and why; else fix what raised ({s.error or "?"}):
def downgrade():
{call("NotImplementedError", py(reason), prefix="raise ", indent=4)}"""


RULE = Rule(
    id="downgrade-raises-silently",
    category="hygiene",
    severity=Severity.WARNING,
    title="A downgrade() that raises without a reason",
    why="Whoever runs the downgrade in an emergency gets a bare exception (or a bug's traceback) "
    "instead of knowing that the revision was written to be one-way, and why.",
    advice=advice,
    example=Subject(
        table="?",
        error="NotImplementedError",
        upgrade=(
            Action(Kind.ADD_COLUMN, table="posts", column="title"),
            Action(Kind.DROP_COLUMN, table="posts", column="body"),
        ),
    ),
    check=check,
    directions=("downgrade",),
)

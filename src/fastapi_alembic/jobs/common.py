"""Small helpers the facade and its jobs share."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import URL

import fastapi_alembic.revisions as graph
from fastapi_alembic.errors import ScriptError
from fastapi_alembic.urls import mask_text


def current_heads(migration_context: MigrationContext) -> tuple[str, ...]:
    return tuple(migration_context.get_current_heads())


def first_line(error: BaseException, url: URL) -> str:
    """The driver's own first line for ``error``, masked, without a final period."""
    original = getattr(error, "orig", None) or error
    line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return mask_text(line, url.password).rstrip(".")


def resolve(script: ScriptDirectory, revision: str) -> Script:
    found = graph.resolve_revision(script, revision)
    if found is None:
        raise ScriptError(f"{revision!r} is the base, which has no migration file.")
    return found

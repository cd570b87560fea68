"""The gate's and the ledger's questions asked through Alembic, inside the app's env.py: the
facade's slow path when the static gate cannot answer, and what status, check and log read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_alembic import revisions as graph
from fastapi_alembic.gate.head_check import HeadCheck, Position, position_of
from fastapi_alembic.runtime import ledger, ledger_health
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from fastapi_alembic.config import Settings


def _connection(context: MigrationContext) -> Connection:
    connection = context.connection
    assert connection is not None  # online: the facade always hands env.py a connection
    return connection


def current_of(context: MigrationContext) -> tuple[str, ...]:
    return tuple(context.get_current_heads())


def refuse_interrupted(settings: Settings, context: MigrationContext) -> None:
    """DatabaseStateError (exit 3) when the ledger shows a migration left half done."""
    ledger.refuse_interrupted(
        _connection(context),
        settings.ledger_table,
        context.version_table_schema,
        settings.require_url(),
    )


def head_check(settings: Settings, context: MigrationContext, script: ScriptDirectory) -> HeadCheck:
    """The gate's answer from Alembic's own revision map: the same rule as the static gate."""
    refuse_interrupted(settings, context)
    current = current_of(context)
    heads = set(script.get_heads())
    known = {revision for revision in current if graph.is_known(script, revision)}
    position = position_of(current, heads, known)
    behind = graph.pending(script, current) if position is Position.BEHIND else []
    return HeadCheck(
        url=mask_url(settings.require_url()),
        position=position,
        current=current,
        heads=tuple(sorted(heads)),
        pending=len(behind),
        static=False,
    )


def drift(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> list[ledger.Drift]:
    """Applied migrations whose file changed since, or is gone."""
    rows = ledger.entries(_connection(context), settings.ledger_table, context.version_table_schema)
    files = {s.revision: s.path for s in script.walk_revisions()}
    return ledger.drift(rows, files, graph.applied_set(script, current_of(context)))


def ledger_problems(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> list[ledger_health.LedgerProblem]:
    """What keeps the ledger from vouching for the applied migrations."""
    applied = graph.applied_set(script, current_of(context))
    return ledger_health.problems(
        _connection(context), settings.ledger_table, context.version_table_schema, applied
    )


def adopt(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> list[ledger.Entry]:
    files = {s.revision: s.path for s in script.walk_revisions()}
    return ledger.adopt(
        _connection(context),
        settings.ledger_table,
        context.version_table_schema,
        files,
        graph.applied_set(script, current_of(context)),
    )


def entries(settings: Settings, context: MigrationContext) -> list[ledger.Entry]:
    return ledger.entries(_connection(context), settings.ledger_table, context.version_table_schema)


def accept(
    settings: Settings, context: MigrationContext, script: ScriptDirectory, revision: str
) -> ledger.Entry:
    files = {s.revision: s.path for s in script.walk_revisions()}
    return ledger.accept(
        _connection(context),
        settings.ledger_table,
        context.version_table_schema,
        revision,
        files,
        graph.applied_set(script, current_of(context)),
    )

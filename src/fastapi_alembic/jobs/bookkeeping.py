"""The applied-migration ledger read and written through Alembic, inside the app's env.py:
log, accept_edit and adopt_ledger, and what status and check read of it (runtime/ledger.py
holds the table itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import fastapi_alembic.revisions as graph
from fastapi_alembic.jobs import running
from fastapi_alembic.jobs.common import current_heads
from fastapi_alembic.runtime import ledger, ledger_health

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from fastapi_alembic.config import Settings
    from fastapi_alembic.workspace import Workspace


def log(workspace: Workspace) -> list[ledger.Entry]:
    """The body of ``Migrations.log``."""
    return running.inspect(
        workspace,
        lambda context, _script: entries(workspace.settings, context),
        models=False,
    )


def accept_edit(workspace: Workspace, revision: str) -> ledger.Entry:
    """The body of ``Migrations.accept_edit``."""
    return running.inspect(
        workspace,
        lambda context, script: accept(workspace.settings, context, script, revision),
        models=False,
    )


def adopt_ledger(workspace: Workspace) -> list[ledger.Entry]:
    """The body of ``Migrations.adopt_ledger``."""
    return running.inspect(
        workspace,
        lambda context, script: adopt(workspace.settings, context, script),
        models=False,
    )


def _connection(context: MigrationContext) -> Connection:
    connection = context.connection
    assert connection is not None  # online: the jobs always hand env.py a connection
    return connection


def refuse_interrupted(settings: Settings, context: MigrationContext) -> None:
    """DatabaseStateError (exit 3) when the ledger shows a migration left half done."""
    ledger.refuse_interrupted(
        _connection(context),
        settings.ledger_table,
        context.version_table_schema,
        settings.require_url(),
    )


def drift(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> list[ledger.Drift]:
    """Applied migrations whose file changed since, or is gone."""
    rows = ledger.entries(_connection(context), settings.ledger_table, context.version_table_schema)
    files = {s.revision: s.path for s in script.walk_revisions()}
    return ledger.drift(rows, files, graph.applied_set(script, current_heads(context)))


def ledger_problems(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> list[ledger_health.LedgerProblem]:
    """What keeps the ledger from vouching for the applied migrations."""
    applied = graph.applied_set(script, current_heads(context))
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
        graph.applied_set(script, current_heads(context)),
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
        graph.applied_set(script, current_heads(context)),
    )

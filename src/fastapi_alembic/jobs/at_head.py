"""Whether the database is at head: the start-up gate's static answer when it can be sure,
else Alembic's own, asked inside the app's env.py (the same rule, slower)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

import fastapi_alembic.revisions as graph
from fastapi_alembic.dialects import for_url
from fastapi_alembic.env_runs import env_py_may_move_versions, ini_revision_environment
from fastapi_alembic.errors import DatabaseUnreachable
from fastapi_alembic.gate import head_check as gate
from fastapi_alembic.gate.head_check import HeadCheck, Position, position_of
from fastapi_alembic.jobs import running
from fastapi_alembic.jobs.bookkeeping import refuse_interrupted
from fastapi_alembic.jobs.common import current_heads
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from fastapi_alembic.config import Settings
    from fastapi_alembic.workspace import Workspace

logger = logging.getLogger(__name__)


def head_check(workspace: Workspace, connection: Connection | None = None) -> HeadCheck:
    """The body of ``Migrations.head_check``."""
    on = workspace if connection is None else workspace.with_url(connection.engine.url)
    if connection is None:
        missing = for_url(on.url).absent(on.url)
        if missing:  # looking never creates a database (SQLite would make the file)
            raise DatabaseUnreachable(missing)
    fast = fast_head_check(on, connection)
    if not isinstance(fast, str):
        return fast
    # Only Alembic can answer: through env.py, on the lent connection when env.py takes
    # one (a generated env.py does), else on a connection of its own to the same URL.
    answer = running.inspect(
        on,
        lambda context, script: _alembic_answer(on.settings, context, script),
        connection,
        models=False,
    )
    return replace(answer, why_not_static=fast)


def fast_head_check(workspace: Workspace, connection: Connection | None = None) -> HeadCheck | str:
    """The gate's static answer, or (said with -v) why only Alembic can answer: among the
    reasons, an env.py that may name revision folders of its own, and files that show no
    revision at all (Alembic then says whether that is so, or files sit where nothing looks)."""
    settings = workspace.settings
    ini = settings.ini or settings.root / "alembic.ini"
    revision_environment = ini_revision_environment(ini, settings.section)
    if env_py_may_move_versions(revision_environment, workspace.directory):
        reason = "env.py may name revision folders of its own (version_locations)"
        logger.info("The revision files are read through Alembic: %s.", reason)
        return reason
    options = gate.alembic_ini_options(workspace.settings.root)
    try:
        answer = gate.fast_head_check(workspace.settings, options, connection)
    except DBAPIError as error:
        raise running.refused(workspace, error) from None
    if answer is not None and answer.heads:
        return answer
    reason = (
        gate.why_not_static(workspace.settings, options)
        if answer is None
        else "the revision files show no revision"
    )
    logger.info("The revision files are read through Alembic: %s.", reason)
    return reason


def _alembic_answer(
    settings: Settings, context: MigrationContext, script: ScriptDirectory
) -> HeadCheck:
    """The gate's answer from Alembic's own revision map: the same rule as the static gate."""
    refuse_interrupted(settings, context)
    current = current_heads(context)
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

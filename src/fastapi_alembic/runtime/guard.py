"""The hook env.py calls around ``context.run_migrations()``: lock, re-read, timeouts, retries."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi_alembic.dialects import for_url
from fastapi_alembic.runtime.lock import LockTarget, migration_lock
from fastapi_alembic.runtime.timeouts import run_with_lock_timeout

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from fastapi_alembic.config import Settings

#: Where the revisions the database was at once the lock was taken are left for the caller.
HEADS_UNDER_LOCK_KEY = "fastapi_alembic.heads_under_lock"


def run_guarded(
    migration_context: MigrationContext,
    settings: Settings,
    run: Callable[[], None],
    attributes: MutableMapping[str, Any],
) -> None:
    """Run ``run`` (a transaction around ``context.run_migrations()``) under the migration
    lock when it changes the database; reads and ``--sql`` run as they are.

    Autogenerate (``make``, a ``revision_context`` in the options) is a read: it reflects the
    schema and applies nothing, so it neither queues behind a running upgrade nor needs lock
    timeouts (catalog reads take no table locks worth timing out)."""
    connection = migration_context.connection
    opts = migration_context.opts
    if (
        connection is None
        or migration_context.as_sql
        or opts.get("dont_mutate")
        or opts.get("revision_context")
    ):
        run()
        return
    url = settings.require_url()
    target = LockTarget(
        url,
        migration_context.opts.get("version_table") or "alembic_version",
        migration_context.opts.get("version_table_schema"),
    )
    with migration_lock(target, settings.lock_wait):
        # Read again under the lock: a migrator that waited finds the work done.
        began = not connection.in_transaction()
        attributes[HEADS_UNDER_LOCK_KEY] = tuple(migration_context.get_current_heads())
        if began:
            connection.commit()
        run_with_lock_timeout(
            connection,
            for_url(url),
            run,
            timeout_seconds=settings.lock_timeout,
            retries=settings.lock_retries,
        )

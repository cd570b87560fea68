"""The hook env.py calls around ``context.run_migrations()``: lock, re-read, timeouts, retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.sqlite import stop_waiting_for_writers, writers_wait_left
from fastapi_alembic.errors import MigrationLockTimeout
from fastapi_alembic.runtime.lock import Held, LockTarget, migration_lock
from fastapi_alembic.runtime.timeouts import run_with_lock_timeout

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from fastapi_alembic.config import Settings

#: Where the revisions the database was at once the lock was taken are left for the caller.
HEADS_UNDER_LOCK_KEY = "fastapi_alembic.heads_under_lock"
#: Where a failed run leaves the revision whose autocommit_block committed part of it.
PARTLY_COMMITTED_KEY = "fastapi_alembic.partly_committed"


class KeptLocks:
    """Locks taken for the runs of an env.py of one's own, kept until that env.py has ended:
    it may commit its transaction after our run (a lock given back before would let a waiter
    read the version it is about to move), and run the migrations more than once in that
    transaction (one schema after another), each run finding the lock already its own."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._held: dict[LockTarget, Held] = {}

    def hold(self, target: LockTarget, taking: AbstractContextManager[Held]) -> Held:
        held = self._held.get(target)
        if held is None:
            held = self._held[target] = self._stack.enter_context(taking)
        return held

    def release(self) -> None:
        self._held.clear()
        self._stack.close()


@contextmanager
def _lock_within_the_wait(target: LockTarget, lock_wait: float, **options: Any) -> Iterator[Held]:
    """The migration lock. On SQLite the verb's wait for other writers began before it (its
    reads wait for a writer's lock too): the lock waits for what is left of the same wait,
    and the sentence still names the whole of it."""
    left = writers_wait_left()
    if left is None:
        with migration_lock(target, lock_wait, **options) as held:
            yield held
        return
    wait = round(left, 3)
    with ExitStack() as stack:
        try:
            held = stack.enter_context(migration_lock(target, wait, **options))
        except MigrationLockTimeout as error:
            raise MigrationLockTimeout(
                str(error).replace(f"after {wait:g} s", f"after {lock_wait:g} s")
            ) from None
        stop_waiting_for_writers()
        yield held


def run_under_lock(
    migration_context: MigrationContext,
    settings: Settings,
    run: Callable[[], None],
    attributes: MutableMapping[str, Any],
    *,
    no_retry_reason: str | None = None,
    kept: KeptLocks | None = None,
) -> None:
    """Run ``run`` (a transaction around ``context.run_migrations()``) under the migration
    lock when it changes the database; reads and ``--sql`` run as they are.

    Autogenerate (``make``, a ``revision_context`` in the options) is a read: it reflects the
    schema and applies nothing, so it neither queues behind a running upgrade nor needs lock
    timeouts (catalog reads take no table locks worth timing out). A migration that timed out
    on a lock is tried again, unless ``no_retry_reason`` says why it cannot be. With ``kept``
    the lock is kept there, not given back when ``run`` ends."""
    connection = migration_context.connection
    opts = migration_context.opts
    on_connect = opts.get("on_connect")
    if connection is not None and on_connect is not None:
        run_on_connect(connection, on_connect)
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
    taking = _lock_within_the_wait(
        target,
        settings.lock_wait,
        lease_seconds=settings.lock_lease,
        keepalive=lambda: _keep_alive(connection),
    )
    with (
        taking if kept is None else nullcontext(kept.hold(target, taking)) as held,
        held.fencing(migration_context),
    ):
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
            no_retry_reason=no_retry_reason,
        )


def run_on_connect(connection: Connection, on_connect: Callable[[Connection], Any]) -> None:
    """``run_migrations(on_connect=...)``: the project's statements on the connection it was
    given, before anything is read or migrated (``SET search_path``, a session setting). What
    they began is committed, so that the run's own transactions start as they would have."""
    began = not connection.in_transaction()
    on_connect(connection)
    if began and connection.in_transaction():
        connection.commit()


def _keep_alive(connection: Connection) -> None:
    """One statement on the migration's connection while it waits for the lock: a server or
    proxy that ends idle sessions (idle_session_timeout, wait_timeout) leaves it alone."""
    began = not connection.in_transaction()
    try:
        connection.exec_driver_sql("SELECT 1")
        if began:
            connection.rollback()
    except DBAPIError:
        # Ended between two pings: rolled back, the connection opens a new session when the
        # migration uses it (nothing of the migration had run on it yet).
        with suppress(DBAPIError):
            connection.rollback()

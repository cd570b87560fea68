"""Lock timeouts with retries: a migration never queues behind a long transaction for long.

A statement such as ALTER TABLE waits for the table's lock, and every query on that table then
waits behind it: an app stalls while a migration waits. So each migration runs with a short
lock timeout (PostgreSQL ``lock_timeout``, MySQL ``lock_wait_timeout``); when it expires the
migration's transaction is rolled back and the run is tried again after a growing pause.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.errors import MigrationBlocked

logger = logging.getLogger("fastapi_alembic")

#: The first pause between tries, doubled each time up to the cap.
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0


def pause_before_retry(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...)."""
    return float(min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** (retry - 1)))


def run_with_lock_timeout(
    connection: Connection,
    dialect: DialectSupport,
    run: Callable[[], None],
    *,
    timeout_seconds: float,
    retries: int,
    notify: Callable[[str], None] | None = None,
    no_retry_reason: str | None = None,
) -> None:
    """Run ``run`` (which rolls its own transaction back when it raises) with statements
    giving up on locks after ``timeout_seconds``, trying ``retries`` more times; only once
    when ``no_retry_reason`` says why it cannot be tried again (the sentence then says it)."""
    notify = notify or logger.warning
    unwatch = _watch(connection, dialect)
    restore = _apply(connection, dialect, timeout_seconds)
    try:
        retry = 0
        while True:
            try:
                run()
                return
            except DBAPIError as error:
                if not dialect.is_lock_timeout(error):
                    raise
                if no_retry_reason is not None:
                    # The transaction is env.py's to end: who blocked it is asked apart.
                    blocked = "a table, held by another session"
                    with suppress(DBAPIError), connection.engine.connect() as apart:
                        blocked = _blocker(apart, dialect, error)
                    raise MigrationBlocked(
                        f"A migration waited for a lock on {blocked} longer than "
                        f"{timeout_seconds:g} s, so its transaction was rolled back, and "
                        f"{no_retry_reason}: end or wait for that session, then run the "
                        "upgrade again."
                    ) from None
                blocked = _blocker(connection, dialect, error)
                if retry >= retries:
                    raise MigrationBlocked(
                        f"A migration waited for a lock on {blocked} longer than "
                        f"{timeout_seconds:g} s on each of {retries + 1} tries, so its "
                        "transaction was rolled back: end or wait for that session, then "
                        "run the upgrade again (lock_timeout and lock_retries set the limits)."
                    ) from None
                retry += 1
                pause = pause_before_retry(retry)
                notify(
                    f"A migration waited for a lock on {blocked} longer than "
                    f"{timeout_seconds:g} s and was rolled back: retry {retry} of {retries} "
                    f"in {pause:g} s."
                )
                time.sleep(pause)
    finally:
        restore()
        unwatch()


def _watch(connection: Connection, dialect: DialectSupport) -> Callable[[], None]:
    """Session settings for the run (dialect.watch_migration_session), kept across Alembic's
    transactions and undone after."""
    began = not connection.in_transaction()
    try:
        undo = dialect.watch_migration_session(connection, f"fastapi-alembic pid {os.getpid()}")
    except DBAPIError:
        # A server that refuses a setting (a pooler, an old version): the run goes on as it
        # would have; only an orphaned statement is left to the server's own timeouts.
        if began:
            connection.rollback()
        return lambda: None
    if began:
        connection.commit()

    def restore() -> None:
        outside = not connection.in_transaction()
        with suppress(DBAPIError):
            undo()
            if outside:
                connection.commit()

    return restore


def _apply(connection: Connection, dialect: DialectSupport, seconds: float) -> Callable[[], None]:
    if seconds <= 0:  # no limit: leave the server's setting alone
        return lambda: None
    began = not connection.in_transaction()
    reset = dialect.set_lock_timeout(connection, seconds)
    if began:
        connection.commit()  # a session setting, kept; Alembic begins its own transaction

    def restore() -> None:
        outside = not connection.in_transaction()
        with suppress(DBAPIError):  # the session may be gone; it takes its setting along
            reset()
            if outside:
                connection.commit()

    return restore


def _blocker(connection: Connection, dialect: DialectSupport, error: DBAPIError) -> str:
    """``table users, held by session 42 (psql, client ...)``: the table the failed statement
    names that another session holds, as far as the server can tell."""
    statement = error.statement or ""
    holders: list[tuple[str | None, str]] = []
    tables: set[str] = set()
    # The failed statement aborted the transaction (PostgreSQL answers nothing more in it):
    # roll back first, then ask who holds the locks; the holder holds them still.
    with suppress(DBAPIError):
        connection.rollback()
    try:
        holders = dialect.lock_holders(connection)
        tables = {table for table, _ in holders if table}
        tables.update(inspect(connection).get_table_names())
    except DBAPIError:
        pass  # the description is a courtesy: the error itself is reported either way
    finally:
        with suppress(DBAPIError):
            connection.rollback()
    named = sorted(table for table in tables if _mentions(statement, table))
    table = named[0] if named else None
    sessions = [who for held, who in holders if held is None or held == table] or [
        who for _, who in holders
    ]
    where = f"table {table}" if table else "a table"
    if sessions:
        return f"{where}, held by {sessions[0]}"
    return f"{where}, held by another session"


def _mentions(statement: str, table: str) -> bool:
    return (
        re.search(rf"(?<![\w$]){re.escape(table)}(?![\w$])", statement, re.IGNORECASE) is not None
    )

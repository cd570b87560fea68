"""The migration lock on a database server: rows in a table of ours, held by a renewed lease.

A session lock (an advisory lock, GET_LOCK) is lost to a pooler in transaction mode and to a
server or proxy that ends idle sessions; a row is the same row whichever session reads it, and
it lives in the database, so every URL that reaches the database finds it. Each lock has an
**owner** row (the holder's run token) and a **lease** row (the token, and when the lease ends
by the server's clock). Taking: lock the lease row; if the lease is live, wait; else lock the
owner row ``NOWAIT`` and write our token into both. Holding: a thread renews the lease,
reconnecting if its session is ended. Fencing: the transaction that moves the version reads the
owner row ``FOR SHARE`` and checks our token, so a takeover makes it roll back, and no takeover
can happen before it commits (fencing.py: once per transaction where DDL is transactional).
Between transactions every statement the migration sends is checked against the lease as last
confirmed. docs/production.md gives the whole argument.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    exists,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.elements import ColumnClause

from fastapi_alembic.errors import MigrationLockLost
from fastapi_alembic.runtime.fencing import fencing
from fastapi_alembic.runtime.lock_table import described, lock_table, no_lock

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from fastapi_alembic.dialects.base import DialectSupport

#: Seconds a lease lasts unless renewed: how long a killed holder keeps others waiting.
DEFAULT_LEASE_SECONDS = 15.0
#: A waiter asks again this often; the holder renews its lease this many times per lease.
POLL_SECONDS = 0.2
RENEWALS_PER_LEASE = 5
KEEPALIVE_SECONDS = 1.0


class Target(Protocol):
    """What is locked (lock.LockTarget)."""

    @property
    def url(self) -> URL: ...
    @property
    def schema(self) -> str | None: ...
    @property
    def table(self) -> str: ...
    def describe(self) -> str: ...


class Waiting(Protocol):
    """The waiter's side (lock._Waiting): when to speak and when to give up."""

    @property
    def remaining(self) -> float: ...

    def still_waiting(self, owner: Callable[[], str | None]) -> None: ...


class _Lost(Exception):
    """Ends the keeper thread: the lease is gone, or the caller stopped waiting."""


class LeaseLock:
    """The lock of one version table, held by this process for one run."""

    def __init__(
        self, target: Target, dialect: DialectSupport, lease_seconds: float, label: str
    ) -> None:
        self.target = target
        self.url: URL = target.url
        self.dialect = dialect
        self.lease = max(1.0, lease_seconds)
        self.label = label
        self.token = uuid.uuid4().hex
        self.table = lock_table(target.schema, self.url.get_backend_name())
        self._fence_condition: ColumnElement[bool] | None = None
        self.owner_key = target.table
        self.lease_key = f"{target.table} lease"
        self._clock: ColumnClause[Any] = literal_column(dialect.clock_ms_sql or "")
        self._outcome: queue.Queue[BaseException | None] = queue.Queue()
        self._release = threading.Event()
        self._thread: threading.Thread | None = None
        self._acquired = self._ensured = self._reconnected = False
        #: Until when (time.monotonic) the lease is surely ours; 0: not held.
        self._valid_until = 0.0
        self._lost: str | None = None
        self._seen: str | None = None  # the holder we last saw while waiting

    # -- the caller's side ----------------------------------------------------------------

    def acquire(self, waiting: Waiting, keepalive: Callable[[], None] | None = None) -> None:
        """Take the lock; meanwhile ``keepalive`` is called every second or so (a server or
        proxy that ends idle sessions would end the waiting migration's connection)."""
        self._thread = threading.Thread(
            target=self._keep, args=(waiting,), name="fastapi-alembic lock", daemon=True
        )
        self._thread.start()
        try:
            while True:
                try:
                    failure = self._outcome.get(timeout=KEEPALIVE_SECONDS)
                    break
                except queue.Empty:
                    if keepalive is not None:
                        keepalive()
        except BaseException:  # interrupted: the thread gives back what it may still take
            self.release()
            raise
        if failure is not None:
            self._thread.join()
            raise failure

    def release(self) -> None:
        self._release.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def check(self) -> None:
        """Raise the one sentence if the lock may no longer be ours."""
        if self._lost is None and time.monotonic() > self._valid_until:
            self._lose(
                f"its lease was not renewed for {self.lease:g} s (this process was paused, or "
                "cut off from the database)"
            )
        if self._lost is not None:
            raise MigrationLockLost(
                f"Lost the migration lock on {self.target.describe()}: {self._lost}, so another "
                "migrator may have taken it; this process stopped before applying or recording "
                "anything more: run `fastapi-alembic status` to see where the database is, "
                "then run the command again."
            )

    def fence(self, connection: Connection) -> None:
        """In the transaction that moves the version: the owner row must still name us, and
        stays read-locked until that transaction ends."""
        self.check()
        if not connection.execute(select(self.fence_condition())).scalar():
            holder = connection.execute(
                select(self.table.c.holder).where(self.table.c.name == self.owner_key)
            ).scalar()
            self._lose(f"{holder or 'another migrator'} took it after this process's lease ran out")
            self.check()

    def fence_condition(self) -> ColumnElement[bool]:
        """The fence as a condition a statement of the transaction can carry (fencing.py):
        the owner row, read-locked, names us. Built once: on MySQL it runs for every migration."""
        if self._fence_condition is None:
            self._fence_condition = exists(
                select(self.table.c.name)
                .where(self.table.c.name == self.owner_key, self.table.c.token == self.token)
                .with_for_update(read=True)
            )
        return self._fence_condition

    def fencing(self, migration_context: MigrationContext) -> AbstractContextManager[None]:
        """Check every statement the migration sends, and fence every transaction that moves
        the version (fencing.py)."""
        return fencing(self, migration_context, per_transaction=self.dialect.transactional_ddl)

    def _lose(self, why: str) -> None:
        if self._lost is None:
            self._lost = why

    # -- the keeper thread ----------------------------------------------------------------

    def _keep(self, waiting: Waiting) -> None:
        from fastapi_alembic.dialects.engines import run_with_connection

        while True:
            try:
                run_with_connection(
                    self.url, lambda c: self._session(c, waiting), own_transactions=True
                )
                return
            except _Lost:
                return
            except BaseException as error:
                if not self._acquired:
                    if _disconnected(error) and waiting.remaining > 0:
                        time.sleep(POLL_SECONDS)  # our session was ended: wait on a new one
                        continue
                    self._outcome.put(error)
                    return
                # The server or a proxy ended our session: a new one, while the lease lasts.
                if self._release.is_set() or time.monotonic() > self._valid_until:
                    return  # released (the lease runs out by itself), or lost: check() says
                self._release.wait(POLL_SECONDS)
                self._reconnected = True

    def _session(self, connection: Connection, waiting: Waiting) -> None:
        if not self._acquired:
            self._ensure(connection)
            while True:
                began = time.monotonic()
                if self._take(connection):
                    break
                if self._release.is_set():
                    raise _Lost  # the caller stopped waiting
                waiting.still_waiting(lambda: self._seen)
                time.sleep(max(0.0, min(POLL_SECONDS, waiting.remaining)))
            self._valid_until = began + self._safe_lease()
            self._acquired = True
            self._outcome.put(None)
        # Renewals and the release are one statement each: with AUTOCOMMIT no transaction of
        # ours stays open (holding the lease row) if this process is paused between two.
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        interval = self.lease / RENEWALS_PER_LEASE
        # After a reconnection, renew at once: the wait for the new session used lease time.
        while not self._release.wait(0 if self._reconnected else interval):
            self._reconnected = False
            began = time.monotonic()
            if not self._renew(connection):
                self._lose(f"{self._holder(connection)} took it after this process's lease ran out")
                raise _Lost
            self._valid_until = began + self._safe_lease()
        if self._lost is None:
            self._give_back(connection)

    def _safe_lease(self) -> float:
        # Our clock may run a little faster than the server's: keep a margin.
        return self.lease * 0.98 - 0.2

    def _ensure(self, connection: Connection) -> None:
        """The table and this lock's two rows, made by whichever migrator comes first (on
        PostgreSQL in a named schema: env.py may change the fence connection's search_path)."""
        if self._ensured:
            return
        if self.table.schema is None and connection.dialect.name == "postgresql":
            self.table = lock_table(connection.dialect.default_schema_name, connection.dialect.name)
            self._fence_condition = None
        try:
            try:
                self.table.create(connection, checkfirst=True)
                connection.commit()
            except DBAPIError:
                connection.rollback()  # made at the same moment by another migrator
                self.table.create(connection, checkfirst=True)
                connection.commit()
            present = set(
                connection.execute(
                    select(self.table.c.name).where(
                        self.table.c.name.in_([self.owner_key, self.lease_key])
                    )
                ).scalars()
            )
            connection.commit()
            for key in (self.owner_key, self.lease_key):
                if key not in present:
                    try:
                        connection.execute(self.table.insert().values(name=key))
                        connection.commit()
                    except IntegrityError:
                        connection.rollback()
        except DBAPIError as error:
            if error.connection_invalidated:
                raise
            connection.rollback()
            raise no_lock(error, self.url, self.target.table) from None
        self._ensured = True

    def _take(self, connection: Connection) -> bool:
        table = self.table
        try:
            row = connection.execute(
                select(table.c.token, table.c.holder, table.c.since_ms, table.c.expires_ms)
                .add_columns(self._clock.label("now_ms"))
                .where(table.c.name == self.lease_key)
                .with_for_update(nowait=True)
            ).one()
            if row.token is not None and row.expires_ms is not None and row.expires_ms > row.now_ms:
                self._seen = described(row.holder, row.since_ms)
                connection.rollback()
                return False
            connection.execute(
                select(table.c.name)
                .where(table.c.name == self.owner_key)
                .with_for_update(nowait=True)
            ).one()
            mine = {"token": self.token, "holder": self.label, "since_ms": self._clock}
            connection.execute(
                update(table).where(table.c.name == self.owner_key).values(**mine, expires_ms=None)
            )
            connection.execute(
                update(table)
                .where(table.c.name == self.lease_key)
                .values(**mine, expires_ms=self._clock + int(self.lease * 1000))
            )
            connection.commit()
            return True
        except DBAPIError as error:
            if error.connection_invalidated:
                raise  # the server or a proxy ended our session: _keep opens another
            connection.rollback()
            if self.dialect.is_lock_timeout(error):
                # A row is locked: another migrator is taking it, or the last holder's
                # transaction is still open (its lease ran out, its session did not).
                self._seen = self._seen or "another migrator, whose transaction is still open"
                return False
            raise no_lock(error, self.url, self.target.table) from None

    def _renew(self, connection: Connection) -> bool:
        table = self.table
        renewed = connection.execute(
            update(table)
            .where(table.c.name == self.lease_key, table.c.token == self.token)
            .values(expires_ms=self._clock + int(self.lease * 1000))
        ).rowcount
        connection.commit()
        return renewed == 1

    def _give_back(self, connection: Connection) -> None:
        table = self.table
        mine = table.c.token == self.token
        cleared = {"token": None, "holder": None, "since_ms": None, "expires_ms": None}
        connection.execute(
            update(table).where(table.c.name == self.lease_key, mine).values(**cleared)
        )
        connection.commit()
        # A transaction that moved the version and is still open read-locks the owner row:
        # not waited for (it may wait for us), left as it is; a taker's NOWAIT on it then
        # waits for that commit, and overwrites it. A server without SKIP LOCKED (MariaDB
        # before 10.6) leaves it so too.
        try:
            owner = connection.execute(
                select(table.c.name)
                .where(table.c.name == self.owner_key, mine)
                .with_for_update(skip_locked=True)
            ).first()
            if owner is not None:
                connection.execute(
                    update(table).where(table.c.name == self.owner_key, mine).values(**cleared)
                )
            connection.commit()
        except DBAPIError:
            connection.rollback()

    def _holder(self, connection: Connection) -> str:
        try:
            holder = connection.execute(
                select(self.table.c.holder).where(self.table.c.name == self.lease_key)
            ).scalar()
            connection.rollback()
        except DBAPIError:
            holder = None
        return str(holder) if holder else "another migrator"


def _disconnected(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and error.connection_invalidated

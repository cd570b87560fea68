"""The transaction-per-test mode of the pytest plugin: one migrated database per process
(so one per xdist worker), and every test inside an outer transaction rolled back after it.

The test's connection, its Session and the app's dependency override share that one
transaction. A Session joins it through a SAVEPOINT (SQLAlchemy's
``join_transaction_mode="create_savepoint"``): a test that commits releases its SAVEPOINT
only, and the rollback at the end takes everything back. The connection stays open from test
to test, so a test waits for no connection and no copy: a BEGIN and a ROLLBACK.

What cannot be rolled back escapes: a commit of the outer transaction itself
(``migrated_connection.commit()``), and DDL on MySQL/MariaDB (which commits implicitly). The
first is caught: the shared database is handed back (its rows reset, or dropped) and the next
test gets a clean one. Tests that need either get a database of their own (docs/testing.md).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import AsyncAdaptedQueuePool

from fastapi_alembic.dialects.engines import make_engine
from fastapi_alembic.dialects.registry import backend_name

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction
    from sqlalchemy.orm import Session

    from fastapi_alembic.testing.templates import TemplateDatabases

#: How a test is kept apart from the others: a copy of its own, or a rolled-back transaction.
ISOLATIONS = ("database", "transaction")

#: A sync driver for the shared database when the server URL names an async one, and back.
_SYNC_DRIVERS = {
    "asyncpg": "psycopg",
    "psycopg_async": "psycopg",
    "aiomysql": "pymysql",
    "asyncmy": "pymysql",
    "aiosqlite": "pysqlite",
}
_ASYNC_DRIVERS = {"postgresql": "psycopg_async", "mysql": "aiomysql"}


def sync_url(url: URL) -> URL:
    driver = _SYNC_DRIVERS.get(url.get_driver_name())
    return url if driver is None else url.set(drivername=f"{url.get_backend_name()}+{driver}")


def async_url(url: URL) -> URL:
    """``url`` with an async driver: the one it names, else the backend's usual one."""
    if url.get_driver_name() in _SYNC_DRIVERS:
        return url
    backend = backend_name(url.get_backend_name()) or url.get_backend_name()  # mariadb: mysql
    driver = _ASYNC_DRIVERS.get(backend, "aiosqlite")
    return url.set(drivername=f"{backend}+{driver}")


class SharedDatabase:
    """The migrated database the tests of one process share in transaction mode: a copy of
    the template taken once, an engine on it, and one connection kept open across tests."""

    def __init__(self, templates: TemplateDatabases) -> None:
        self.templates = templates
        self._url: URL | None = None
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._async_engine: AsyncEngine | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        #: Set when a test commits the outer transaction (its rows escaped the rollback).
        self.escaped = False

    @property
    def url(self) -> URL:
        if self._url is None:
            # One copy for the run: no reason to start making copies ahead for it.
            self._url = self.templates.create(start_ahead=False)
        return self._url

    def _note_commit(self, *_: Any) -> None:
        self.escaped = True

    def engine(self) -> Engine:
        if self._engine is None:
            url = sync_url(self.url)
            # The connection crosses threads (a TestClient runs sync dependencies in a
            # worker thread), one at a time: SQLite's same-thread check would refuse it.
            options: dict[str, Any] = {}
            if url.get_backend_name() == "sqlite":
                options["connect_args"] = {"check_same_thread": False}
            made = make_engine(url, **options)
            if not isinstance(made, Engine):  # sync_url names a sync driver
                raise TypeError(f"not a sync engine: {made!r}")
            event.listen(made, "commit", self._note_commit)
            self._engine = made
        return self._engine

    def begin(self) -> OuterTransaction:
        """The outer transaction of one test, on the connection kept open."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connection = self.engine().connect()
        self.escaped = False
        return OuterTransaction(self, connection)

    async def async_begin(self) -> AsyncOuterTransaction:
        """The outer transaction of one async test, on a connection of the running loop."""
        loop = asyncio.get_running_loop()
        if self._async_engine is None or self._async_loop is not loop:
            # Async connections belong to the loop that opened them; a test in another loop
            # (pytest's async plugins may run one per module) needs connections of its own.
            self._forget_async_engine()
            # A pool: the tests of one loop reuse the connection (the default is none).
            made = make_engine(async_url(self.url), poolclass=AsyncAdaptedQueuePool)
            if isinstance(made, Engine):  # async_url names an async driver
                raise TypeError(f"not an async engine: {made!r}")
            event.listen(made.sync_engine, "commit", self._note_commit)
            self._async_engine, self._async_loop = made, loop
        self.escaped = False
        connection = await self._async_engine.connect()
        return AsyncOuterTransaction(self, connection, await connection.begin())

    def _forget_async_engine(self) -> None:
        if self._async_engine is not None:
            # Its loop may be closed: let its connections go without awaiting their close
            # (the server ends them; dropping the database ends them on a server too).
            self._async_engine.sync_engine.dispose(close=False)
        self._async_engine = self._async_loop = None

    def replace(self) -> None:
        """Hand the database back (reset to the template's rows, or dropped): a test's
        commit escaped into it. The next test gets a clean one."""
        self.close(hand_back=True)

    def close(self, *, hand_back: bool = True) -> None:
        if self._connection is not None:
            self._connection.invalidate()  # never roll back or reuse: it may be mid-test
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._forget_async_engine()
        if self._url is not None and hand_back:
            self.templates.drop(self._url)
        self._url = None


class OuterTransaction:
    """One test's transaction on the shared connection, and the Sessions joined to it."""

    def __init__(self, shared: SharedDatabase, connection: Connection) -> None:
        self.shared = shared
        self.connection = connection
        self.transaction = connection.begin()
        self._sessions: list[Session] = []

    def session(self, kind: type[Session]) -> Session:
        """A Session of class ``kind`` inside the test's transaction; its commits release a
        SAVEPOINT, and it is closed when the test ends."""
        session = kind(bind=self.connection, join_transaction_mode="create_savepoint")
        self._sessions.append(session)
        return session

    def end(self) -> str | None:
        """Roll everything back; what escaped the rollback, in one sentence, or None."""
        try:
            # The outer rollback first: it ends the sessions' SAVEPOINTs with it, so closing
            # them afterwards costs no round trip of its own.
            if self.transaction.is_active:
                self.transaction.rollback()
            if self.connection.in_transaction():  # one the test began itself after a commit
                self.connection.rollback()
            for session in self._sessions:
                session.close()
        except Exception:
            # The connection is in a state we cannot tell: the next test gets a new one (an
            # open transaction on it is rolled back by the server when it goes).
            self.connection.invalidate()
            raise
        if not self.shared.escaped:
            return None
        self.shared.replace()
        return ESCAPED


class AsyncOuterTransaction:
    """One async test's transaction, on a connection of the test's event loop."""

    def __init__(
        self, shared: SharedDatabase, connection: AsyncConnection, transaction: AsyncTransaction
    ) -> None:
        self.shared = shared
        self.connection = connection
        self.transaction = transaction

    async def end(self) -> str | None:
        if self.transaction.is_active:
            await self.transaction.rollback()
        if self.connection.in_transaction():
            await self.connection.rollback()
        await self.connection.close()
        if not self.shared.escaped:
            return None
        self.shared.replace()
        return ESCAPED


ESCAPED = (
    "The test committed the transaction that every test shares (a commit on "
    "migrated_connection itself), so its changes escaped the rollback; the shared database "
    "was replaced. Commit through migrated_session (rolled back at the end), or give the test "
    'a database of its own: @pytest.mark.fastapi_alembic(isolation="database").'
)

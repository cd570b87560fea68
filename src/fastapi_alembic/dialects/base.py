"""What differs between database backends, gathered per backend in one class each."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")


class DialectSupport:
    """Defaults for a backend with transactional DDL and CREATE/DROP DATABASE."""

    name = "default"
    #: Alembic's batch mode: recreate tables for ALTERs the backend cannot do in place.
    render_as_batch = False
    #: Whether a failed migration is rolled back whole (DDL inside the transaction).
    transactional_ddl = True
    #: Whether enums are named types of their own (made, changed and dropped apart from tables).
    native_enum_types = False
    #: Whether a schema the models name is made by the migration (elsewhere it is a database).
    creates_schemas = False
    #: Whether adding a foreign key makes an index for it when its column has none.
    foreign_keys_make_indexes = False
    #: The SQL function giving a string's length in characters (the data-loss guard's).
    char_length_function = "char_length"
    #: The database to connect to while creating or dropping another one.
    maintenance_database: str | None = None

    #: What this backend answers to SQL or types written for another backend (lower case,
    #: regular expressions): such a failure means the history does not run here at all.
    foreign_sql_errors: tuple[str, ...] = (
        r"syntax",
        r"can't render element of type",
        r"compiler .* can't render",
        r"no support for alter",
    )

    def is_foreign_sql_error(self, message: str) -> bool:
        """Whether a migration failed because it was written for another backend."""
        lowered = message.lower()
        return any(re.search(pattern, lowered) for pattern in self.foreign_sql_errors)

    def prepare_engine(self, engine: Engine) -> None:
        """Adjust a freshly made (sync) engine before first use."""

    # -- the migration lock (runtime/lock.py, runtime/lease.py) ---------------------------

    #: The server's clock in milliseconds since the epoch, as SQL: what leases are measured
    #: with (None: this backend has no lock row, see lock_file).
    clock_ms_sql: str | None = None

    def lock_file(self, url: URL, schema: str | None, version_table: str) -> Path | None:
        """The file whose OS lock serialises migrators, where the lock is a file."""
        return None

    # -- lock timeouts while migrating (runtime/timeouts.py) -------------------------------

    def set_lock_timeout(self, connection: Connection, seconds: float) -> Callable[[], None]:
        """Make statements on ``connection`` give up waiting for a lock after ``seconds``;
        returns what puts the previous setting back."""
        return lambda: None

    def is_lock_timeout(self, error: DBAPIError) -> bool:
        """Whether ``error`` is a statement that gave up waiting for a lock."""
        return False

    def lock_holders(self, connection: Connection) -> list[tuple[str | None, str]]:
        """Other sessions holding locks, as (table or None when unknown, description)."""
        return []

    def watch_migration_session(self, connection: Connection, label: str) -> Callable[[], None]:
        """Prepare the session that runs migrations so that, should this process die in the
        middle of a statement, the server ends that statement instead of running it on, and
        so that others can tell it by ``label``; returns what undoes it."""
        return lambda: None

    @property
    def family(self) -> str:
        """The backend, whatever the driver (mysql and mariadb are one family)."""
        return self.name

    #: One row naming the database a connection is in and the server instance it runs on,
    #: so two URLs that reach one database (localhost and 127.0.0.1) are recognised as one.
    identity_sql: str | None = None

    def url_identity(self, url: URL) -> tuple[str, ...]:
        """Which database ``url`` names, as far as the URL alone can tell."""
        family = self.family if self.name != "default" else url.get_backend_name()
        return (family, (url.host or "").lower(), str(url.port or ""), url.database or "")

    def database_identity(self, connection: Connection) -> tuple[str, ...]:
        """Which database ``connection`` is connected to, asked of the server when it can."""
        if self.identity_sql is not None:
            try:
                (row,) = read_leaving_no_transaction(connection, self.identity_sql)
                return (self.family, *(str(value) for value in row))
            except DBAPIError:
                pass  # no right to read it: the URL has to do
        return self.url_identity(connection.engine.url)

    def scratch_name(self, purpose: str) -> str:
        return f"fm_{purpose}_{uuid.uuid4().hex[:12]}"

    def database_url(self, url: URL, name: str) -> URL:
        """The URL of database ``name`` on the same server as ``url``."""
        return url.set(database=name)

    def maintenance_url(self, url: URL) -> URL:
        # URL.set ignores None: _replace can also clear the database (MySQL needs none).
        return url._replace(database=self.maintenance_database)

    def create_database_sql(self, name: str) -> str:
        return f'CREATE DATABASE "{name}"'

    def drop_database_sql(self, name: str) -> str:
        return f'DROP DATABASE IF EXISTS "{name}"'

    def create_database(self, url: URL, name: str) -> URL:
        """Create an empty database beside ``url``'s and return its URL."""
        from fastapi_alembic.db import run_with_connection

        run_with_connection(
            self.maintenance_url(url),
            lambda conn: conn.execute(text(self.create_database_sql(name))),
            autocommit=True,
        )
        return self.database_url(url, name)

    def template_store(self, server: URL) -> TemplateStore:
        """Where test templates live on ``server``, and how they are copied."""
        from fastapi_alembic.errors import ConfigError

        raise ConfigError(
            f"Test databases cannot be copied on {server.get_backend_name()}: use SQLite, "
            "PostgreSQL or MySQL/MariaDB for the test URL."
        )

    def current_user(self, connection: Connection) -> str | None:
        """The database user ``connection`` is logged in as (the ledger's "who")."""
        return None

    def session_id(self, connection: Connection) -> str | None:
        """The server's id of ``connection``'s session, for :meth:`session_alive`."""
        return None

    def session_alive(self, connection: Connection, session_id: str | None) -> bool:
        """Whether the session ``session_id`` is still connected to the server."""
        return False

    def server_life(self, connection: Connection) -> str | None:
        """What tells this run of the server from the next (its start time): session ids
        start over when a server restarts, so an id alone names no session for sure."""
        return None

    def same_server_life(self, connection: Connection, life: str) -> bool:
        """Whether the server still runs the life ``server_life`` once answered."""
        return self.server_life(connection) == life

    def schema_extras(self, connection: Connection) -> dict[str, str]:
        """Schema objects outside tables that a downgrade must also remove: name -> definition."""
        return {}

    def backup_before_loss(self, url: URL, label: str) -> Path | None:
        """A copy of the database made before an accepted destructive upgrade, if cheap here.

        Servers have their own backups; only a file database is copied (SQLite).
        """
        return None

    def estimated_rows(self, connection: Connection) -> dict[str, int]:
        """Rows per table from the catalog's statistics, -1 where unknown (lint's sizes)."""
        from sqlalchemy import inspect

        return dict.fromkeys(inspect(connection).get_table_names(), -1)

    def absent(self, url: URL) -> str | None:
        """Why the database ``url`` names plainly does not exist, known without connecting
        (connecting could create it); None when only connecting can tell."""
        return None

    def scratch_server(self, url: URL) -> URL:
        """Where scratch databases for ``url``'s app are made (the same server by default)."""
        return url

    def drop_database(self, url: URL) -> None:
        """Drop the database that ``url`` names."""
        from fastapi_alembic.db import run_with_connection

        name = url.database or ""
        run_with_connection(
            self.maintenance_url(url),
            lambda conn: conn.execute(text(self.drop_database_sql(name))),
            autocommit=True,
        )


def describe_session(
    session: object, detail: str | None, since: datetime | None, since_word: str = "since"
) -> str:
    """``session 42 (psql, client 10.0.0.2) since 2026-01-01 12:00:00 UTC``."""
    described = f"session {session}" + (f" ({detail})" if detail else "")
    if since is not None:
        if since.tzinfo is not None:
            since = since.astimezone(UTC)
        described += f" {since_word} {since:%Y-%m-%d %H:%M:%S} UTC"
    return described


class TemplateStore:
    """Where one backend keeps test templates and their copies, and how it copies them.

    Names are plain database names (a file stem on SQLite). A store may hold a connection
    open between calls so that a copy costs one statement; ``close`` releases it.
    """

    #: Whether copying and dropping are slow enough to be worth a background connection.
    drops_in_background = False
    #: How to get the right to create databases, for the error when it is missing.
    privilege_hint = "the test user needs the right to create databases"

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        self.dialect = dialect
        self.server = server

    def url_of(self, name: str) -> URL:
        return self.dialect.database_url(self.server, name)

    def name_of(self, url: URL) -> str:
        """The name of the database ``url`` points at (the reverse of url_of)."""
        return url.database or ""

    def names(self, prefix: str) -> list[str]:
        """Every database on the server whose name starts with ``prefix``."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        """Whether a finished template called ``name`` is there to copy."""
        raise NotImplementedError

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Held while a template is checked, built and published (across processes)."""
        return nullcontext()

    def build_target(self, name: str, building: str) -> URL:
        """An empty database to build template ``name`` in (``building`` is a unique name)."""
        return self.dialect.create_database(self.server, building)

    def publish(self, built: URL, name: str) -> None:
        """Make a completely built database the template ``name``, in one atomic step."""
        raise NotImplementedError

    def copy(self, template: str, name: str) -> URL:
        """A new database ``name`` with the template's schema and rows."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        self.dialect.drop_database(self.url_of(name))

    #: Whether :meth:`recycle` can reset a used copy (a server store: a copy costs more there
    #: than checking a used one and putting its rows back).
    recycles = False

    def learn(self, template: str, name: str) -> None:
        """Read once, from ``name`` (a copy of ``template`` no one has used yet), what
        :meth:`recycle` needs: the schema's fingerprint, the seed rows, the counters."""

    def recycle(self, template: str, name: str) -> bool:
        """Make the used copy ``name`` equal to a fresh copy of ``template`` again, if its
        schema is unchanged: end its sessions, delete every row, put the template's rows and
        counters back. False when it cannot (the schema changed, or nothing was learned):
        the caller drops it instead."""
        return False

    def close(self) -> None:
        """Release what the store holds open."""


class ServerTemplateStore(TemplateStore):
    """A store on a database server: one AUTOCOMMIT connection kept open for every call."""

    drops_in_background = True

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on the maintenance connection (opened on first use)."""
        from fastapi_alembic.db import make_engine, run_with_connection, unreachable

        maintenance = self.dialect.maintenance_url(self.server)
        if self._connection is None:
            engine = make_engine(maintenance, isolation_level="AUTOCOMMIT")
            if not isinstance(engine, Engine):  # an async driver: one connection per call
                return run_with_connection(maintenance, work, autocommit=True)
            try:
                self._connection = engine.connect()
            except DBAPIError as error:
                engine.dispose()
                raise unreachable(maintenance, error) from None
            self._engine = engine
        return work(self._connection)

    def scalars(self, sql: str, **params: Any) -> list[Any]:
        return self.run(lambda c: list(c.execute(text(sql), params).scalars()))

    def execute(self, *statements: str) -> None:
        def work(connection: Connection) -> None:
            for statement in statements:
                connection.exec_driver_sql(statement)

        self.run(work)

    def drop(self, name: str) -> None:
        self.execute(self.dialect.drop_database_sql(name))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def read_leaving_no_transaction(connection: Connection, sql: str) -> Any:
    """The rows of ``sql``, read without leaving a transaction behind that the caller did not open
    (an env.py that begins its own after ours would otherwise never commit)."""
    if connection.in_transaction():
        with connection.begin_nested():
            return connection.exec_driver_sql(sql).all()
    try:
        return connection.exec_driver_sql(sql).all()
    finally:
        connection.rollback()

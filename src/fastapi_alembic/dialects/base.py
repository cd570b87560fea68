"""What differs between database backends, gathered per backend in one class each.

The test suite's template stores (testing/stores/) and lint's facts (lint/facts/) are those
features' own, registered there under the backend's name."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.engines import run_with_connection


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
    #: How to get the right to create databases, for the error when it is missing.
    privilege_hint = "the test user needs the right to create databases"

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
        run_with_connection(
            self.maintenance_url(url),
            lambda conn: conn.execute(text(self.create_database_sql(name))),
            autocommit=True,
        )
        return self.database_url(url, name)

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

    def absent(self, url: URL) -> str | None:
        """Why the database ``url`` names plainly does not exist, known without connecting
        (connecting could create it); None when only connecting can tell."""
        return None

    def scratch_server(self, url: URL) -> URL:
        """Where scratch databases for ``url``'s app are made (the same server by default)."""
        return url

    def drop_database(self, url: URL) -> None:
        """Drop the database that ``url`` names."""
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

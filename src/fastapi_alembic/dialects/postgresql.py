"""PostgreSQL: transactional DDL; databases made and dropped from the `postgres` database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport, describe_session


class PostgreSQLSupport(DialectSupport):
    # The cluster's system identifier and the database's oid: one database, whichever host
    # name, port or pooler alias the URL names.
    identity_sql = (
        "SELECT current_database(), (SELECT system_identifier FROM pg_control_system())::text, "
        "(SELECT oid FROM pg_database WHERE datname = current_database())::text"
    )
    name = "postgresql"
    native_enum_types = True
    creates_schemas = True
    foreign_sql_errors = (
        *DialectSupport.foreign_sql_errors,
        r"function .* does not exist",
        r"type \".*\" does not exist",
    )
    maintenance_database = "postgres"
    privilege_hint = "the test user needs CREATEDB (ALTER ROLE <user> CREATEDB)"

    def current_user(self, connection: Connection) -> str | None:
        return str(connection.execute(text("SELECT current_user")).scalar())

    def session_id(self, connection: Connection) -> str | None:
        return str(connection.execute(text("SELECT pg_backend_pid()")).scalar())

    def session_alive(self, connection: Connection, session_id: str | None) -> bool:
        if not session_id or not session_id.isdigit():
            return False
        found = connection.execute(
            text("SELECT 1 FROM pg_stat_activity WHERE pid = :id"), {"id": int(session_id)}
        )
        return found.first() is not None

    def server_life(self, connection: Connection) -> str | None:
        found = connection.execute(
            text("SELECT extract(epoch FROM pg_postmaster_start_time())::text")
        ).scalar()
        return None if found is None else str(found)

    def drop_database_sql(self, name: str) -> str:
        # FORCE ends sessions a crashed run left behind (PostgreSQL 13+).
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    def schema_extras(self, connection: Connection) -> dict[str, str]:
        # Enum types outlive the tables that use them: a downgrade must drop them itself.
        rows = connection.exec_driver_sql(
            "SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) "
            "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() GROUP BY t.typname"
        ).all()
        return {f"enum type {name}": f"({labels})" for name, labels in rows}

    # The migration lock's lease is measured by the server's clock (runtime/lease.py).
    clock_ms_sql = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    def prepare_engine(self, engine: Engine) -> None:
        if engine.dialect.driver == "asyncpg":
            _unique_asyncpg_statements(engine)
            return
        if engine.dialect.driver not in ("psycopg", "psycopg_async"):
            return

        # psycopg prepares a statement it has run five times on a connection; through a
        # pooler in transaction mode the next transaction runs on another server session,
        # where that prepared statement is missing (or another client's has its name).
        @event.listens_for(engine, "do_connect")
        def _no_prepared_statements(_dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> None:
            cparams.setdefault("prepare_threshold", None)

    def set_lock_timeout(self, connection: Connection, seconds: float) -> Callable[[], None]:
        # Set in each transaction (SET LOCAL), never for the session: through a pooler in
        # transaction mode the session is whichever server session runs the transaction, and
        # a session setting would stay behind there for other clients.
        value = f"{max(1, round(seconds * 1000))}ms"

        def each_transaction(begun: Connection) -> None:
            begun.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": value})

        if connection.in_transaction():
            each_transaction(connection)
        event.listen(connection, "begin", each_transaction)
        return lambda: event.remove(connection, "begin", each_transaction)

    def is_lock_timeout(self, error: DBAPIError) -> bool:
        original = error.orig
        code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        return code == "55P03"  # lock_not_available

    def lock_holders(self, connection: Connection) -> list[tuple[str | None, str]]:
        rows = connection.execute(text(_RELATION_HOLDERS)).all()
        return [
            (
                table,
                describe_session(
                    pid,
                    _who(application, client, state, query),
                    since,
                    "in a transaction since",
                ),
            )
            for table, pid, application, client, state, query, since in rows
        ]

    def watch_migration_session(self, connection: Connection, label: str) -> Callable[[], None]:
        # PostgreSQL 14+ checks, while a statement runs, that its client is still connected
        # (client_connection_check_interval): a migrator killed in the middle of a long
        # statement leaves no orphan holding its table locks for the statement's whole run.
        version = int(connection.execute(text("SHOW server_version_num")).scalar() or 0)
        settings = {}
        if version >= 140000:
            settings["client_connection_check_interval"] = "1s"
        current = connection.execute(text("SELECT current_setting('application_name')")).scalar()
        if not current:  # the app's own name is kept; a nameless session gets ours
            settings["application_name"] = label
        previous = {
            name: str(
                connection.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar()
            )
            for name in settings
        }
        for name, value in settings.items():
            _set_setting(connection, name, value)

        def restore() -> None:
            for name, value in previous.items():
                _set_setting(connection, name, value)

        return restore


# Tables other sessions hold locks on: a migration that timed out waited for one of them.
_RELATION_HOLDERS = """
SELECT DISTINCT c.relname, a.pid, a.application_name, host(a.client_addr), a.state,
       left(regexp_replace(a.query, '\\s+', ' ', 'g'), 200), a.xact_start
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'p')
ORDER BY a.xact_start
"""


def _who(
    application: str | None,
    client: str | None,
    state: str | None = None,
    query: str | None = None,
) -> str | None:
    parts = [application or "", f"client {client}" if client else "client local socket"]
    if state:  # what it is doing: "active: UPDATE ...", "idle in transaction: ..."
        parts.append(f"{state}: {query.strip()}" if query and query.strip() else state)
    return ", ".join(part for part in parts if part)


def _set_setting(connection: Connection, name: str, value: str) -> None:
    connection.execute(
        text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value}
    )


def _unique_asyncpg_statements(engine: Engine) -> None:
    """asyncpg runs every statement as a prepared one, named by a counter of its connection
    and kept in caches: through a pooler in transaction mode the server session is shared by
    many clients, where another's "__asyncpg_stmt_1__" already exists. Each statement gets a
    name of its own and nothing is cached (SQLAlchemy's asyncpg notes on PgBouncer)."""

    @event.listens_for(engine, "do_connect")
    def _own_names(_dialect: Any, _record: Any, _cargs: Any, cparams: Any) -> None:
        cparams.setdefault("prepared_statement_name_func", _statement_name)
        cparams.setdefault("prepared_statement_cache_size", 0)
        cparams.setdefault("statement_cache_size", 0)


def _statement_name() -> str:
    return f"__fastapi_alembic_{uuid.uuid4().hex}__"

"""MySQL and MariaDB: DDL commits implicitly, so a failed migration can leave part done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport, describe_session
from fastapi_alembic.dialects.mysql_driver import pymysql_connection_class


class MySQLSupport(DialectSupport):
    identity_sql = "SELECT DATABASE(), @@hostname, @@port, @@datadir"
    name = "mysql"
    foreign_sql_errors = (
        *DialectSupport.foreign_sql_errors,
        r"function .* does not exist",
    )
    transactional_ddl = False
    maintenance_database = None  # connect with no default database
    privilege_hint = "the test user needs the CREATE and DROP privileges on databases"
    foreign_keys_make_indexes = True

    def prepare_engine(self, engine: Engine) -> None:
        if engine.dialect.driver != "pymysql":
            return

        # PyMySQL's preferred TLS mode loads the system CA store on every connect, into a
        # context that verifies nothing: one shared context without it (mysql_driver.py).
        @event.listens_for(engine, "do_connect")
        def _shared_tls_context(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            return pymysql_connection_class()(*cargs, **cparams)

    def current_user(self, connection: Connection) -> str | None:
        return str(connection.execute(text("SELECT CURRENT_USER()")).scalar())

    def session_id(self, connection: Connection) -> str | None:
        return str(connection.execute(text("SELECT CONNECTION_ID()")).scalar())

    def session_alive(self, connection: Connection, session_id: str | None) -> bool:
        if not session_id or not session_id.isdigit():
            return False
        found = connection.execute(
            text("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = :id"),
            {"id": int(session_id)},
        )
        return found.first() is not None

    def server_life(self, connection: Connection) -> str | None:
        # MariaDB has no server UUID that a restart changes. Its start time (from the uptime)
        # is known to a second or two, so it comes with UUID()'s clock sequence, which the
        # server draws at random once per life: "<start>:<clock sequence>".
        uptime = connection.execute(text("SHOW GLOBAL STATUS LIKE 'Uptime'")).first()
        row = connection.execute(text("SELECT UNIX_TIMESTAMP(), SUBSTRING(UUID(), 20, 4)")).first()
        if uptime is None or row is None or row[0] is None:
            return None
        return f"{int(row[0]) - int(uptime[1])}:{row[1]}"

    def same_server_life(self, connection: Connection, life: str) -> bool:
        # Whole seconds read at two moments: the same start within a second or two, and the
        # same clock sequence (a restart within those seconds draws another).
        now = self.server_life(connection)
        start, _, sequence = life.partition(":")
        if now is None or not start.lstrip("-").isdigit():
            return False
        now_start, _, now_sequence = now.partition(":")
        return abs(int(now_start) - int(start)) <= 2 and sequence in ("", now_sequence)

    def create_database_sql(self, name: str) -> str:
        return f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"

    def drop_database_sql(self, name: str) -> str:
        return f"DROP DATABASE IF EXISTS `{name}`"

    # The migration lock's lease is measured by the server's clock (runtime/lease.py).
    clock_ms_sql = "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000 AS SIGNED)"

    def set_lock_timeout(self, connection: Connection, seconds: float) -> Callable[[], None]:
        # lock_wait_timeout: metadata locks (DDL); innodb_lock_wait_timeout: row locks (data).
        previous = connection.execute(
            text("SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout")
        ).one()
        whole = max(1, round(seconds))
        _set_timeouts(connection, whole, whole)
        return lambda: _set_timeouts(connection, int(previous[0]), int(previous[1]))

    def is_lock_timeout(self, error: DBAPIError) -> bool:
        arguments: tuple[object, ...] = getattr(error.orig, "args", ())
        # ER_LOCK_WAIT_TIMEOUT (MariaDB's NOWAIT too), MySQL's ER_LOCK_NOWAIT
        return bool(arguments) and arguments[0] in (1205, 3572)

    def lock_holders(self, connection: Connection) -> list[tuple[str | None, str]]:
        # Which table a session holds is not told without performance_schema: the caller
        # names the table from the statement that waited.
        rows = connection.execute(
            text(
                "SELECT t.trx_mysql_thread_id, p.USER, p.HOST, t.trx_started "
                "FROM information_schema.INNODB_TRX t "
                "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
                "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started"
            )
        ).all()
        return [
            (None, describe_session(session, f"{user}@{host}", started, "in a transaction since"))
            for session, user, host, started in rows
        ]


def _set_timeouts(connection: Connection, metadata_seconds: int, row_seconds: int) -> None:
    connection.execute(
        text("SET SESSION lock_wait_timeout = :m, SESSION innodb_lock_wait_timeout = :r"),
        {"m": metadata_seconds, "r": row_seconds},
    )

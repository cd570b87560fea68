"""SQLite: batch mode for ALTERs, transactional DDL switched on, databases are files."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

from fastapi_migrate.dialects.base import DialectSupport


class SQLiteSupport(DialectSupport):
    name = "sqlite"
    render_as_batch = True

    def prepare_engine(self, engine: Engine) -> None:
        # The sqlite3 module opens transactions lazily and only before DML, so DDL would
        # autocommit. Take over: no implicit transactions, an explicit BEGIN on begin().
        # A failed migration then rolls back whole, as on PostgreSQL.
        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _explicit_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

    def database_url(self, url: URL, name: str) -> URL:
        folder = Path(url.database).parent if is_file_database(url) else Path(tempfile.gettempdir())
        return url.set(database=str(folder / f"{name}.db"))

    def create_database(self, url: URL, name: str) -> URL:
        created = self.database_url(url, name)
        Path(created.database or "").touch()
        return created

    def drop_database(self, url: URL) -> None:
        if is_file_database(url):
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{url.database}{suffix}").unlink(missing_ok=True)


def is_file_database(url: URL) -> bool:
    database = url.database or ""
    return bool(database) and database != ":memory:" and not database.startswith("file:")

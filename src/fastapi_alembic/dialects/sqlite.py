"""SQLite: batch mode for ALTERs, transactional DDL switched on, databases are files."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport, read_leaving_no_transaction


def copy_database(source_path: Path, target: Path) -> None:
    """A consistent copy of a database file, with SQLite's online backup API (it reads the
    last committed state, whatever another connection is writing)."""
    with (
        closing(sqlite3.connect(source_path)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


#: sqlite3's own busy timeout: how long a statement waits for another connection's write lock.
DEFAULT_BUSY_SECONDS = 5.0


class _WritersWait:
    """What a verb that migrates may still wait for other writers, until it holds the
    migration lock. SQLite waits for a writer's lock statement by statement (each up to the
    busy timeout), so without one allowance the waits add up past lock_wait. The time spent
    in statements counts against it (before the lock they are reads, quick unless they wait);
    the verb's own work does not."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.spent = 0.0

    @property
    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)


_writers_wait: _WritersWait | None = None


@contextmanager
def waiting_for_writers(seconds: float) -> Iterator[None]:
    """Every busy wait of every SQLite statement in this block, and the migration lock's own
    wait (see :func:`writers_wait_left`), take ``seconds`` at most all together."""
    global _writers_wait
    previous = _writers_wait
    _writers_wait = _WritersWait(seconds)
    try:
        yield
    finally:
        _writers_wait = previous


def stop_waiting_for_writers() -> None:
    """The migration lock is ours: statements wait for table locks by lock_timeout again."""
    global _writers_wait
    _writers_wait = None


def writers_wait_left() -> float | None:
    """Seconds left of the wait for other writers; None outside :func:`waiting_for_writers`."""
    return None if _writers_wait is None else _writers_wait.left


def _spent_since(info: dict[Any, Any]) -> None:
    began = info.pop("fastapi_alembic.began", None)
    if began is not None and _writers_wait is not None:
        _writers_wait.spent += time.monotonic() - began


class SQLiteSupport(DialectSupport):
    name = "sqlite"
    char_length_function = "length"

    def backup_before_loss(self, url: URL, label: str) -> Path | None:
        """``app.db`` copied to ``app.before-<label>.db`` with SQLite's online backup API."""
        if not is_file_database(url):
            return None
        source_path = Path(url.database or "")
        target = source_path.with_name(f"{source_path.stem}.before-{label}{source_path.suffix}")
        number = 1
        while target.exists():
            number += 1
            target = source_path.with_name(
                f"{source_path.stem}.before-{label}-{number}{source_path.suffix}"
            )
        # Written under a temporary name and renamed once complete: a full disk or a crash
        # never leaves a partial file that looks like a backup.
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            copy_database(source_path, partial)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target

    foreign_sql_errors = (
        *DialectSupport.foreign_sql_errors,
        r"no such function",
        r"no such module",
        r"unknown database",
    )
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

        @event.listens_for(engine, "before_cursor_execute")
        def _busy_within_the_wait(connection: Any, *_args: Any) -> None:
            # Each statement waits for another writer only as long as the verb's wait has
            # left; once that wait is over, the connection's usual timeout comes back.
            raw = connection.connection.dbapi_connection
            if not isinstance(raw, sqlite3.Connection):
                return  # an async driver's connection: its own busy timeout applies
            left = writers_wait_left()
            if left is not None:
                raw.execute(f"PRAGMA busy_timeout = {int(left * 1000)}")
                connection.info["fastapi_alembic.busy_set"] = True
                connection.info["fastapi_alembic.began"] = time.monotonic()
            elif connection.info.pop("fastapi_alembic.busy_set", False):
                raw.execute(f"PRAGMA busy_timeout = {int(DEFAULT_BUSY_SECONDS * 1000)}")

        @event.listens_for(engine, "after_cursor_execute")
        def _after(connection: Any, *_args: Any) -> None:
            _spent_since(connection.info)

        @event.listens_for(engine, "handle_error")
        def _failed(context: Any) -> None:
            if context.connection is not None:
                _spent_since(context.connection.info)

    def lock_file(self, url: URL, schema: str | None, version_table: str) -> Path | None:
        # A lock file beside the database: an OS lock ends with its process, and the
        # database file itself stays free for the migration's own transactions. It is named
        # by the file's device and inode, so a symbolic or hard link, another mount of the
        # folder or a relative path reaches the same lock as long as the folder is shared.
        if not is_file_database(url):
            return None  # in memory: one process by definition
        table = f"{schema}.{version_table}" if schema else version_table
        database = Path(url.database or "").resolve()
        try:
            if not database.exists():
                database.touch()  # SQLite makes an empty database of an empty file
            key = _file_key(database)
        except OSError:  # cannot be made (a read-only folder): opening the lock file says so
            key = f"fastapi-alembic-{database.name}"
        return database.parent / f".{key}.{table}.lock"

    def is_lock_timeout(self, error: DBAPIError) -> bool:
        return "database is locked" in str(error.orig)

    def set_lock_timeout(self, connection: Connection, seconds: float) -> Callable[[], None]:
        # SQLite's lock timeout is its busy timeout: how long a statement waits for a writer.
        previous = connection.execute(text("PRAGMA busy_timeout")).scalar()
        connection.execute(text(f"PRAGMA busy_timeout = {max(1, round(seconds * 1000))}"))

        def restore() -> None:
            connection.execute(text(f"PRAGMA busy_timeout = {int(previous or 0)}"))

        return restore

    def url_identity(self, url: URL) -> tuple[str, ...]:
        database = url.database or ""
        if is_file_database(url):
            return ("sqlite", "file", os.path.realpath(database))
        if database.startswith("file:"):
            path = database.removeprefix("file:").partition("?")[0]
            if url.query.get("mode") == "memory" or "mode=memory" in database:
                return ("sqlite", "shared memory", path)
            return ("sqlite", "file", os.path.realpath(path))
        # A private in-memory database: every connection opens a new, empty one.
        return ("sqlite", "private memory", "")

    def database_identity(self, connection: Connection) -> tuple[str, ...]:
        for _seq, name, path in read_leaving_no_transaction(connection, "PRAGMA database_list"):
            if name == "main" and path:
                return ("sqlite", "file", os.path.realpath(path))
        identity = self.url_identity(connection.engine.url)
        if identity[1] == "private memory":  # only this very connection reaches it
            return (*identity[:2], str(id(connection.connection.dbapi_connection)))
        return identity

    def database_url(self, url: URL, name: str) -> URL:
        folder = (
            Path(url.database or "").parent
            if is_file_database(url)
            else Path(tempfile.gettempdir())
        )
        return url.set(database=str(folder / f"{name}.db"))

    def create_database(self, url: URL, name: str) -> URL:
        created = self.database_url(url, name)
        path = Path(created.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return created

    def drop_database(self, url: URL) -> None:
        if is_file_database(url):
            remove_lock_files(Path(url.database or ""))
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{url.database}{suffix}").unlink(missing_ok=True)

    def scratch_server(self, url: URL) -> URL:
        # Scratch files go to the temporary folder, never beside the app's own database, and
        # as plain files: the app URL's URI options (mode=ro...) are not theirs.
        return url.set(database=str(Path(tempfile.gettempdir()) / "scratch.db"), query={})

    def absent(self, url: URL) -> str | None:
        # SQLite creates a missing file (and a URI without mode=ro too) on first connection.
        database = url.database or ""
        if database.startswith("file:"):
            if url.query.get("mode") == "memory":
                return None
            database = database.removeprefix("file:").partition("?")[0]
        if not database or database == ":memory:" or Path(database).exists():
            return None
        return (
            f"The SQLite database file {database} does not exist: check the path in the URL, "
            "or run `fastapi-alembic upgrade` to create it."
        )


def _file_key(database: Path) -> str:
    found = database.stat()
    return f"fastapi-alembic-{found.st_dev:x}-{found.st_ino:x}"


def remove_lock_files(database: Path) -> None:
    """The migration lock files of a database file about to be removed (or renamed)."""
    try:
        key = _file_key(database.resolve())
    except OSError:
        return  # already gone: its lock files cannot be told from others'
    for lock in database.resolve().parent.glob(f".{key}.*.lock"):
        lock.unlink(missing_ok=True)


def is_file_database(url: URL) -> bool:
    database = url.database or ""
    return bool(database) and database != ":memory:" and not database.startswith("file:")

"""The cross-process migration lock: one migrator per database and version table at a time.

env.py's ``run_migrations`` takes it around every run that changes the database, so the CLI,
the lifespan of every worker and replica, and plain ``alembic upgrade`` queue behind each
other. On a server the lock belongs to a session of its own (a dedicated connection, kept by a
thread so that sync and async drivers work alike), so commits on the migration connection
(``autocommit_block``) never release it. On SQLite it is an OS lock on a file beside the
database. Both end with the process: a migrator killed with SIGKILL never leaves it held.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from fastapi_alembic.errors import DatabaseStateError, MigrationLockTimeout
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.dialects.base import DialectSupport

logger = logging.getLogger("fastapi_alembic")

#: How often a waiter asks again, and how often it says it is still waiting.
POLL_SECONDS = 0.1
REPORT_EVERY_SECONDS = 5.0
Notify = Callable[[str], None]


@dataclass(frozen=True)
class LockTarget:
    """What the lock protects: one version table (and schema) in one database."""

    url: URL
    version_table: str = "alembic_version"
    schema: str | None = None

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.version_table}" if self.schema else self.version_table

    @property
    def name(self) -> str:
        """The key migrators of this database and version table share, and no one else."""
        return f"fastapi-alembic/{self.url.database or ''}/{self.table}"

    def describe(self) -> str:
        return f"{mask_url(self.url)} ({self.table})"


def holder_label() -> str:
    """Who we are, as other waiters will read it: program, process id and host."""
    return f"fastapi-alembic pid {os.getpid()} on {socket.gethostname()}"[:63]


@contextmanager
def migration_lock(
    target: LockTarget, wait_seconds: float, notify: Notify | None = None
) -> Iterator[None]:
    """Hold the migration lock for ``target``, waiting up to ``wait_seconds`` for it.

    Each take is a session (or open file) of its own, so two threads of one process queue
    like two processes do.
    """
    from fastapi_alembic.dialects import for_url

    lock = _lock_for(for_url(target.url), target)
    if lock is None:
        yield
        return
    lock.acquire(_Waiting(target, wait_seconds, notify or logger.warning))
    try:
        yield
    finally:
        lock.release()


def _lock_for(dialect: DialectSupport, target: LockTarget) -> _Lock | None:
    path = dialect.lock_file(target.url, target.schema, target.version_table)
    if path is not None:
        return FileLock(path)
    if dialect.has_session_lock:
        return SessionLock(target.url, dialect, dialect.lock_key(target.name))
    return None  # an unknown backend: nothing to lock with (and nothing we test)


class _Waiting:
    """The waiter's side: when to speak, when to give up, and the sentences it uses."""

    def __init__(self, target: LockTarget, wait_seconds: float, notify: Notify) -> None:
        self.target = target
        self.wait_seconds = wait_seconds
        self.notify = notify
        self.started = time.monotonic()
        self._next_report = self.started

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def still_waiting(self, owner: Callable[[], str | None]) -> None:
        """Called between attempts: report now and then, raise when the wait is over."""
        now = time.monotonic()
        if now - self.started >= self.wait_seconds:
            held_by = owner()
            who = f"{held_by} holds it" if held_by else "another migrator holds it"
            raise MigrationLockTimeout(
                f"Gave up waiting for the migration lock on {self.target.describe()} after "
                f"{self.wait_seconds:g} s: {who}; let that migration finish (or end that "
                "session), then run the command again, or allow a longer wait with lock_wait."
            )
        if now >= self._next_report:
            held_by = owner() or "another migrator"
            if self._next_report == self.started:
                self.notify(
                    f"Waiting for the migration lock on {self.target.describe()}: "
                    f"held by {held_by}."
                )
            else:
                self.notify(
                    f"Still waiting for the migration lock on {self.target.describe()} after "
                    f"{now - self.started:.0f} s: held by {held_by}."
                )
            self._next_report = now + REPORT_EVERY_SECONDS


class _Lock:
    def acquire(self, waiting: _Waiting) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class SessionLock(_Lock):
    """A server-side lock owned by a session that a thread of ours keeps open.

    The thread opens the connection, waits for the lock, reports acquisition, then sleeps
    until release; the session (and with it the lock) ends when the thread or the process does.
    """

    def __init__(self, url: URL, dialect: DialectSupport, key: str) -> None:
        self.url = url
        self.dialect = dialect
        self.key = key
        self._outcome: queue.Queue[BaseException | None] = queue.Queue()
        self._release = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, waiting: _Waiting) -> None:
        self._thread = threading.Thread(
            target=self._hold, args=(waiting,), name="fastapi-alembic lock", daemon=True
        )
        self._thread.start()
        failure = self._outcome.get()
        if failure is not None:
            self._thread.join()
            raise failure

    def _hold(self, waiting: _Waiting) -> None:
        from fastapi_alembic.db import run_with_connection

        try:
            run_with_connection(self.url, lambda c: self._session(c, waiting), autocommit=True)
        except BaseException as error:  # handed to the waiting caller
            self._outcome.put(error)

    def _session(self, connection: Connection, waiting: _Waiting) -> None:
        self.dialect.label_session(connection, holder_label())
        while not self.dialect.try_lock(connection, self.key):
            waiting.still_waiting(lambda: self.dialect.lock_owner(connection, self.key))
            time.sleep(POLL_SECONDS)
        self._outcome.put(None)
        self._release.wait()
        self.dialect.unlock(connection, self.key)

    def release(self) -> None:
        self._release.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


class FileLock(_Lock):
    """An exclusive OS lock on a file (flock, or a byte lock on Windows); the holder writes
    who it is into the file for the waiters to read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self, waiting: _Waiting) -> None:
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        except OSError as error:  # a read-only file system or folder: nothing can be written
            raise DatabaseStateError(
                f"Cannot take the migration lock: its file {self.path} cannot be opened for "
                f"writing ({error.strerror or error}), so nothing was changed; a SQLite "
                "database on a read-only file system or folder cannot be migrated or stamped: "
                "make the folder writable, or work on a copy."
            ) from None
        try:
            while not _try_lock_file(handle):
                waiting.still_waiting(self._owner)
                time.sleep(POLL_SECONDS)
        except BaseException:
            handle.close()
            raise
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder_label()} since {since}")
        handle.flush()
        self._file = handle

    def _owner(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            self._file.flush()
            _unlock_file(self._file)
            self._file.close()
            self._file = None


if sys.platform == "win32":
    import msvcrt

    def _try_lock_file(handle: IO[str]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock_file(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock_file(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock_file(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

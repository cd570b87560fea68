"""The cross-process migration lock: one migrator per database and version table at a time.

env.py's ``run_migrations`` takes it around every run that changes the database, so the CLI,
the lifespan of every worker and replica, and plain ``alembic upgrade`` queue behind each
other. On a server it is a row of ours with a renewed lease, fenced in the transactions that
move the version (lease.py: why a row, and the argument). On SQLite it is an OS lock on a file
named by the database file's device and inode, which ends with its process: no pooler stands
between SQLite and its migrator, and the kernel never loses a lock its holder still has.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sqlalchemy.engine import URL

from fastapi_alembic.errors import DatabaseStateError, MigrationLockTimeout
from fastapi_alembic.runtime.lease import DEFAULT_LEASE_SECONDS, LeaseLock
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

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

    def describe(self) -> str:
        return f"{mask_url(self.url)} ({self.table})"


def holder_label() -> str:
    """Who we are, as other waiters will read it: program, process id and host."""
    return f"fastapi-alembic pid {os.getpid()} on {socket.gethostname()}"[:63]


class Held(Protocol):
    """What the holder of the lock can do with it while migrating."""

    def fencing(self, migration_context: MigrationContext) -> AbstractContextManager[None]:
        """Check, while the migrations run, that the lock is still this process's."""
        ...


class _Unlocked:
    def fencing(self, migration_context: MigrationContext) -> AbstractContextManager[None]:
        return nullcontext()


@contextmanager
def migration_lock(
    target: LockTarget,
    wait_seconds: float,
    notify: Notify | None = None,
    lease_seconds: float | None = None,
    keepalive: Callable[[], None] | None = None,
) -> Iterator[Held]:
    """Hold the migration lock for ``target``, waiting up to ``wait_seconds`` for it.

    Each take is a run token (or open file) of its own, so two threads of one process queue
    like two processes do. On a server the lock is kept by a lease of ``lease_seconds``,
    and ``keepalive`` is called now and then while waiting for it.
    """
    from fastapi_alembic.dialects import for_url

    lock = _lock_for(for_url(target.url), target, lease_seconds or DEFAULT_LEASE_SECONDS)
    if lock is None:
        yield _Unlocked()
        return
    waiting = _Waiting(target, wait_seconds, notify or logger.warning)
    if isinstance(lock, LeaseLock):
        lock.acquire(waiting, keepalive)
    else:
        lock.acquire(waiting)
    try:
        yield lock
    finally:
        lock.release()


def _lock_for(dialect: DialectSupport, target: LockTarget, lease: float) -> _Lock | None:
    if dialect.name == "sqlite":
        path = dialect.lock_file(target.url, target.schema, target.version_table)
        return FileLock(path) if path is not None else None  # in memory: one process
    if dialect.clock_ms_sql is not None:
        return LeaseLock(target, dialect, lease, holder_label())
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

    @property
    def remaining(self) -> float:
        return self.wait_seconds - self.elapsed

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


class _Lock(Protocol):
    def acquire(self, waiting: _Waiting) -> None: ...

    def release(self) -> None: ...

    def fencing(self, migration_context: MigrationContext) -> AbstractContextManager[None]: ...


class FileLock:
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
                time.sleep(max(0.0, min(POLL_SECONDS, waiting.remaining)))
        except BaseException:
            handle.close()
            raise
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder_label()} since {since}")
        handle.flush()
        self._file = handle

    def fencing(self, migration_context: MigrationContext) -> AbstractContextManager[None]:
        return nullcontext()  # the kernel keeps the lock while this process lives

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

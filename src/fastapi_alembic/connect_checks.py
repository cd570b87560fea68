"""Every connection opened while a project's env.py runs is checked before it is opened.

An env.py written before FastAPI-Alembic may build an engine of its own, from its settings or
its ini, and an app's engine may run statements as each connection opens (``PRAGMA
journal_mode=WAL``). Checking the connection once env.py hands it to ``configure`` is too
late for those: the file is created, the PRAGMA has run. So while env.py runs, SQLAlchemy's
``do_connect`` event (raised for every engine, those made before included, just before the
driver is asked to connect) compares where the driver is about to connect with the database
the job was given, and the job's checker refuses another one there.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol
from weakref import WeakSet

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, Engine

from fastapi_alembic.dialects.registry import backend_name


class ConnectChecker(Protocol):
    def before_connect(self, dialect: Dialect, cargs: list[Any], cparams: dict[str, Any]) -> None:
        """Raise to stop the driver from connecting."""


_current: ContextVar[ConnectChecker | None] = ContextVar("fastapi_alembic_connects", default=None)
#: For threads an env.py starts without our context (a plain threading.Thread): each checker
#: with the threads that were already running when it began, which it leaves alone (an app
#: serving while its lifespan migrates may well connect elsewhere meanwhile).
_active: list[tuple[ConnectChecker, WeakSet[threading.Thread]]] = []
_lock = threading.Lock()


def _before_connect(
    dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]
) -> None:
    checker = _current.get()
    if checker is None:
        with _lock:
            newest = _active[-1] if _active else None
        # Threads by object, not by ident: an ident is reused once its thread has ended.
        if newest is not None and threading.current_thread() not in newest[1]:
            checker = newest[0]
    if checker is not None:
        checker.before_connect(dialect, cargs, cparams)


@contextmanager
def checking(checker: ConnectChecker) -> Iterator[None]:
    """Inside: each connection about to be opened is first shown to ``checker``."""
    token = _current.set(checker)
    entry = (checker, WeakSet(threading.enumerate()))
    with _lock:
        if not _active:
            event.listen(Engine, "do_connect", _before_connect)
        _active.append(entry)
    try:
        yield
    finally:
        _current.reset(token)
        with _lock:
            _active.remove(entry)
            if not _active:
                event.remove(Engine, "do_connect", _before_connect)


def connect_target(dialect: Dialect, cargs: list[Any], cparams: dict[str, Any]) -> tuple[str, ...]:
    """Which database a driver given these arguments connects to: a file (SQLite), or a
    server and a database name, as far as the arguments tell without connecting."""
    if dialect.name == "sqlite":
        name = str(cargs[0]) if cargs else str(cparams.get("database", ""))
        if name.startswith("file:"):
            path, _, query = name.removeprefix("file:").partition("?")
            if "mode=memory" in query:
                return ("sqlite", "shared memory", path)
            name = path
        if name in ("", ":memory:"):
            return ("sqlite", "private memory", "")
        return ("sqlite", "file", os.path.realpath(name))
    host = str(cparams.get("host") or cparams.get("unix_socket") or "localhost")
    port = str(cparams.get("port") or dialect_default_port(dialect))
    database = cparams.get("dbname") or cparams.get("database") or cparams.get("db") or ""
    family = backend_name(dialect.name) or dialect.name  # mariadb: mysql
    return (family, host, port, str(database), *(str(argument) for argument in cargs))


def dialect_default_port(dialect: Dialect) -> int | str:
    return {"postgresql": 5432, "mysql": 3306}.get(backend_name(dialect.name) or "", "")


def target_of_url(dialect: Dialect, url: URL) -> tuple[str, ...]:
    """Where a driver of ``dialect`` would connect for ``url``."""
    cargs, cparams = dialect.create_connect_args(url)
    return connect_target(dialect, list(cargs), dict(cparams))


def same_target(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether two connect targets are one database: host names compared by the addresses
    they resolve to (localhost and 127.0.0.1 are one server)."""
    if one[0] != other[0] or len(one) != len(other):
        return False
    if one[0] == "sqlite":
        return one == other
    return one[2:] == other[2:] and (one[1] == other[1] or _same_host(one[1], other[1]))


def _same_host(one: str, other: str) -> bool:
    return bool(_addresses(one) & _addresses(other))


_LOCAL = frozenset({"127.0.0.1", "::1"})


def _addresses(host: str) -> frozenset[str]:
    if host.startswith("/"):  # a socket path: a server on this machine
        return _LOCAL
    try:
        found = frozenset(str(info[4][0]) for info in socket.getaddrinfo(host, None))
    except (OSError, UnicodeError):
        return frozenset({host.lower()})
    # Every loopback address is this machine.
    return _LOCAL if any(a.startswith("127.") or a == "::1" for a in found) else found

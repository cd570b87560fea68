"""The start-up gate: "is the database at head?" in milliseconds.

The heads come from a static read of the revision files (scan.py), the current revision
from one plain SELECT on the version table, and the ledger is asked whether a migration was left
half done. When the static read cannot be sure, :func:`fast_head_check` answers None and the
facade asks Alembic the slow way, which gives the same answer.

Imports neither Alembic nor the facade: a no-op start-up never loads them. The ledger it asks
is runtime's (runtime/ledger.py), which imports no Alembic either.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Container
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, column, inspect, select, table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.config import Settings
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import connect, is_async_url, make_engine, run_with_connection
from fastapi_alembic.gate.probe import read_versions, versions_from_rows, versions_statement
from fastapi_alembic.gate.scan import (
    alembic_ini_options,
    env_version_table,
    env_version_table_or_reason,
    options_reason,
    scan,
    scan_or_reason,
    supports_options,
)
from fastapi_alembic.runtime.ledger import refuse_interrupted
from fastapi_alembic.urls import mask_url

T = TypeVar("T")


class Position(Enum):
    """Where the database stands against the migration files."""

    AT_HEAD = "at head"
    BEHIND = "behind"
    UNKNOWN = "unknown"  # at a revision the files do not have: newer or other code


@dataclass(frozen=True)
class HeadCheck:
    """The gate's answer. ``exit_code`` is what `fastapi-alembic current --check` exits with."""

    url: str
    position: Position
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: int
    #: Answered from the files' text, without executing them.
    static: bool
    #: When not: which file (or setting) the text alone could not settle, and why.
    why_not_static: str | None = None

    @property
    def at_head(self) -> bool:
        return self.position is Position.AT_HEAD

    @property
    def exit_code(self) -> int:
        return {Position.AT_HEAD: 0, Position.BEHIND: 1, Position.UNKNOWN: 3}[self.position]

    @property
    def sentence(self) -> str:
        where = ", ".join(self.current) or "base (no revision applied)"
        if self.position is Position.AT_HEAD:
            return f"The database at {self.url} is at head ({where})."
        if self.position is Position.BEHIND:
            return (
                f"The database at {self.url} is {self.pending} revision(s) behind head "
                f"(at {where}): run `fastapi-alembic upgrade`."
            )
        unknown = ", ".join(r for r in self.current if r not in self.heads)
        return (
            f"The database at {self.url} is at revision {unknown}, which is not among the "
            "migration files: it was migrated by newer or other code. Deploy the code that has "
            "that revision, or stamp the database if you know its real state."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "position": self.position.value,
            "at_head": self.at_head,
            "current": list(self.current),
            "heads": list(self.heads),
            "pending": self.pending,
            "static": self.static,
            "why_not_static": self.why_not_static,
        }


def position_of(
    current: tuple[str, ...], heads: AbstractSet[str], known: Container[str]
) -> Position:
    """The one rule every path uses, static or through Alembic."""
    if any(revision not in known for revision in current):
        return Position.UNKNOWN
    if set(current) == set(heads):
        return Position.AT_HEAD
    return Position.BEHIND


def read_current(connection: Connection, version_table: str, schema: str | None) -> tuple[str, ...]:
    """The version table's rows, with one SELECT; empty when the table is not there yet."""
    if not inspect(connection).has_table(version_table, schema=schema):
        return ()
    versions = table(version_table, column("version_num"), schema=schema)
    return tuple(str(row[0]) for row in connection.execute(select(versions.c.version_num)))


#: Sync engines by URL, kept so that a process asking again (a lifespan per worker, a health
#: check) skips the dialect's first-connect work. NullPool: they hold no connection open.
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _run_read(url: URL, read: Callable[[Connection], T]) -> T:
    """``read`` in a transaction on a new connection (async drivers: through dialects/engines.py)."""
    if is_async_url(url):
        return run_with_connection(url, read)
    key = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            made = make_engine(url)
            assert isinstance(made, Engine)
            engine = _ENGINES[key] = made
    with connect(engine, url) as connection, connection.begin():
        return read(connection)


def read_on(
    connection: Connection,
    read: Callable[[Connection], T],
    quick: Callable[[Connection], T | None] | None = None,
) -> T:
    """``read`` on the caller's connection, left as it was found: a transaction that the
    read began is rolled back (it only read), and inside the caller's own transaction the read
    runs in a savepoint, so that a statement it gets refused does not abort that transaction
    (PostgreSQL would). Outside a transaction ``quick`` is tried first: its failure can be
    rolled back without harm."""
    if connection.in_transaction():
        with connection.begin_nested():
            return read(connection)
    try:
        if quick is not None:
            try:
                answer = quick(connection)
            except DBAPIError:  # a table not there yet: the careful read says what is
                answer = None
            if answer is not None:
                return answer
            connection.rollback()
        return read(connection)
    finally:
        if connection.in_transaction():
            connection.rollback()


def _quick_read(
    version_table: str, schema: str | None, ledger_table: str
) -> Callable[[Connection], tuple[str, ...] | None]:
    """Both tables in one statement (the probe's), quoted by the connection's dialect."""

    def quick(connection: Connection) -> tuple[str, ...] | None:
        preparer = connection.dialect.identifier_preparer
        prefix = f"{preparer.quote_schema(schema)}." if schema else ""
        statement = versions_statement(
            prefix + preparer.quote(version_table), prefix + preparer.quote(ledger_table)
        )
        return versions_from_rows(connection.exec_driver_sql(statement).all())

    return quick


def fast_head_check(
    settings: Settings,
    alembic_options: dict[str, str | None],
    connection: Connection | None = None,
) -> HeadCheck | None:
    """The gate without Alembic, or None when only Alembic can answer; on ``connection``
    when given (its database is the settings' URL), else on a connection of its own.

    Also refuses (DatabaseStateError, exit 3) when the ledger holds a migration that started
    and never finished.
    """
    if not supports_options(alembic_options):
        return None
    where = env_version_table(settings.directory)
    if where is None:
        return None
    version_table, schema = where
    url = settings.require_url()
    if connection is None and for_url(url).absent(url):
        return None  # connecting would create it (SQLite): the caller decides what that means

    def read(connection: Connection) -> tuple[str, ...]:
        refuse_interrupted(connection, settings.ledger_table, schema, url)
        return read_current(connection, version_table, schema)

    graph = scan(settings.directory)
    if graph is None:
        return None
    if connection is not None:
        quick = _quick_read(version_table, schema, settings.ledger_table)
        current: tuple[str, ...] | None = read_on(connection, read, quick)
    else:
        # The driver alone when it can (a fraction of SQLAlchemy's cost per connection);
        # anything it does not answer (an unfinished ledger row, an error) goes through
        # SQLAlchemy.
        current = read_versions(
            url.render_as_string(hide_password=False), version_table, schema, settings.ledger_table
        )
    if current is None:
        current = _run_read(url, read)
    position = position_of(current, graph.heads, graph.stands_on)
    return HeadCheck(
        url=mask_url(url),
        position=position,
        current=current,
        heads=tuple(sorted(graph.heads)),
        pending=graph.pending(current) if position is Position.BEHIND else 0,
        static=True,
    )


def why_not_static(settings: Settings, alembic_options: dict[str, str | None]) -> str:
    """Why :func:`fast_head_check` answered None: the setting or file (relative to the
    project's root), and what in it."""
    reason = _why_not_static(settings, alembic_options)
    return reason.replace(f"{settings.root.resolve()}{os.sep}", "")


def _why_not_static(settings: Settings, alembic_options: dict[str, str | None]) -> str:
    reason = options_reason(alembic_options)
    if reason is not None:
        return reason
    where = env_version_table_or_reason(settings.directory)
    if isinstance(where, str):
        return where
    graph = scan_or_reason(settings.directory)
    if isinstance(graph, str):
        return graph
    return "the database does not exist yet"


__all__ = [
    "HeadCheck",
    "Position",
    "alembic_ini_options",
    "fast_head_check",
    "position_of",
    "why_not_static",
]

"""The applied-migration ledger: one row per revision applied, reverted, adopted or accepted.

The table lives beside the version table (same schema), is created on first use and is named by
``ledger_table`` under [tool.fastapi-alembic] (default ``fastapi_alembic_ledger``). Rows are
only ever added, except that a row's ``finished_at``/``outcome`` is filled in when its migration
ends. A row's ``outcome``:

``running``   started and not finished: on a backend that commits DDL as it goes (MySQL,
              MariaDB) a row left so by a dead session is a migration interrupted halfway;
``failed``    raised partway on such a backend (also unfinished: the schema may be half done);
``applied`` / ``reverted``   an upgrade / downgrade step that completed;
``adopted``   applied before the ledger existed (or stamped): its file's checksum taken as is;
``accepted``  a deliberate edit of an applied file, re-recorded by `fastapi-alembic log --accept`;
``retried``   a failed try that was then tried again (after a lock timeout) in the same run;
``removed``   an applied revision whose file was deleted on purpose, accepted by `log --accept`;
``resolved``  an interrupted row closed by `stamp` after someone inspected the schema.

Imports no Alembic: the start-up gate reads it.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.types import TypeEngine

from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.registry import aliases_of
from fastapi_alembic.errors import DatabaseStateError
from fastapi_alembic.runtime import liveness
from fastapi_alembic.runtime.file_checksums import checksum
from fastapi_alembic.urls import mask_url

UNFINISHED = ("running", "failed")
#: Outcomes after which a revision counts as applied, with that row's checksum.
APPLIED = ("applied", "adopted", "accepted")


class _Moment(TypeDecorator[datetime]):
    """A date and time with microseconds, on MySQL too (its DATETIME keeps whole seconds by
    default). MySQL's dialect is imported only there: elsewhere it is a tenth of the start-up."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in aliases_of("mysql"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())


@functools.cache
def ledger_table(name: str, schema: str | None) -> Table:
    """The ledger's table definition (created with ``checkfirst`` on first use)."""
    moment = _Moment()
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("revision", String(64), nullable=False, index=True),
        Column("direction", String(8), nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("checksum", String(64)),
        Column("started_at", moment, nullable=False),
        Column("finished_at", moment),
        Column("seconds", Float),
        Column("db_user", String(255)),
        Column("client_host", String(255)),
        Column("process", String(255)),
        Column("session_id", String(64)),
        schema=schema,
    )


def exists(connection: Connection, name: str, schema: str | None) -> bool:
    return bool(inspect(connection).has_table(name, schema=schema))


def qualified(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name


def missing_columns(connection: Connection, name: str, schema: str | None) -> list[str]:
    """The ledger's columns the table (which exists) lacks: dropped by hand."""
    found = {column["name"].lower() for column in inspect(connection).get_columns(name, schema)}
    return [c.name for c in ledger_table(name, schema).c if c.name.lower() not in found]


def missing_columns_sentence(name: str, schema: str | None, missing: Iterable[str]) -> str:
    return (
        f"The ledger table {qualified(name, schema)} lacks its column(s) {', '.join(missing)}: "
        "it was altered outside FastAPI-Alembic and cannot be read, so half-applied and edited "
        "migrations cannot be told; restore the table from a backup, or rename it aside and run "
        "`fastapi-alembic log --adopt` to start a new ledger from the files as they are now."
    )


def require_readable(connection: Connection, name: str, schema: str | None) -> bool:
    """Whether the ledger exists; DatabaseStateError (exit 3) when it exists but lacks columns."""
    if not exists(connection, name, schema):
        return False
    missing = missing_columns(connection, name, schema)
    if missing:
        raise DatabaseStateError(missing_columns_sentence(name, schema, missing))
    return True


def ensure(connection: Connection, name: str, schema: str | None) -> Table:
    """The ledger, created when absent; DatabaseStateError when it lacks columns."""
    found = ledger_table(name, schema)
    if not require_readable(connection, name, schema):
        found.create(connection, checkfirst=True)
    return found


def now() -> datetime:
    """Naive UTC: the same on every backend's DATETIME."""
    return datetime.now(UTC).replace(tzinfo=None)


def who(connection: Connection, run: str | None = None) -> dict[str, str | None]:
    """Who runs a migration: the database user, this host, this process, and the session
    (runtime/liveness.py) of run ``run``."""
    dialect = for_url(connection.engine.url)
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return {
        "db_user": dialect.current_user(connection),
        "client_host": socket.gethostname(),
        "process": f"{program} pid {os.getpid()}",
        "session_id": liveness.session_token(connection, run or uuid.uuid4().hex[:12]),
    }


@dataclass(frozen=True)
class Entry:
    """One ledger row, as `fastapi-alembic log` shows it."""

    id: int
    revision: str
    direction: str
    outcome: str
    checksum: str | None
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    db_user: str | None
    client_host: str | None
    process: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "direction": self.direction,
            "outcome": self.outcome,
            "checksum": self.checksum,
            "started_at": self.started_at.isoformat(sep=" ") + "Z",
            "finished_at": self.finished_at.isoformat(sep=" ") + "Z" if self.finished_at else None,
            "seconds": self.seconds,
            "db_user": self.db_user,
            "client_host": self.client_host,
            "process": self.process,
        }


def entries(connection: Connection, name: str, schema: str | None) -> list[Entry]:
    """Every row, oldest first; none when the ledger was never created."""
    if not require_readable(connection, name, schema):
        return []
    found = ledger_table(name, schema)
    columns = [c for c in found.c if c.name != "session_id"]
    rows = connection.execute(select(*columns).order_by(found.c.id))
    return [Entry(*row) for row in rows]


def interrupted(connection: Connection, name: str, schema: str | None) -> list[Entry]:
    """Rows of migrations that started and never finished, whose session is gone.

    A row whose session is still connected is a migration running right now in another
    process (which holds the migration lock): not an interruption.
    """
    if not require_readable(connection, name, schema):
        return []
    found = ledger_table(name, schema)
    rows = connection.execute(
        select(found.c.id, found.c.session_id, found.c.client_host).where(
            found.c.finished_at.is_(None)
        )
    ).all()
    if not rows:
        return []
    dead = {
        row.id
        for row in rows
        if not liveness.session_alive(connection, row.session_id, row.client_host)
    }
    return [entry for entry in entries(connection, name, schema) if entry.id in dead]


def interrupted_sentence(found: list[Entry], url: URL) -> str:
    first = found[0]
    what = "failed partway" if first.outcome == "failed" else "was interrupted"
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    direction = "upgrade" if first.direction == "up" else "downgrade"
    why = (
        "after committing part of its work (an autocommit_block)"
        if for_url(url).transactional_ddl
        else "whose backend commits DDL as it goes"
    )
    return (
        f"Migration {first.revision} ({direction}) {what} at "
        f"{first.started_at:%Y-%m-%d %H:%M:%S} UTC{more} on {mask_url(url)}, {why}, "
        "so it may be half applied: inspect the schema, finish or undo "
        "that migration by hand, then run `fastapi-alembic stamp REVISION` with the revision "
        "the schema really is at."
    )


def refuse_interrupted(connection: Connection, name: str, schema: str | None, url: URL) -> None:
    """Raise DatabaseStateError (exit 3) when a migration was left half done."""
    found = interrupted(connection, name, schema)
    if found:
        raise DatabaseStateError(interrupted_sentence(found, url))


def applied_checksums(rows: Iterable[Entry]) -> dict[str, Entry]:
    """Per revision, the row that says it is applied now (absent when reverted or never run)."""
    state: dict[str, Entry] = {}
    for entry in rows:
        if entry.outcome in APPLIED:
            state[entry.revision] = entry
        elif entry.outcome in ("reverted", "removed"):
            state.pop(entry.revision, None)
    return state


@dataclass(frozen=True)
class Drift:
    """An applied revision whose file changed since, or is gone."""

    revision: str
    path: str | None  # None: the file is gone
    applied_at: datetime

    @property
    def sentence(self) -> str:
        when = f"{self.applied_at:%Y-%m-%d %H:%M:%S} UTC"
        if self.path is None:
            return (
                f"Revision {self.revision} was applied at {when} but its file is gone: "
                "restore it from version control."
            )
        return (
            f"{self.path} (revision {self.revision}) changed after it was applied at {when}: "
            "restore it, or accept the edit with `fastapi-alembic log --accept "
            f"{self.revision}`."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "path": self.path,
            "file_gone": self.path is None,
            "applied_at": self.applied_at.isoformat(sep=" ") + "Z",
        }


def drift(rows: Iterable[Entry], files: dict[str, str], applied: set[str]) -> list[Drift]:
    """Applied revisions (by the ledger, and still applied by the version table) whose file
    changed since, and revisions the ledger says are applied whose file is gone.

    ``files`` maps each revision in the migration files to its path; ``applied`` is what the
    version table says is applied (a revision stamped away is not reported).
    """
    found: list[Drift] = []
    for revision, entry in applied_checksums(rows).items():
        path = files.get(revision)
        if path is None:
            found.append(Drift(revision, None, entry.finished_at or entry.started_at))
        elif revision in applied and entry.checksum and entry.checksum != checksum(path):
            found.append(Drift(revision, path, entry.finished_at or entry.started_at))
    return found


def accept(
    connection: Connection,
    name: str,
    schema: str | None,
    revision: str,
    files: dict[str, str],
    applied: set[str],
) -> Entry:
    """Record a deliberate edit of an applied file (its new checksum becomes the reference),
    or the deliberate removal of an applied revision's file."""
    from fastapi_alembic.errors import ScriptError

    rows = entries(connection, name, schema)
    recorded = applied_checksums(rows)
    matches = sorted({r for r in {*recorded, *files} if r.startswith(revision)})
    if revision in recorded or revision in files:
        matches = [revision]
    if len(matches) != 1:
        raise ScriptError(
            f"{revision!r} names {'no' if not matches else 'more than one'} revision in the "
            "ledger or the migration files: give the full revision id from `fastapi-alembic log`."
        )
    (revision,) = matches
    path = files.get(revision)
    if path is not None and revision not in applied:
        raise ScriptError(
            f"Revision {revision} is not applied to this database: there is no edit to accept."
        )
    if path is None and revision not in recorded:
        raise ScriptError(f"Revision {revision} is neither in the ledger nor in the files.")
    table = ensure(connection, name, schema)
    moment = now()
    values = {
        **who(connection),
        "revision": revision,
        "direction": "up",
        "outcome": "accepted" if path is not None else "removed",
        "checksum": checksum(path) if path is not None else None,
        "started_at": moment,
        "finished_at": moment,
        "seconds": 0.0,
    }
    connection.execute(insert(table).values(**values))
    return entries(connection, name, schema)[-1]


def adopt(
    connection: Connection,
    name: str,
    schema: str | None,
    files: dict[str, str],
    applied: set[str],
) -> list[Entry]:
    """Record the applied revisions the ledger has no row for (it was dropped, or the database
    was migrated without FastAPI-Alembic) with their files' checksums as they are now."""
    table = ensure(connection, name, schema)
    recorded = {entry.revision for entry in entries(connection, name, schema)}
    moment = now()
    rows = [
        {
            **who(connection),
            "revision": revision,
            "direction": "up",
            "outcome": "adopted",
            "checksum": checksum(files[revision]),
            "started_at": moment,
            "finished_at": moment,
            "seconds": 0.0,
        }
        for revision in sorted(applied - recorded)
        if revision in files
    ]
    if rows:
        connection.execute(insert(table), rows)
    return entries(connection, name, schema)[-len(rows) :] if rows else []

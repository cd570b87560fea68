"""A no-op `fastapi-alembic upgrade` without importing SQLAlchemy.

Importing SQLAlchemy is most of what a process that finds nothing to do pays. For the plainest
set-ups this module answers "already at head" with the database driver alone: the settings from
the command line, ``DATABASE_URL`` and pyproject.toml as config.py reads them, the heads from the
static scan, and the version table (and the ledger's unfinished rows) with plain SELECTs. The
start-up gate (head_check.py) reads the database the same way.

It only ever answers "at head, nothing to do". Anything else (behind, an error, an unfinished
ledger row, a URL with query options, an async or unknown driver, a setting it does not know)
is None, and the caller takes the full path, which gives every other answer and every error
sentence. So a wrong guess here can only cost time, never change what the user sees.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi_alembic.dialects.registry import backend_name
from fastapi_alembic.gate.scan import (
    alembic_ini_options,
    env_version_table,
    scan,
    supports_options,
)

_URL = re.compile(r"^(?P<backend>[a-z]+)(?:\+(?P<driver>\w+))?://(?P<rest>.*)$")
_KNOWN_SETTINGS = {"metadata", "directory", "url", "lint", "lock_wait", "lock_timeout"}
_KNOWN_SETTINGS |= {"lock_retries", "lock_lease", "ledger_table", "test_database_prefix"}
DOUBLE_QUOTE = '"'


@dataclass(frozen=True)
class ProbedPosition:
    """What the probe read: the version table's rows and the files' single head."""

    current: tuple[str, ...]
    head: str

    @property
    def at_head(self) -> bool:
        return set(self.current) == {self.head}


def current_if_at_head(options: Mapping[str, str]) -> tuple[str, ...] | None:
    """The database's revisions when it is at its single head; None for anything else."""
    position = read_position(options)
    return position.current if position is not None and position.at_head else None


def read_position(options: Mapping[str, str]) -> ProbedPosition | None:
    """Where the database stands against the files' single head, read with the driver alone;
    None when the probe cannot tell (see the module's docstring)."""
    try:
        return _probe(options)
    except Exception:  # every failure is the full path's to explain
        return None


def _probe(options: Mapping[str, str]) -> ProbedPosition | None:
    settings = _settings(options)
    if settings is None:
        return None
    raw_url, directory, root, ledger_table = settings
    if not supports_options(alembic_ini_options(root)):
        return None
    where = env_version_table(directory)
    if where is None:
        return None
    version_table, schema = where
    graph = scan(directory)
    if graph is None or len(graph.heads) > 1:
        return None
    current = read_versions(raw_url, version_table, schema, ledger_table)
    if current is None or not graph.heads:
        return None
    return ProbedPosition(current, next(iter(graph.heads)))


def _settings(options: Mapping[str, str]) -> tuple[str, Path, Path, str] | None:
    """(url, migrations folder, project root, ledger table) as config.load_settings finds them."""
    start = Path.cwd()
    if "--config" in options:
        pyproject: Path | None = Path(options["--config"]).resolve()
    else:
        pyproject = _nearest(start, "pyproject.toml")
    table: dict[str, Any] = {}
    if pyproject is not None:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        table = data.get("tool", {}).get("fastapi-alembic", {})
        if not isinstance(table, dict) or set(table) - _KNOWN_SETTINGS:
            return None
    # The project root as config.load_settings finds it.
    ini = None if pyproject is not None else _nearest(start, "alembic.ini")
    root = pyproject.parent if pyproject else ini.parent if ini else start
    url = options.get("--url") or os.environ.get("DATABASE_URL") or table.get("url")
    folder = Path(options.get("--directory") or table.get("directory") or "migrations")
    ledger_table = table.get("ledger_table") or "fastapi_alembic_ledger"
    if not isinstance(url, str) or not isinstance(ledger_table, str):
        return None
    url = _anchored(url.strip(), root)
    return url, folder if folder.is_absolute() else root / folder, root, ledger_table


def _nearest(start: Path, name: str) -> Path | None:
    return next((f / name for f in (start, *start.parents) if (f / name).is_file()), None)


def _anchored(url: str, root: Path) -> str:
    """A plain relative SQLite file path made absolute against the project root, as
    urls.anchored does (anything fancier is left for the full path: _sqlite declines it)."""
    match = _URL.match(url)
    if match is None or match["backend"] != "sqlite" or not match["rest"].startswith("/"):
        return url
    path = match["rest"][1:]
    if not path or path.startswith(("/", ":memory:", "file:")) or "?" in path:
        return url
    driver = f"+{match['driver']}" if match["driver"] else ""
    return f"sqlite{driver}:///{root / path}"


@dataclass(frozen=True)
class _Backend:
    """How to reach one database with its driver alone."""

    connect: Callable[[], Any]  # a DB-API connection, or None when there is no database
    #: Which of the version and ledger tables exist: (cursor, schema, version, ledger).
    tables: Callable[[Any, str | None, str, str], set[str]]
    quote: str
    #: Whether a version table schema is read here (SQLite's attached databases are not).
    schemas: bool = True


def read_versions(
    raw_url: str, version_table: str, schema: str | None, ledger_table: str
) -> tuple[str, ...] | None:
    """The version table's rows with the driver alone; None when the ledger holds an
    unfinished migration, for a URL or driver not handled here, and on any error (the
    caller's full path then gives the sentence)."""
    try:
        backend = _backend(raw_url)
        connection = None if backend is None else backend.connect()
        if backend is None or connection is None:
            return None
        try:
            return _versions(backend, connection, version_table, schema, ledger_table)
        finally:
            with contextlib.suppress(Exception):  # a broken connection is closed enough
                connection.close()
    except Exception:
        return None


def _backend(raw_url: str) -> _Backend | None:
    if raw_url.startswith("postgres://"):
        raw_url = "postgresql://" + raw_url.removeprefix("postgres://")
    match = _URL.match(raw_url)
    if match is None or "?" in match["rest"]:
        return None
    backend, driver, rest = match["backend"], match["driver"], match["rest"]
    if backend == "sqlite" and driver in (None, "pysqlite"):
        return _sqlite(rest)
    parts = urlsplit("//" + rest)
    credentials = {
        "host": parts.hostname or "localhost",
        "port": parts.port,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "database": unquote(parts.path.lstrip("/")) or None,
    }
    arguments = {k: v for k, v in credentials.items() if v is not None}
    if backend == "postgresql":
        if driver is None and not _installed("psycopg2"):
            driver = "psycopg"  # as urls.parse_url picks it
        return _postgresql(arguments) if driver == "psycopg" else None
    if backend_name(backend) == "mysql":  # mariadb:// too
        if driver is None and not _installed("MySQLdb"):
            driver = "pymysql"
        return _mysql(arguments) if driver == "pymysql" else None
    return None


@functools.cache
def _installed(module: str) -> bool:
    """Whether ``module`` can be imported (once per process: the search walks sys.path)."""
    return importlib.util.find_spec(module) is not None


def _quoted(name: str, quote: str) -> str:
    return quote + name.replace(quote, quote * 2) + quote


def _sqlite(rest: str) -> _Backend | None:
    path = rest[1:] if rest.startswith("/") else None
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return None

    def connect() -> Any:
        import sqlite3

        if not Path(path).is_file():  # sqlite3 would make an empty one
            return None
        # Never waits for another writer: a locked database is read by the full path, whose
        # waits count against the verb's lock wait (dialects/sqlite.py).
        return sqlite3.connect(path, timeout=0)

    def tables(cursor: Any, _schema: str | None, version_table: str, ledger_table: str) -> set[str]:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
            (version_table, ledger_table),
        )
        return {row[0] for row in cursor.fetchall()}

    return _Backend(connect, tables, DOUBLE_QUOTE, schemas=False)


def _postgresql(arguments: dict[str, Any]) -> _Backend:
    arguments = {("dbname" if k == "database" else k): v for k, v in arguments.items()}

    def connect() -> Any:
        import psycopg

        # Autocommit: a SELECT that fails (a table not there yet) leaves nothing to roll back.
        return psycopg.connect(**arguments, autocommit=True)

    def tables(cursor: Any, schema: str | None, version_table: str, ledger_table: str) -> set[str]:
        prefix = f"{_quoted(schema, DOUBLE_QUOTE)}." if schema else ""
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
            (prefix + _quoted(version_table, DOUBLE_QUOTE), prefix + _quoted(ledger_table, DOUBLE_QUOTE)),
        )  # fmt: skip
        found = cursor.fetchone()
        return {
            name for name, there in zip((version_table, ledger_table), found, strict=True) if there
        }

    return _Backend(connect, tables, DOUBLE_QUOTE)


def _mysql(arguments: dict[str, Any]) -> _Backend:
    def connect() -> Any:
        from fastapi_alembic.dialects.mysql_driver import pymysql_connection_class

        return pymysql_connection_class()(**arguments, autocommit=True)

    def tables(cursor: Any, schema: str | None, version_table: str, ledger_table: str) -> set[str]:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE "
            "table_schema = COALESCE(%s, DATABASE()) AND table_name IN (%s, %s)",
            (schema, version_table, ledger_table),
        )
        return {str(row[0]) for row in cursor.fetchall()}

    return _Backend(connect, tables, "`")


def _versions(
    backend: _Backend,
    connection: Any,
    version_table: str,
    schema: str | None,
    ledger_table: str,
) -> tuple[str, ...] | None:
    """The version table's rows; None when the ledger holds an unfinished migration.

    Both tables in one statement first (one round trip, the usual case); when that fails
    because one is not there yet, each is looked up."""
    if schema is not None and not backend.schemas:
        return None
    quote = backend.quote
    prefix = f"{_quoted(schema, quote)}." if schema else ""
    version = prefix + _quoted(version_table, quote)
    ledger = prefix + _quoted(ledger_table, quote)
    cursor = connection.cursor()
    try:
        try:
            cursor.execute(versions_statement(version, ledger))
            rows = list(cursor.fetchall())
        except Exception:
            names = backend.tables(cursor, schema, version_table, ledger_table)
            rows = []
            for name, query in ((ledger_table, _UNFINISHED), (version_table, _APPLIED)):
                if name in names:
                    cursor.execute(query.format(version=version, ledger=ledger))
                    rows += cursor.fetchall()
    finally:
        cursor.close()
    return versions_from_rows(rows)


_UNFINISHED = "SELECT COUNT(*), NULL FROM {ledger} WHERE finished_at IS NULL"
_APPLIED = "SELECT NULL, version_num FROM {version}"


def versions_statement(version: str, ledger: str) -> str:
    """One statement for both questions, given the tables' quoted names: rows of (count of
    unfinished ledger rows, None) and (None, applied revision). It fails when either table
    is not there yet."""
    return f"{_UNFINISHED} UNION ALL {_APPLIED}".format(version=version, ledger=ledger)


def versions_from_rows(rows: Iterable[Sequence[Any]]) -> tuple[str, ...] | None:
    """The applied revisions from the rows of :func:`versions_statement`; None when the
    ledger holds an unfinished migration."""
    rows = list(rows)
    if any(count for count, _ in rows if count is not None):
        return None
    return tuple(str(revision) for count, revision in rows if count is None)

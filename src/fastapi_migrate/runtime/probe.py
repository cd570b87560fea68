"""A no-op `fastapi-migrate upgrade` without importing SQLAlchemy.

Importing SQLAlchemy is most of what a process that finds nothing to do pays. For the plainest
set-ups this module answers "already at head" with the database driver alone: the settings from
the command line, ``DATABASE_URL`` and pyproject.toml as config.py reads them, the heads from the
static scan, and the version table (and the ledger's unfinished rows) with plain SELECTs.

It only ever answers "at head, nothing to do". Anything else (behind, an error, an unfinished
ledger row, a URL with query options, an async or unknown driver, a setting it does not know)
is None, and the caller takes the full path, which gives every other answer and every error
sentence. So a wrong guess here can only cost time, never change what the user sees.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi_migrate.runtime.scan import (
    alembic_ini_options,
    env_version_table,
    scan,
    supports_options,
)

_URL = re.compile(r"^(?P<backend>[a-z]+)(?:\+(?P<driver>\w+))?://(?P<rest>.*)$")
_KNOWN_SETTINGS = {"metadata", "directory", "url", "lint", "lock_wait", "lock_timeout"}
_KNOWN_SETTINGS |= {"lock_retries", "ledger_table"}
DOUBLE_QUOTE = '"'


def current_if_at_head(options: Mapping[str, str]) -> tuple[str, ...] | None:
    """The database's revisions when it is at its single head; None for anything else."""
    try:
        return _probe(options)
    except Exception:  # every failure is the full path's to explain
        return None


def _probe(options: Mapping[str, str]) -> tuple[str, ...] | None:
    settings = _settings(options)
    if settings is None:
        return None
    raw_url, directory, root, ledger_table = settings
    if not supports_options(alembic_ini_options(root)):
        return None
    where = env_version_table(directory)
    graph = scan(directory)
    if where is None or graph is None or len(graph.heads) > 1:
        return None
    version_table, schema = where
    reader = _reader(raw_url)
    if reader is None:
        return None
    current = reader(version_table, schema, ledger_table)
    if current is None or set(current) != set(graph.heads):
        return None
    return current


def read_versions(
    raw_url: str, version_table: str, schema: str | None, ledger_table: str
) -> tuple[str, ...] | None:
    """The version table's rows with the driver alone; None when the ledger holds an
    unfinished migration, for a URL or driver not handled here, and on any error."""
    try:
        reader = _reader(raw_url)
        return None if reader is None else reader(version_table, schema, ledger_table)
    except Exception:  # the caller's SQLAlchemy path gives the sentence
        return None


def _settings(options: Mapping[str, str]) -> tuple[str, Path, Path, str] | None:
    """(url, migrations folder, project root, ledger table) as config.load_settings finds them."""
    if "--config" in options:
        pyproject: Path | None = Path(options["--config"]).resolve()
    else:
        start = Path.cwd()
        pyproject = next(
            (
                f / "pyproject.toml"
                for f in (start, *start.parents)
                if (f / "pyproject.toml").is_file()
            ),
            None,
        )
    table: dict[str, Any] = {}
    if pyproject is not None:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        table = data.get("tool", {}).get("fastapi-migrate", {})
        if not isinstance(table, dict) or set(table) - _KNOWN_SETTINGS:
            return None
    root = pyproject.parent if pyproject is not None else Path.cwd()
    url = options.get("--url") or os.environ.get("DATABASE_URL") or table.get("url")
    folder = Path(options.get("--directory") or table.get("directory") or "migrations")
    ledger_table = table.get("ledger_table") or "fastapi_migrate_ledger"
    if not isinstance(url, str) or not isinstance(ledger_table, str):
        return None
    return url.strip(), folder if folder.is_absolute() else root / folder, root, ledger_table


Reader = Callable[[str, "str | None", str], "tuple[str, ...] | None"]


def _reader(raw_url: str) -> Reader | None:
    """A function reading the version table for ``raw_url``'s backend, or None."""
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
    if backend == "postgresql":
        if driver is None and importlib.util.find_spec("psycopg2") is None:
            driver = "psycopg"  # as urls.parse_url picks it
        return _postgresql(credentials) if driver == "psycopg" else None
    if backend in ("mysql", "mariadb"):
        if driver is None and importlib.util.find_spec("MySQLdb") is None:
            driver = "pymysql"
        return _mysql(credentials) if driver == "pymysql" else None
    return None


def _quoted(name: str, quote: str) -> str:
    return quote + name.replace(quote, quote * 2) + quote


def _sqlite(rest: str) -> Reader | None:
    path = rest[1:] if rest.startswith("/") else None
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return None

    def read(version_table: str, schema: str | None, ledger_table: str) -> tuple[str, ...] | None:
        import sqlite3

        if schema is not None or not Path(path).is_file():
            return None
        connection = sqlite3.connect(path)
        try:
            names = {
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                    (version_table, ledger_table),
                )
            }
            return _versions(connection.cursor(), names, version_table, ledger_table, DOUBLE_QUOTE)
        finally:
            connection.close()

    return read


def _postgresql(credentials: dict[str, Any]) -> Reader:
    def read(version_table: str, schema: str | None, ledger_table: str) -> tuple[str, ...] | None:
        import psycopg

        arguments = {k: v for k, v in credentials.items() if v is not None}
        arguments["dbname"] = arguments.pop("database", None)
        with psycopg.connect(**arguments) as connection, connection.cursor() as cursor:
            prefix = f"{_quoted(schema, DOUBLE_QUOTE)}." if schema else ""
            names = set()
            for name in (version_table, ledger_table):
                cursor.execute("SELECT to_regclass(%s)", (prefix + _quoted(name, DOUBLE_QUOTE),))
                row = cursor.fetchone()
                if row is not None and row[0] is not None:
                    names.add(name)
            return _versions(cursor, names, version_table, ledger_table, DOUBLE_QUOTE, prefix)

    return read


def _mysql(credentials: dict[str, Any]) -> Reader:
    def read(version_table: str, schema: str | None, ledger_table: str) -> tuple[str, ...] | None:
        import pymysql  # type: ignore[import-untyped]

        arguments = {k: v for k, v in credentials.items() if v is not None}
        connection = pymysql.connect(**arguments)
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE "
                "table_schema = COALESCE(%s, DATABASE()) AND table_name IN (%s, %s)",
                (schema, version_table, ledger_table),
            )
            names = {str(row[0]) for row in cursor.fetchall()}
            prefix = f"{_quoted(schema, '`')}." if schema else ""
            return _versions(cursor, names, version_table, ledger_table, "`", prefix)
        finally:
            connection.close()

    return read


def _versions(
    cursor: Any,
    names: set[str],
    version_table: str,
    ledger_table: str,
    quote: str,
    prefix: str = "",
) -> tuple[str, ...] | None:
    """The version table's rows; None when the ledger holds an unfinished migration."""
    if ledger_table in names:
        cursor.execute(
            f"SELECT COUNT(*) FROM {prefix}{_quoted(ledger_table, quote)} WHERE finished_at IS NULL"
        )
        if cursor.fetchone()[0]:
            return None
    if version_table not in names:
        return ()
    cursor.execute(f"SELECT version_num FROM {prefix}{_quoted(version_table, quote)}")
    return tuple(str(row[0]) for row in cursor.fetchall())

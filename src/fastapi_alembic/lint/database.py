"""Database-aware lint: how large each table really is, and which server version runs it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import Connection, func, select, table
from sqlalchemy.engine import URL

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.facts import backend_of, facts_of, unknown_rows


def measure(url: URL, environment: Environment, *, lazily: bool = False) -> Environment | None:
    """``environment`` with the server's version and every table's row count filled in.

    The catalog's estimate (PostgreSQL reltuples, MySQL information_schema) decides for large
    tables; below the threshold, or when unknown, the rows are counted, stopping one past the
    threshold, so a small table is never mistaken for an empty one. ``lazily`` counts a table
    only when a finding asks about it: linting a few revisions (the one ``make`` just wrote)
    then costs a count of the tables they touch, not of every table in the database.
    """
    backend = backend_of(url)
    if backend == "sqlite" and not _sqlite_file_exists(url):
        return None  # connecting would create the file; there is nothing to measure yet

    def read(connection: Connection) -> Environment:
        estimates = (facts_of(backend).table_rows if backend else unknown_rows)(connection)
        rows = RowCounts(url, estimates, environment)
        if not lazily:
            for name in estimates:
                rows.count(connection, name)
        environment.rows = rows
        version = connection.dialect.server_version_info
        if backend and version:
            environment.versions[backend] = tuple(v for v in version if isinstance(v, int))
        environment.mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        return environment

    return run_with_connection(url, read)


class RowCounts(Mapping[str, int]):
    """Rows per table: the catalog's estimate when it is past the threshold, else a bounded
    count, made when first asked for (on a connection of its own) unless counted already."""

    def __init__(self, url: URL, estimates: dict[str, int], environment: Environment) -> None:
        self.url, self.estimates, self.environment = url, estimates, environment
        self.known: dict[str, int] = {}

    def count(self, connection: Connection, name: str) -> int:
        threshold = self.environment.threshold
        estimate = self.estimates[name]
        if estimate >= threshold:
            self.known[name] = estimate
            return estimate
        counted = _count(connection, name, threshold + 1)
        if counted > threshold:  # the estimate was stale: a lower bound
            self.environment.rows_at_least.add(name)
        self.known[name] = counted
        return counted

    def __getitem__(self, name: str) -> int:
        if name in self.known:
            return self.known[name]
        if name not in self.estimates:
            raise KeyError(name)
        return run_with_connection(self.url, lambda connection: self.count(connection, name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.estimates)

    def __len__(self) -> int:
        return len(self.estimates)


def _count(connection: Connection, name: str, limit: int) -> int:
    rows = select(func.count()).select_from(
        select(1).select_from(table(name)).limit(limit).subquery()
    )
    return int(connection.execute(rows).scalar_one())


def _sqlite_file_exists(url: URL) -> bool:
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return True
    return Path(database).exists()


__all__ = ["RowCounts", "backend_of", "measure"]

"""Per-backend behaviour, looked up by URL. Nothing else in the package branches on dialect."""

from __future__ import annotations

from sqlalchemy.engine import URL

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.dialects.mysql import MySQLSupport
from fastapi_alembic.dialects.postgresql import PostgreSQLSupport
from fastapi_alembic.dialects.sqlite import SQLiteSupport

_BY_BACKEND: dict[str, DialectSupport] = {
    "sqlite": SQLiteSupport(),
    "postgresql": PostgreSQLSupport(),
    "mysql": MySQLSupport(),
    "mariadb": MySQLSupport(),
}


def for_url(url: URL) -> DialectSupport:
    return _BY_BACKEND.get(url.get_backend_name(), DialectSupport())


def for_backend(name: str) -> DialectSupport:
    """By SQLAlchemy's dialect name, as a MigrationContext knows it."""
    return _BY_BACKEND.get(name, DialectSupport())


__all__ = ["DialectSupport", "for_backend", "for_url"]

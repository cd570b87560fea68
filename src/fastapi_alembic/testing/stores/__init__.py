"""The test suite's template stores, one per backend, registered by the backend's name.

Adding a backend: a TemplateStore subclass (or a function choosing one) registered here under
the name the backend has in dialects/registry.py.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import URL

from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.dialects.registry import backend_name
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.testing.stores.base_store import ServerTemplateStore, TemplateStore
from fastapi_alembic.testing.stores.mysql_store import MySQLTemplateStore
from fastapi_alembic.testing.stores.postgresql_store import PostgreSQLTemplateStore
from fastapi_alembic.testing.stores.sqlite_store import sqlite_store

#: What makes a backend's store: given the backend's DialectSupport and the server URL.
MakeStore = Callable[[DialectSupport, URL], TemplateStore]

_STORES: dict[str, MakeStore] = {}


def register(backend: str, make: MakeStore) -> None:
    """Templates on ``backend`` (its name in dialects/registry.py) are kept by ``make``."""
    _STORES[backend] = make


def unregister(backend: str) -> None:
    _STORES.pop(backend, None)


def backends() -> tuple[str, ...]:
    """The backends the test suite can copy databases on."""
    return tuple(_STORES)


def template_store(server: URL) -> TemplateStore:
    """Where test templates live on ``server``, and how they are copied."""
    make = _STORES.get(backend_name(server.get_backend_name()) or "")
    if make is None:
        raise ConfigError(
            f"Test databases cannot be copied on {server.get_backend_name()}: use SQLite, "
            "PostgreSQL or MySQL/MariaDB for the test URL."
        )
    return make(for_url(server), server)


register("postgresql", PostgreSQLTemplateStore)
register("mysql", MySQLTemplateStore)
register("sqlite", sqlite_store)

__all__ = [
    "MakeStore",
    "ServerTemplateStore",
    "TemplateStore",
    "backends",
    "register",
    "template_store",
    "unregister",
]

"""Fixtures for the to-do API's tests: a freshly migrated database per test, on SQLite,
PostgreSQL and MariaDB, from the fastapi-alembic pytest plugin."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fastapi_alembic import Migrations
from tests.support.backends import BACKENDS, require_server
from todo.app import app
from todo.database import configure_connections, get_session

APP_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def migrations() -> Migrations:
    return Migrations(root=APP_ROOT)


@pytest.fixture(
    scope="session",
    params=BACKENDS,
)
def migrate_base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('todo-databases') / 'server.db'}"
    return require_server(request.param)  # with CI=true, a server that is down fails the run


@pytest.fixture
def client(override_database: Callable[[Any, Any], None], migrated_engine: Engine) -> TestClient:
    """A client for the app on a fresh database at head, its connections set up as the app's
    own are. Without `with`, TestClient skips the lifespan: the database is already migrated."""
    configure_connections(migrated_engine)
    override_database(app, get_session)
    return TestClient(app)

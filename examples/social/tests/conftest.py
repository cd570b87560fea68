"""Fixtures for the social API's tests: a freshly migrated database per test, on SQLite,
PostgreSQL and MariaDB, from the fastapi-alembic pytest plugin; and users who can log in."""

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import SecretStr
from sqlalchemy import Engine

from fastapi_alembic import Migrations
from social import security
from social.app import app
from social.database import configure_connections, get_session
from tests.support.backends import BACKENDS, require_server

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
        return f"sqlite:///{tmp_path_factory.mktemp('social-databases') / 'server.db'}"
    return require_server(request.param)  # with CI=true, a server that is down fails the run


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still Argon2, with the lowest cost: production-strength hashing would dominate the run."""
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))
    monkeypatch.setattr(security, "password_hash", cheap)


@pytest.fixture
def client(
    override_database: Callable[[Any, Any], None],
    migrated_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> TestClient:
    """A client for the app on a fresh database at head, its connections set up as the app's
    own are, and a signing key of its own. Without `with`, TestClient skips the lifespan: the
    database is already migrated."""
    configure_connections(migrated_engine)
    override_database(app, get_session)
    monkeypatch.setattr(app.state.settings, "secret_key", SecretStr(secrets.token_urlsafe(32)))
    return TestClient(app)


@dataclass
class LoggedInUser:
    id: int
    email: str
    password: str
    headers: dict[str, str]


@pytest.fixture
def sign_up(client: TestClient) -> Callable[..., LoggedInUser]:
    """Makes a new user through the API (with a phone number if given) and logs them in."""
    numbers = itertools.count(1)

    def make(phone_number: str | None = None) -> LoggedInUser:
        email, password = f"user{next(numbers)}@example.com", "correct horse battery"
        account = {"email": email, "password": password, "phone_number": phone_number}
        created = client.post("/users/", json=account)
        assert created.status_code == 201, created.text
        login = client.post("/login", data={"username": email, "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        return LoggedInUser(created.json()["id"], email, password, headers)

    return make


@pytest.fixture
def user(sign_up: Callable[..., LoggedInUser]) -> LoggedInUser:
    return sign_up()

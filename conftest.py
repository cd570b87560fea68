"""Backends for every test suite in the repository (core tests and the example apps).

Each server-backed test gets its own freshly created database. With CI=true an unreachable
server fails the test: a silently skipped backend would be a hidden failure. Outside CI such
tests skip, and the run ends with a loud summary naming the missing servers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from fastapi_migrate.dialects import for_url
from fastapi_migrate.errors import DatabaseUnreachable

SERVER_URLS = {
    "postgres": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
_missing: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@functools.cache
def _probe(backend: str) -> str | None:
    """None when the server answers, else the reason."""
    from sqlalchemy import text

    from fastapi_migrate.db import run_with_connection

    try:
        run_with_connection(make_url(SERVER_URLS[backend]), lambda c: c.execute(text("SELECT 1")))
    except DatabaseUnreachable as error:
        return str(error)
    return None


def require_server(backend: str) -> str:
    """The server URL for ``backend``; fails under CI, skips loudly otherwise, when it is down."""
    reason = _probe(backend)
    if reason is not None:
        _missing[backend] = reason
        if in_ci():
            pytest.fail(f"{backend} server unreachable with CI=true: {reason}", pytrace=False)
        pytest.skip(f"{backend} server unreachable: {reason}")
    return SERVER_URLS[backend]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrizes a test over sqlite, postgres and mysql."""
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a new, empty database on ``backend``, dropped after the test."""
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("db")
        yield f"sqlite:///{folder / 'app.db'}"
        return
    server = make_url(require_server(backend))
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("test"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _missing:
        terminalreporter.section("BACKENDS NOT TESTED", sep="!", red=True, bold=True)
        for backend, reason in _missing.items():
            terminalreporter.line(f"{backend}: {reason}", red=True, bold=True)

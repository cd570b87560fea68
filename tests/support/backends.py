"""The database servers the test suites run against, and the rule for when one is down.

With CI=true an unreachable server fails the test: a silently skipped backend would be a
hidden failure. Outside CI such tests skip, and the run ends with a loud summary naming the
missing servers (see the repository's conftest.py).
"""

from __future__ import annotations

import functools
import os

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseUnreachable

#: The name (and pytest marker) the tests give each backend of dialects/registry.py; a test
#: (test_backend_registry.py) checks that every registered backend has one.
TEST_NAMES = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}
SERVER_URLS = {
    "postgres": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
BACKENDS = [pytest.param(name, marks=getattr(pytest.mark, name)) for name in TEST_NAMES.values()]
#: Servers found unreachable in this run, with the reason: printed at the end.
missing: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@functools.cache
def _probe(backend: str) -> str | None:
    """None when the server answers, else the reason."""
    try:
        run_with_connection(make_url(SERVER_URLS[backend]), lambda c: c.execute(text("SELECT 1")))
    except DatabaseUnreachable as error:
        return str(error)
    return None


def require_server(backend: str) -> str:
    """The server URL for ``backend``; fails under CI, skips loudly otherwise, when it is down."""
    reason = _probe(backend)
    if reason is not None:
        missing[backend] = reason
        if in_ci():
            pytest.fail(f"{backend} server unreachable with CI=true: {reason}", pytrace=False)
        pytest.skip(f"{backend} server unreachable: {reason}")
    return SERVER_URLS[backend]

"""Fixtures for every test suite in the repository (core tests and the example apps).

Each server-backed test gets its own freshly created database; tests/support/backends.py holds the
server URLs and the rule for a server that is down (fail under CI=true, skip loudly otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects import for_url
from tests.support.backends import BACKENDS, missing, require_server


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--matrix",
        action="store_true",
        help="Also run the tests marked matrix (the whole bad-input matrix): make test-matrix.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--matrix"):
        return
    kept = [item for item in items if item.get_closest_marker("matrix") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if missing:
        terminalreporter.section("BACKENDS NOT TESTED", sep="!", red=True, bold=True)
        for backend, reason in missing.items():
            terminalreporter.line(f"{backend}: {reason}", red=True, bold=True)

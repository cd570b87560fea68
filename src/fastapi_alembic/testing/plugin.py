"""pytest plugin (registered through the pytest11 entry point): a migrated database per test.

Fixtures:

``migrations`` (session)
    The app's Migrations, from [tool.fastapi-alembic] in the pyproject.toml found from the
    rootdir. Override it in a conftest for another app.
``migrate_base_url`` (session)
    Where templates and copies are made: ``--migrate-url``, else $FASTAPI_ALEMBIC_TEST_URL,
    else a SQLite folder in the temporary directory. Their names start with
    ``--migrate-prefix``, else the ``migrate_prefix`` ini setting, else
    ``test_database_prefix`` under [tool.fastapi-alembic], else ``faa``.
``migrated_url`` / ``migrated_engine`` / ``migrated_connection`` / ``migrated_session`` (function)
    The test's database at head: its URL, a sync engine, a connection, a Session (and, for
    anyio tests, ``migrated_async_connection`` / ``migrated_async_session``). In ``database``
    isolation (the default) a fresh copy of the template, dropped after, or on a server, when
    the test left the schema unchanged, reset to the template's rows and handed to a later
    test (``--migrate-no-recycle`` turns that off). In ``transaction`` isolation one database
    per process, every test inside an outer transaction rolled back after it
    (``--migrate-isolation``, the ``migrate_isolation`` ini setting, or
    ``@pytest.mark.fastapi_alembic(isolation=...)`` per test).
``override_database`` (function)
    ``override_database(app, get_db)`` points a FastAPI dependency at the test's database.
``migrate_session_class`` (function)
    The Session class of ``migrated_session`` and ``override_database``: ``sqlmodel.Session``
    when the app's models are SQLModel's, else SQLAlchemy's ``Session``. Override it in a
    conftest (or pass ``session_class=`` to ``override_database``) for the app's own class.
``migrate_templates`` (function)
    The TemplateDatabases behind them: one per app and server for the whole run.
``migration_suite`` (function)
    The migration test suite's report, run once per app and server (see
    fastapi_alembic.testing.checks to get its six checks as tests).

See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from fastapi_alembic.database_names import (
    TEST_URL_VARIABLE,
    default_sqlite_folder,
    prefix_problem,
)
from fastapi_alembic.errors import ConfigError, MigrationsError
from fastapi_alembic.testing.fixtures import (  # registered as this plugin's fixtures
    MARKER,
    close_shared,
    fail,
    migrate_isolation,
    migrate_transaction,
    migrated_async_connection,
    migrated_async_session,
    migrated_connection,
    migrated_engine,
    migrated_session,
    migrated_url,
    override_database,
)

# Imported lazily: installing the package must not slow down every pytest run that never
# asks for a migrated database.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fastapi_alembic.migrations import Migrations
    from fastapi_alembic.reports import CheckReport
    from fastapi_alembic.testing.templates import TemplateDatabases

URL_ENVIRONMENT_VARIABLE = TEST_URL_VARIABLE
ISOLATIONS = ("database", "transaction")
#: Copies a background connection keeps ready on a server (recycled ones join them), so that
#: a short test after a long one, or a burst of tests, finds one without waiting.
READY_COPIES = 2
__all__ = [
    "migrate_isolation",
    "migrate_transaction",
    "migrated_async_connection",
    "migrated_async_session",
    "migrated_connection",
    "migrated_engine",
    "migrated_session",
    "migrated_url",
    "override_database",
]
_STORES_KEY = pytest.StashKey[dict[tuple[str, str], "TemplateDatabases"]]()
_REPORTS_KEY = pytest.StashKey[dict[tuple[str, str], "CheckReport | MigrationsError"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fastapi-alembic", "FastAPI-Alembic test databases")
    group.addoption(
        "--migrate-url",
        dest="migrate_url",
        default=None,
        help=(
            "Server (or sqlite:///folder/any.db) where migrated test databases are made. "
            f"Default: ${URL_ENVIRONMENT_VARIABLE}, else SQLite files in the temporary folder."
        ),
    )
    group.addoption(
        "--migrate-prefix",
        dest="migrate_prefix",
        default=None,
        help=(
            "Starts the names of the test databases made on the server (default: the "
            "migrate_prefix ini setting, else test_database_prefix under "
            "[tool.fastapi-alembic], else faa)."
        ),
    )
    parser.addini(
        "migrate_prefix",
        "Starts the names of the test databases FastAPI-Alembic makes (default: faa).",
        default="",
    )
    group.addoption(
        "--migrate-no-recycle",
        dest="migrate_no_recycle",
        action="store_true",
        default=False,
        help=(
            "Drop every test's database after the test instead of resetting its rows and "
            "handing it to the next test (servers recycle by default when the schema is "
            "unchanged)."
        ),
    )

    group.addoption(
        "--migrate-isolation",
        dest="migrate_isolation",
        choices=ISOLATIONS,
        default=None,
        help=(
            "How tests are kept apart by default: database (a copy of the template each) or "
            "transaction (one database per process, each test rolled back). Default: the "
            "migrate_isolation ini setting, else database."
        ),
    )
    parser.addini(
        "migrate_isolation",
        "database (a copy per test, the default) or transaction (each test rolled back).",
        default="",
    )


# The names pytest may register this module under: the pytest11 entry point's name (auto-loading,
# ``-p fastapi_alembic``) and the module's own (``-p fastapi_alembic.testing.plugin``,
# ``pytest_plugins``, ``PYTEST_PLUGINS``). pytest refuses a second registration of one module under
# another name, so once it holds one name the other is blocked: that load is then skipped.
ENTRY_POINT_NAME = "fastapi_alembic"
_NAMES = (ENTRY_POINT_NAME, __name__)


def pytest_plugin_registered(
    plugin: object, plugin_name: str, manager: pytest.PytestPluginManager
) -> None:
    if plugin is not sys.modules[__name__] or plugin_name not in _NAMES:
        return
    for other in _NAMES:
        if other != plugin_name and not manager.is_blocked(other):
            manager.set_blocked(other)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f'{MARKER}(isolation="database"|"transaction"): a database of the test\'s own, or '
        "the shared one inside a transaction rolled back after the test.",
    )
    config.stash[_STORES_KEY] = {}
    config.stash[_REPORTS_KEY] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Wait for background drops and release connections while the process surely lives
    (an xdist worker may be ended soon after it reports the session finished)."""
    _close_stores(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    _close_stores(config)


def _close_stores(config: pytest.Config) -> None:
    with contextlib.suppress(Exception):  # tidying up must not fail the run
        close_shared(config)
    stores = config.stash.get(_STORES_KEY, {})
    for store in stores.values():
        with contextlib.suppress(Exception):  # tidying up must not fail the run
            store.close()
    stores.clear()


def _prefix(request: pytest.FixtureRequest) -> str | None:
    """--migrate-prefix, else the migrate_prefix ini setting; None: the app's own setting."""
    option = request.config.getoption("migrate_prefix", default=None)
    return str(option or request.config.getini("migrate_prefix") or "") or None


def check_prefix(prefix: str) -> None:
    problem = prefix_problem(prefix, "--migrate-prefix or migrate_prefix")
    if problem is not None:
        raise ConfigError(problem)


_fail = fail


@pytest.fixture(scope="session")
def migrations(request: pytest.FixtureRequest) -> Migrations:
    """The app's migrations, from [tool.fastapi-alembic] in the pyproject.toml at or above
    pytest's rootdir, else at or above the folder pytest was started in."""
    from fastapi_alembic.config import find_pyproject, read_tool_table
    from fastapi_alembic.migrations import Migrations

    root = request.config.rootpath
    try:
        for start in (root, request.config.invocation_params.dir):
            pyproject = find_pyproject(start)
            if pyproject is not None and read_tool_table(pyproject):
                root = pyproject.parent
                break
        return Migrations(root=root)
    except MigrationsError as error:
        _fail(error)


@pytest.fixture(scope="session")
def migrate_base_url(request: pytest.FixtureRequest) -> str:
    """Where templates and copies are made."""
    option = request.config.getoption("migrate_url", default=None)
    chosen = option or os.environ.get(URL_ENVIRONMENT_VARIABLE)
    if chosen:
        return str(chosen)
    folder = default_sqlite_folder()
    return f"sqlite:///{folder / 'server.db'}"


@pytest.fixture
def migrate_templates(
    request: pytest.FixtureRequest, migrations: Migrations, migrate_base_url: str
) -> TemplateDatabases:
    """The cloning machinery for this app and server, made once per session and closed at
    its end. Looked up per test, so that two apps in one run (each conftest overriding
    ``migrations``) each get their own templates, which a session-cached value would not."""
    stores = request.config.stash[_STORES_KEY]
    key = (str(migrations.directory.resolve()), migrate_base_url)
    store = stores.get(key)
    if store is None:
        from fastapi_alembic.testing.templates import TemplateDatabases

        try:
            recycle = not request.config.getoption("migrate_no_recycle", default=False)
            prefix = _prefix(request)
            if prefix is not None:
                check_prefix(prefix)
            store = stores[key] = TemplateDatabases(
                migrations, migrate_base_url, ahead=READY_COPIES, recycle=recycle, prefix=prefix
            )
        except MigrationsError as error:
            _fail(error)
    return store


def session_class_for(migrations: Migrations) -> type[Session]:
    """``sqlmodel.Session`` (whose ``exec`` SQLModel apps call) when the app's models are
    SQLModel's, else SQLAlchemy's ``Session``."""
    from sqlalchemy.orm import Session

    from fastapi_alembic.project_files import is_sqlmodel_metadata

    try:
        metadata = migrations.settings.metadata
    except MigrationsError:  # models named in env.py only: nothing to tell by
        return Session
    if is_sqlmodel_metadata(metadata):
        import sqlmodel

        return sqlmodel.Session
    return Session


@pytest.fixture
def migrate_session_class(migrations: Migrations) -> type[Session]:
    """The Session class the fixtures make (override it in a conftest for your own)."""
    return session_class_for(migrations)


@pytest.fixture
def migration_suite(
    request: pytest.FixtureRequest, migrations: Migrations, migrate_base_url: str
) -> CheckReport:
    """The six checks of the migration test suite, run once per app and server on
    ``migrate_base_url``'s server (fastapi_alembic.testing.checks has them as tests)."""
    from fastapi_alembic.testing.suite import run_suite

    reports = request.config.stash[_REPORTS_KEY]
    key = (str(migrations.directory.resolve()), migrate_base_url)
    if key not in reports:
        try:
            prefix = _prefix(request)
            if prefix is not None:
                check_prefix(prefix)
                settings = replace(migrations.settings, test_database_prefix=prefix)
                migrations = type(migrations)(settings=settings)
            reports[key] = run_suite(migrations, migrate_base_url)
        except MigrationsError as error:
            reports[key] = error
    found = reports[key]
    if isinstance(found, MigrationsError):
        _fail(found)
    return found

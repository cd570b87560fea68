"""The pytest plugin's per-test database fixtures, in either isolation mode.

``database`` (the default): the test gets a copy of the template of its own (fastapi_alembic.
testing.templates). ``transaction``: the tests of a process share one migrated database and
each runs inside an outer transaction rolled back after it (fastapi_alembic.testing.
transactions). The ``migrate_isolation`` ini setting or ``--migrate-isolation`` chooses the
default; ``@pytest.mark.fastapi_alembic(isolation=...)`` chooses per test. A test that asks for
``migrated_url`` or ``migrated_engine`` (code of its own may connect to it) gets a copy unless
its marker says otherwise. Imported by fastapi_alembic.testing.plugin, which registers them.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import pytest

from fastapi_alembic.errors import ConfigError, MigrationsError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
    from sqlalchemy.orm import Session

    from fastapi_alembic.migrations import Migrations
    from fastapi_alembic.testing.templates import TemplateDatabases
    from fastapi_alembic.testing.transactions import OuterTransaction, SharedDatabase

MARKER = "fastapi_alembic"
#: Per server URL: the shared database of transaction mode.
SHARED_KEY = pytest.StashKey[dict[tuple[str, str], "SharedDatabase"]]()
#: Per copy name: an engine kept across the tests that get the copy (recycled copies keep
#: their names), so a test pays a connection, not an engine's first-connect queries.
ENGINES_KEY = pytest.StashKey[dict[str, "Engine"]]()
_KEPT_ENGINES = 64
#: The fixtures below take ``migrations`` and ``migrate_base_url`` as arguments even where the
#: mode decides whether they are used: a conftest may parametrize them, and pytest gives a
#: fixture its parameters only when the test's own fixtures name it.
#: Fixtures that hand a test's own code a way to connect: they need a database of its own.
_OWN_DATABASE = ("migrated_url", "migrated_engine")


def fail(error: MigrationsError) -> NoReturn:
    """A MigrationsError as one line in the test report, without a traceback."""
    pytest.fail(str(error), pytrace=False)


def close_shared(config: pytest.Config) -> None:
    """Close the shared databases (their copies are dropped with their template store)."""
    for shared in config.stash.get(SHARED_KEY, {}).values():
        shared.close(hand_back=False)
    config.stash.get(SHARED_KEY, {}).clear()
    for engine in config.stash.get(ENGINES_KEY, {}).values():
        engine.dispose()
    config.stash.get(ENGINES_KEY, {}).clear()


def isolation_of(request: pytest.FixtureRequest) -> str:
    """The test's mode: its marker, else ``database`` for a test that asks for its own URL or
    engine, else --migrate-isolation, else the migrate_isolation ini setting, else database."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        unknown = sorted(set(marker.kwargs) - {"isolation"})
        if marker.args or unknown:
            fail(
                ConfigError(
                    f"@pytest.mark.{MARKER} takes isolation= only, not {marker.args or unknown[0]!r}."
                )
            )
    if marker is not None and "isolation" in marker.kwargs:
        chosen, where = marker.kwargs["isolation"], f"@pytest.mark.{MARKER}(isolation=...)"
    elif any(name in request.fixturenames for name in _OWN_DATABASE):
        return "database"
    else:
        option = request.config.getoption("migrate_isolation", default=None)
        ini = str(request.config.getini("migrate_isolation") or "")
        chosen, where = option or ini or "database", "the migrate_isolation ini setting"
    if chosen not in ("database", "transaction"):
        fail(
            ConfigError(
                f'The isolation in {where} must be "database" or "transaction", not {chosen!r}.'
            )
        )
    return str(chosen)


@pytest.fixture
def migrate_isolation(request: pytest.FixtureRequest) -> str:
    """``"database"`` (a copy of its own) or ``"transaction"`` (rolled back), for this test."""
    return isolation_of(request)


@pytest.fixture
def migrated_url(
    request: pytest.FixtureRequest, migrate_templates: TemplateDatabases
) -> Iterator[str]:
    """The URL of a fresh database at head (password included), dropped after the test (or
    recycled: reset to exactly a fresh copy's state for a later test)."""
    # The mode is asked for directly here and below, not through its fixture: a fixture
    # fewer on every test's way to its database.
    _own_database_only(isolation_of(request), "migrated_url")
    try:
        url = migrate_templates.create()
    except MigrationsError as error:
        fail(error)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        migrate_templates.drop(url, wait=False)


def _own_database_only(isolation: str, fixture: str) -> None:
    if isolation == "transaction":
        fail(
            ConfigError(
                f"{fixture} gives the test a database of its own, but the test is marked "
                f'isolation="transaction": use migrated_connection or migrated_session, which '
                'share the test\'s transaction, or mark it isolation="database".'
            )
        )


@pytest.fixture
def migrated_engine(request: pytest.FixtureRequest, migrated_url: str) -> Iterator[Engine]:
    """A sync engine on the fresh database; its connections are closed after the test."""
    from sqlalchemy import Engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import QueuePool

    from fastapi_alembic.dialects.engines import make_engine

    url = make_url(migrated_url)
    engines = request.config.stash.setdefault(ENGINES_KEY, {})
    engine = engines.pop(url.database or "", None)
    if engine is None:
        # A pool (emptied after the test): a test making many requests reuses its connections.
        made = make_engine(url, poolclass=QueuePool)
        if not isinstance(made, Engine):
            fail(
                ConfigError(
                    f"migrated_engine is a sync engine, but {url.drivername} is an async driver: "
                    "give --migrate-url with a sync driver (such as postgresql+psycopg or "
                    "mysql+pymysql), or use migrated_async_connection."
                )
            )
        engine = made
    try:
        yield engine
    finally:
        # The connections go (a recycled copy must have no session left on it); the engine,
        # its dialect already initialized, waits for the next test given the same copy.
        engine.dispose()
        if url.get_backend_name() != "sqlite":  # SQLite copies are never handed out again
            engines[url.database or ""] = engine
            while len(engines) > _KEPT_ENGINES:
                engines.pop(next(iter(engines))).dispose()


def shared_database(
    request: pytest.FixtureRequest, migrations: Migrations, server: str
) -> SharedDatabase:
    """The shared database of this app and server, made (with its template store) at first."""
    from fastapi_alembic.testing.transactions import SharedDatabase

    shared = request.config.stash.setdefault(SHARED_KEY, {})
    key = (str(migrations.directory), str(server))
    if key not in shared:
        shared[key] = SharedDatabase(request.getfixturevalue("migrate_templates"))
    return shared[key]


@pytest.fixture
def migrate_transaction(
    request: pytest.FixtureRequest, migrations: Migrations, migrate_base_url: str
) -> Iterator[OuterTransaction]:
    """Transaction mode: the test's outer transaction on the shared database, rolled back
    after the test (behind migrated_connection, migrated_session and override_database)."""
    try:
        transaction = shared_database(request, migrations, migrate_base_url).begin()
    except MigrationsError as error:
        fail(error)
    yield transaction
    problem = transaction.end()
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def migrated_connection(
    request: pytest.FixtureRequest, migrations: Migrations, migrate_base_url: str
) -> Iterator[Connection]:
    """A Connection on the test's database. In transaction mode it is inside the test's
    transaction (do not commit it); else a connection of migrated_engine, closed after."""
    # The mode is asked for directly, not through its fixture: one fixture fewer per test.
    if isolation_of(request) == "transaction":
        yield request.getfixturevalue("migrate_transaction").connection
        return
    engine: Engine = request.getfixturevalue("migrated_engine")
    connection = engine.connect()
    try:
        yield connection
    finally:
        # Closed without a ROLLBACK first (a round trip): the copy is handed back and reset,
        # and the server rolls back what the session left open as it ends it.
        connection.invalidate()
        connection.close()


@pytest.fixture
def migrated_session(
    request: pytest.FixtureRequest,
    migrations: Migrations,
    migrate_base_url: str,
    migrate_session_class: type[Session],
) -> Iterator[Session]:
    """A Session of the app's own class on the test's database, closed after the test. In
    transaction mode its commits release a SAVEPOINT of the test's transaction."""
    if isolation_of(request) == "transaction":
        transaction: OuterTransaction = request.getfixturevalue("migrate_transaction")
        yield transaction.session(migrate_session_class)
        return
    session = migrate_session_class(request.getfixturevalue("migrated_engine"))
    try:
        yield session
    finally:
        session.close()


def async_session_class_for(session_class: type[Session]) -> type[AsyncSession]:
    """SQLModel's AsyncSession when the sync one is SQLModel's, else SQLAlchemy's."""
    from sqlalchemy.ext.asyncio import AsyncSession

    if session_class.__module__.startswith("sqlmodel"):
        from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

        return SQLModelAsyncSession
    return AsyncSession


@pytest.fixture
async def migrated_async_connection(
    request: pytest.FixtureRequest,
    anyio_backend: Any,
    migrations: Migrations,
    migrate_base_url: str,
    migrate_isolation: str,
) -> AsyncIterator[AsyncConnection]:
    """An AsyncConnection on the test's database, for async tests run by anyio's pytest
    plugin (``@pytest.mark.anyio``). In transaction mode it is inside the test's own outer
    transaction (a connection apart from the sync fixtures'), rolled back after the test."""
    if migrate_isolation == "transaction":
        shared = shared_database(request, migrations, migrate_base_url)
        try:
            transaction = await shared.async_begin()
        except MigrationsError as error:
            fail(error)
        try:
            yield transaction.connection
        finally:
            problem = await transaction.end()
        if problem is not None:
            pytest.fail(problem, pytrace=False)
        return
    from sqlalchemy.engine import make_url

    from fastapi_alembic.dialects.engines import make_engine
    from fastapi_alembic.testing.transactions import async_url

    engine = make_engine(async_url(make_url(request.getfixturevalue("migrated_url"))))
    try:
        async with engine.connect() as connection:  # type: ignore[union-attr]
            yield connection
    finally:
        await engine.dispose()  # type: ignore[misc]


@pytest.fixture
async def migrated_async_session(
    migrated_async_connection: AsyncConnection,
    migrate_isolation: str,
    migrate_session_class: type[Session],
) -> AsyncIterator[AsyncSession]:
    """An AsyncSession on migrated_async_connection (SQLModel's for SQLModel apps)."""
    kind = async_session_class_for(migrate_session_class)
    mode = "create_savepoint" if migrate_isolation == "transaction" else "conservative_savepoint"
    async with kind(bind=migrated_async_connection, join_transaction_mode=mode) as session:
        yield session


class DatabaseOverride(Protocol):
    def __call__(
        self, app: Any, dependency: Any, *, session_class: type[Any] | None = None
    ) -> None: ...


@pytest.fixture
def override_database(
    request: pytest.FixtureRequest,
    migrations: Migrations,
    migrate_base_url: str,
    migrate_isolation: str,
    migrate_session_class: type[Session],
) -> Iterator[DatabaseOverride]:
    """``override_database(app, get_db)``: the app's database dependency yields a Session (of
    the app's own class, or ``session_class=``) on the test's database until the test ends;
    in transaction mode inside the test's transaction, so the test sees the app's rows and
    the app the test's. An async dependency gets an AsyncSession, on
    migrated_async_connection in transaction mode."""
    overridden: list[tuple[Any, Any, Callable[..., Any]]] = []

    def override(app: Any, dependency: Any, *, session_class: type[Any] | None = None) -> None:
        get_session: Callable[[], Any]
        if inspect.isasyncgenfunction(dependency) or inspect.iscoroutinefunction(dependency):
            get_session = _async_override(
                request, migrate_isolation, migrate_session_class, session_class
            )
        else:
            get_session = _sync_override(
                request, migrate_isolation, migrate_session_class, session_class
            )
        app.dependency_overrides[dependency] = get_session
        overridden.append((app, dependency, get_session))

    try:
        yield override
    finally:
        for app, dependency, get_session in overridden:
            if app.dependency_overrides.get(dependency) is get_session:
                del app.dependency_overrides[dependency]


def _sync_override(
    request: pytest.FixtureRequest,
    isolation: str,
    default: type[Session],
    session_class: type[Session] | None,
) -> Callable[[], Iterator[Session]]:
    kind = session_class or default
    if isolation == "transaction":
        transaction: OuterTransaction = request.getfixturevalue("migrate_transaction")

        def joined() -> Iterator[Session]:
            # Closed after the request, as the app's own dependency would: a SAVEPOINT left
            # open under the test's would be released with the test session's next commit.
            with transaction.session(kind) as session:
                yield session

        return joined
    engine: Engine = request.getfixturevalue("migrated_engine")

    def own() -> Iterator[Session]:
        with kind(engine) as session:
            yield session

    return own


def _async_override(
    request: pytest.FixtureRequest,
    isolation: str,
    default: type[Session],
    session_class: type[AsyncSession] | None,
) -> Callable[[], AsyncIterator[AsyncSession]]:
    kind = session_class or async_session_class_for(default)
    if isolation == "transaction":
        if "migrated_async_connection" not in request.fixturenames:
            fail(
                ConfigError(
                    "override_database for an async dependency shares the test's async "
                    "transaction: ask for migrated_async_connection (or migrated_async_session) "
                    "in the test too, and run it with @pytest.mark.anyio."
                )
            )
        connection: AsyncConnection = request.getfixturevalue("migrated_async_connection")

        async def joined() -> AsyncIterator[AsyncSession]:
            async with kind(bind=connection, join_transaction_mode="create_savepoint") as session:
                yield session

        return joined
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from fastapi_alembic.dialects.engines import make_engine
    from fastapi_alembic.testing.transactions import async_url

    # No pool: each request's connection is closed in the app's own event loop.
    engine = make_engine(
        async_url(make_url(request.getfixturevalue("migrated_url"))), poolclass=NullPool
    )

    async def own() -> AsyncIterator[AsyncSession]:
        async with kind(engine) as session:  # type: ignore[arg-type]
            yield session

    return own

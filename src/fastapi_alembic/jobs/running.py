"""Running this app's env.py: the project importable, a connection handed in, and reading
inside it without changing anything. What every job that touches the database goes through."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InvalidRequestError, MissingGreenlet

from fastapi_alembic import database_pinning
from fastapi_alembic.database_pinning import PIN_KEY, DatabasePin
from fastapi_alembic.db import run_with_connection
from fastapi_alembic.dialects import sqlite
from fastapi_alembic.env import CONNECTION_KEY
from fastapi_alembic.env_runs import env_py_may_move_versions, ini_revision_environment
from fastapi_alembic.errors import ConfigError, DatabaseStateError, MigrationLockTimeout
from fastapi_alembic.gate import head_check as gate
from fastapi_alembic.jobs.common import first_line
from fastapi_alembic.project import running_project_code
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations

T = TypeVar("T")
logger = logging.getLogger(__name__)


@contextmanager
def running_env(migrations: Migrations) -> Iterator[None]:
    """Around every Alembic call that runs env.py: the database checked, the hooks added,
    the project importable, its stdout kept off ours."""
    try:
        with (
            database_pinning.intercepting(),
            running_project_code(migrations.settings.root, migrations.settings.verbose),
        ):
            yield
    except InvalidRequestError as error:
        mismatch = _driver_mismatch(migrations, error)
        if mismatch is None:
            raise
        raise mismatch from None


def _driver_mismatch(migrations: Migrations, error: InvalidRequestError) -> ConfigError | None:
    """An env.py written for async drivers given a sync URL, or the reverse: SQLAlchemy
    raises these two from inside env.py, before anything ran."""
    env_py = migrations.directory / "env.py"
    url = mask_url(migrations.url)
    adopt = "or run `fastapi-alembic adopt` so that env.py uses the connection it is given"
    if isinstance(error, MissingGreenlet):
        return ConfigError(
            f"{env_py} connects with a sync engine, but {url} names an async driver: give the "
            f"URL of a sync one (for example postgresql+psycopg://, mysql+pymysql://, "
            f"sqlite://), {adopt}."
        )
    if "requires an async driver" in str(error):
        return ConfigError(
            f"{env_py} connects with an async engine, but {url} names a sync driver: give the "
            f"URL of an async one (for example postgresql+asyncpg://, mysql+aiomysql://, "
            f"sqlite+aiosqlite://), {adopt}."
        )
    return None


def connected(
    migrations: Migrations,
    config: Config,
    work: Callable[[Connection | None], T],
    *,
    own_transactions: bool = False,
) -> T:
    """Run work with a connection to our database, also handed to env.py in
    config.attributes (as Alembic's cookbook does), when the env.py takes one. An env.py
    that connects by itself (work gets None) is checked when it calls configure.

    A statement the database refuses outside a migration (a user without the right to
    read or write the version table, a read-only database) is one sentence; the
    transaction is rolled back."""
    if not database_pinning.env_py_takes_connection(migrations.directory):
        database_pin = config.attributes.get(PIN_KEY)
        if isinstance(database_pin, DatabasePin):
            database_pin.probe()  # unreachable: one sentence, before env.py runs
        return work(None)

    def with_connection(connection: Connection) -> T:
        config.attributes[CONNECTION_KEY] = connection
        return work(connection)

    try:
        return run_with_connection(
            migrations.url, with_connection, own_transactions=own_transactions
        )
    except DBAPIError as error:
        raise refused(migrations, error) from None


def with_environment(
    migrations: Migrations,
    config: Config,
    script: ScriptDirectory,
    read: Callable[[MigrationContext], T],
) -> T:
    """Run ``read`` inside this app's env.py (so its options apply), changing nothing."""
    results: list[T] = []

    def collect(_heads: Any, migration_context: MigrationContext) -> list[Any]:
        if not results:  # a multi-database env.py runs once per database
            results.append(read(migration_context))
        return []

    with (
        running_env(migrations),
        EnvironmentContext(config, script, fn=collect, as_sql=False, dont_mutate=True),
    ):
        script.run_env()
    if not results:
        raise ConfigError(
            f"{migrations.directory / 'env.py'} ran no migrations: it must call "
            "context.run_migrations(), as every Alembic env.py does."
        )
    return results[0]


def inspect(
    migrations: Migrations,
    read: Callable[[MigrationContext, ScriptDirectory], T],
    connection: Connection | None = None,
    *,
    models: bool = True,
) -> T:
    """Connect, and run ``read`` inside env.py against the database, changing nothing. On
    ``connection`` (the caller's, left as it was found) when given and env.py takes one.
    ``models``: whether ``read`` needs the models (see Migrations.environment_config)."""
    config = migrations.environment_config(models=models)
    script = migrations.script_directory(config)

    def work(_connection: Connection | None) -> T:
        return with_environment(migrations, config, script, lambda context: read(context, script))

    if connection is not None and database_pinning.env_py_takes_connection(migrations.directory):
        config.attributes[CONNECTION_KEY] = connection
        try:
            return gate.read_on(connection, work)
        except DBAPIError as error:
            raise refused(migrations, error) from None
    return connected(migrations, config, work)


@contextmanager
def waiting_for_writers(migrations: Migrations) -> Iterator[None]:
    """A verb that migrates a SQLite database waits for other writers at most lock_wait in
    all: its reads before the migration lock and the lock itself (dialects/sqlite.py)."""
    if migrations.url.get_backend_name() != "sqlite":
        yield
        return
    with sqlite.waiting_for_writers(migrations.settings.lock_wait):
        yield


def writers_wait_over(migrations: Migrations, error: BaseException) -> MigrationLockTimeout | None:
    """The sentence for a SQLite statement that gave up on another writer's lock because the
    verb's lock wait was over; None for any other error."""
    left = sqlite.writers_wait_left()
    # The busy timeout is set in whole milliseconds: "over" within a tenth of a second.
    if left is None or left > 0.1 or "database is locked" not in str(error):
        return None
    return MigrationLockTimeout(
        f"Gave up waiting for the database at {mask_url(migrations.url)} after "
        f"{migrations.settings.lock_wait:g} s: another process holds its write lock (a "
        "migration, or the app in a long transaction); let it finish, then run the command "
        "again, or allow a longer wait with lock_wait."
    )


def refused(migrations: Migrations, error: DBAPIError) -> DatabaseStateError | MigrationLockTimeout:
    wait_over = writers_wait_over(migrations, error)
    if wait_over is not None:
        return wait_over
    return DatabaseStateError(
        f"The database at {mask_url(migrations.url)} refused a statement "
        f"({first_line(error, migrations.url)}): nothing was changed; check that this user "
        "may read and write the alembic_version table."
    )


def fast_head_check(
    migrations: Migrations, connection: Connection | None = None
) -> gate.HeadCheck | str:
    """The gate's static answer, or (said with -v) why only Alembic can answer: among the
    reasons, an env.py that may name revision folders of its own, and files that show no
    revision at all (Alembic then says whether that is so, or files sit where nothing looks)."""
    settings = migrations.settings
    ini = settings.ini or settings.root / "alembic.ini"
    revision_environment = ini_revision_environment(ini, settings.section)
    if env_py_may_move_versions(revision_environment, migrations.directory):
        reason = "env.py may name revision folders of its own (version_locations)"
        logger.info("The revision files are read through Alembic: %s.", reason)
        return reason
    options = gate.alembic_ini_options(migrations.settings.root)
    try:
        answer = gate.fast_head_check(migrations.settings, options, connection)
    except DBAPIError as error:
        raise refused(migrations, error) from None
    if answer is not None and answer.heads:
        return answer
    reason = (
        gate.why_not_static(migrations.settings, options)
        if answer is None
        else "the revision files show no revision"
    )
    logger.info("The revision files are read through Alembic: %s.", reason)
    return reason

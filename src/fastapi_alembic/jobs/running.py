"""Running this app's env.py (inside Workspace.running_env): a connection handed in, and
reading inside it without changing anything. What every job that touches the database goes
through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.database_pinning import PIN_KEY, DatabasePin, env_py_takes_connection
from fastapi_alembic.dialects import sqlite
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.env import CONNECTION_KEY
from fastapi_alembic.errors import ConfigError, DatabaseStateError, MigrationLockTimeout
from fastapi_alembic.gate import head_check as gate
from fastapi_alembic.jobs.common import first_line
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.workspace import Workspace

T = TypeVar("T")


def connected(
    workspace: Workspace,
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
    if not env_py_takes_connection(workspace.directory):
        database_pin = config.attributes.get(PIN_KEY)
        if isinstance(database_pin, DatabasePin):
            database_pin.probe()  # unreachable: one sentence, before env.py runs
        return work(None)

    def with_connection(connection: Connection) -> T:
        config.attributes[CONNECTION_KEY] = connection
        return work(connection)

    try:
        return run_with_connection(
            workspace.url, with_connection, own_transactions=own_transactions
        )
    except DBAPIError as error:
        raise refused(workspace, error) from None


def with_environment(
    workspace: Workspace,
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
        workspace.running_env(),
        EnvironmentContext(config, script, fn=collect, as_sql=False, dont_mutate=True),
    ):
        script.run_env()
    if not results:
        raise ConfigError(
            f"{workspace.directory / 'env.py'} ran no migrations: it must call "
            "context.run_migrations(), as every Alembic env.py does."
        )
    return results[0]


def inspect(
    workspace: Workspace,
    read: Callable[[MigrationContext, ScriptDirectory], T],
    connection: Connection | None = None,
    *,
    models: bool = True,
) -> T:
    """Connect, and run ``read`` inside env.py against the database, changing nothing. On
    ``connection`` (the caller's, left as it was found) when given and env.py takes one.
    ``models``: whether ``read`` needs the models (see Migrations.environment_config)."""
    config = workspace.environment_config(models=models)
    script = workspace.script_directory(config)

    def work(_connection: Connection | None) -> T:
        return with_environment(workspace, config, script, lambda context: read(context, script))

    if connection is not None and env_py_takes_connection(workspace.directory):
        config.attributes[CONNECTION_KEY] = connection
        try:
            return gate.read_on(connection, work)
        except DBAPIError as error:
            raise refused(workspace, error) from None
    return connected(workspace, config, work)


@contextmanager
def waiting_for_writers(workspace: Workspace) -> Iterator[None]:
    """A verb that migrates a SQLite database waits for other writers at most lock_wait in
    all: its reads before the migration lock and the lock itself (dialects/sqlite.py)."""
    if workspace.url.get_backend_name() != "sqlite":
        yield
        return
    with sqlite.waiting_for_writers(workspace.settings.lock_wait):
        yield


def writers_wait_over(workspace: Workspace, error: BaseException) -> MigrationLockTimeout | None:
    """The sentence for a SQLite statement that gave up on another writer's lock because the
    verb's lock wait was over; None for any other error."""
    left = sqlite.writers_wait_left()
    # The busy timeout is set in whole milliseconds: "over" within a tenth of a second.
    if left is None or left > 0.1 or "database is locked" not in str(error):
        return None
    return MigrationLockTimeout(
        f"Gave up waiting for the database at {mask_url(workspace.url)} after "
        f"{workspace.settings.lock_wait:g} s: another process holds its write lock (a "
        "migration, or the app in a long transaction); let it finish, then run the command "
        "again, or allow a longer wait with lock_wait."
    )


def refused(workspace: Workspace, error: DBAPIError) -> DatabaseStateError | MigrationLockTimeout:
    wait_over = writers_wait_over(workspace, error)
    if wait_over is not None:
        return wait_over
    return DatabaseStateError(
        f"The database at {mask_url(workspace.url)} refused a statement "
        f"({first_line(error, workspace.url)}): nothing was changed; check that this user "
        "may read and write the alembic_version table."
    )

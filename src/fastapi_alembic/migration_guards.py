"""The guarantees around ``context.run_migrations()``: the migration lock (with lock timeouts
and retries), the ledger, the data-loss guard, and a revision that tries to end the process.

A generated env.py gets them from ``fastapi_alembic.env.run_migrations``. An env.py of the
project's own (not adopted yet) calls Alembic's ``context.run_migrations()`` itself: while one
of our jobs runs it, that call is intercepted (``guarded_run_migrations``, installed by
database_pinning.intercepting) and gets the same guarantees, so `fastapi-alembic upgrade` and
the start-up gate never race another migrator, whatever the env.py. Plain ``alembic`` runs such
an env.py as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from alembic.runtime.environment import EnvironmentContext

from fastapi_alembic.dialects import for_url
from fastapi_alembic.exits import contained
from fastapi_alembic.revisions import exited_while_running
from fastapi_alembic.runtime import PARTLY_COMMITTED_KEY, run_under_lock
from fastapi_alembic.runtime.data_loss import DATA_LOSS_KEY
from fastapi_alembic.runtime.lock_table import LOCK_TABLE
from fastapi_alembic.runtime.migration_hook import KeptLocks
from fastapi_alembic.runtime.recorder import LedgerRecorder

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from fastapi_alembic.config import Settings

#: Where a job hands env.py its settings.
SETTINGS_KEY = "fastapi_alembic.settings"
#: Set by our env.py, which guards its own runs: the interception then stands aside.
GUARDED_ENV_KEY = "fastapi_alembic.guarded_env"
#: The locks an env.py of one's own holds until it has ended.
KEPT_LOCKS_KEY = "fastapi_alembic.kept_locks"


def run_guarded(
    config: Config,
    script: ScriptDirectory,
    migration_context: MigrationContext,
    settings: Settings,
    run_migrations: Callable[[Callable[[], None]], None],
    *,
    no_retry_reason: str | None = None,
    watch_from_start: bool = True,
    kept: KeptLocks | None = None,
) -> None:
    """Run the migrations under the lock, recorded in the ledger and watched for data loss.

    ``run_migrations(before_commit)`` runs Alembic's migrations and calls ``before_commit()``
    inside their transaction, before it commits (the ledger's kept rows are written then).
    ``no_retry_reason``: why a try that timed out on a lock cannot be run again (env.py holds
    the transaction it would run in). ``watch_from_start``: the data-loss guard watches from
    here; otherwise from the first operation, where an env.py's own engine and transactions
    show whether DDL really runs in a transaction (runtime/data_loss.py). ``kept``: where the
    lock is kept past this run (runtime/migration_hook.py)."""
    connection = migration_context.connection
    assert connection is not None
    recorder = LedgerRecorder(
        connection,
        script,
        settings.ledger_table,
        migration_context.opts.get("version_table_schema"),
    )
    # First among the version's callbacks: the step's row is written before the job reports it.
    callbacks = migration_context.on_version_apply_callbacks
    migration_context.on_version_apply_callbacks = [recorder.on_version_apply, *callbacks]
    transactional = for_url(connection.engine.url).transactional_ddl

    def exited(how: str, error: BaseException) -> str:
        return exited_while_running(
            how,
            error,
            script,
            transactional=transactional,
            partly_committed=recorder.partly_committed,
        )

    data_loss = config.attributes.get(DATA_LOSS_KEY)

    def run() -> None:
        # The data-loss guard first: where it reads the revisions ahead (under the lock,
        # before the first migration), it reads them, not the ledger's wrappers.
        guarding = (
            data_loss.running(migration_context)
            if data_loss and watch_from_start
            else nullcontext()
        )
        with contained(exited), guarding, recorder.recording(migration_context):
            run_migrations(recorder.flush)

    try:
        run_under_lock(
            migration_context,
            settings,
            run,
            config.attributes,
            no_retry_reason=no_retry_reason,
            kept=kept,
        )
    finally:
        migration_context.on_version_apply_callbacks = callbacks
        # A failure's sentence must not say "unchanged" when a block committed a part.
        if recorder.partly_committed is not None:
            config.attributes[PARTLY_COMMITTED_KEY] = recorder.partly_committed


original_run_migrations = EnvironmentContext.run_migrations


def _own_env_settings(attributes: dict[str, Any]) -> Settings | None:
    """The job's settings while it runs an env.py of the project's own; None for our env.py
    (it guards itself) and outside our jobs."""
    if attributes.get(GUARDED_ENV_KEY):
        return None
    settings: Settings | None = attributes.get(SETTINGS_KEY)
    return settings


def foreign_env_options(attributes: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The options an env.py of the project's own gives ``configure`` in one of our jobs, with
    our tables left out of its comparisons (ours leaves them out itself): `make` must never
    write a migration that drops the ledger or the lock."""
    settings = _own_env_settings(attributes)
    if settings is None:
        return options
    return {
        **options,
        "include_name": skipping_our_tables(settings.ledger_table, options.get("include_name")),
    }


def guarded_run_migrations(self: EnvironmentContext, **kw: Any) -> None:
    """``EnvironmentContext.run_migrations`` while our jobs run: an env.py of the project's own
    runs its migrations under our guarantees; ours, plain Alembic and ``--sql`` pass through."""
    attributes = self.config.attributes
    settings = _own_env_settings(attributes)
    migration_context = self.get_context()
    if settings is None or migration_context.as_sql or migration_context.connection is None:
        original_run_migrations(self, **kw)
        return
    enable_our_loggers()
    connection = migration_context.connection
    # env.py began the transaction around this call (its `with context.begin_transaction()`
    # where DDL is transactional, or `with engine.begin()`): a try that timed out on a lock
    # cannot be run again in it, nor may we end it.
    no_retry_reason = (
        "it cannot be tried again inside the transaction this env.py holds around the "
        "migrations (`fastapi-alembic adopt` wires env.py for retries)"
        if connection.in_transaction()
        else None
    )

    def run_migrations(before_commit: Callable[[], None]) -> None:
        original_run_migrations(self, **kw)
        before_commit()

    run_guarded(
        self.config,
        self.script,
        migration_context,
        settings,
        run_migrations,
        no_retry_reason=no_retry_reason,
        watch_from_start=False,
        # Given back once env.py has ended (release_kept_locks), not when this call does.
        kept=attributes.setdefault(KEPT_LOCKS_KEY, KeptLocks()),
    )


def release_kept_locks(attributes: dict[str, Any]) -> None:
    """Once an env.py of one's own has ended: give back the locks its runs kept."""
    kept = attributes.pop(KEPT_LOCKS_KEY, None)
    if isinstance(kept, KeptLocks):
        kept.release()


def enable_our_loggers() -> None:
    """Undo what an env.py's ``fileConfig(alembic.ini)`` did to our loggers.

    Alembic's own templates call it with ``disable_existing_loggers`` left on, which silences
    every logger the ini file does not name: the lock's "waiting for ..." and the retries'
    warnings would vanish while the user waits.
    """
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] == "fastapi_alembic":
            logger.disabled = False


def skipping_our_tables(
    ledger_table: str, include_name: Callable[..., bool] | None
) -> Callable[..., bool]:
    """Autogenerate leaves the ledger and the migration lock's table alone, as it does the
    version table."""

    def include(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "table" and name in (ledger_table, LOCK_TABLE):
            return False
        return include_name(name, type_, parent_names) if include_name else True

    return include

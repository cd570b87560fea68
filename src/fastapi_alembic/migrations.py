"""The Migrations facade: every public method, its signature and its docstring, over a
Workspace (workspace.py) that the jobs (jobs/) receive and work on.

The CLI, the FastAPI integration and the pytest plugin are thin layers over this class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.engine import URL

from fastapi_alembic.config import Settings, load_settings
from fastapi_alembic.errors import MigrationsError
from fastapi_alembic.gate import head_check as gate
from fastapi_alembic.jobs import at_head, bookkeeping, moving, reporting
from fastapi_alembic.jobs.moving import DataLossCallback, StartCallback, StepCallback
from fastapi_alembic.reports import CheckReport, MadeRevision, MoveResult, Status
from fastapi_alembic.revisions import RevisionInfo
from fastapi_alembic.runtime import ledger
from fastapi_alembic.workspace import Workspace

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from fastapi import FastAPI

    from fastapi_alembic.adoption import AdoptionPlan
    from fastapi_alembic.autogen import OperationInfo
    from fastapi_alembic.lint.report import LintReport


class Migrations:
    """Schema migrations for one application and one database.

    >>> migrations = Migrations(metadata=Base.metadata, url="sqlite:///app.db")
    >>> migrations.upgrade()
    >>> migrations.status().up_to_date
    True

    Arguments left out come from the environment (``DATABASE_URL``) and from
    ``[tool.fastapi-alembic]`` in the nearest pyproject.toml.
    """

    def __init__(
        self,
        metadata: MetaData | Any | str | None = None,
        url: str | URL | None = None,
        directory: str | Path | None = None,
        *,
        config: str | Path | None = None,
        root: str | Path | None = None,
        settings: Settings | None = None,
        lock_wait: float | None = None,
        lock_timeout: float | None = None,
        lock_retries: int | None = None,
    ) -> None:
        """``lock_wait``: seconds to wait for another migrator's lock (default 300);
        ``lock_timeout``: seconds a statement waits for a table lock before its migration is
        rolled back and retried (default 5, 0 for no limit); ``lock_retries``: how many
        times (default 3). See docs/production.md."""
        if settings is None:
            settings = load_settings(
                url=url,
                metadata=None if isinstance(metadata, str) else metadata,
                metadata_ref=metadata if isinstance(metadata, str) else None,
                directory=directory,
                config_path=config,
                root=root,
                lock_wait=lock_wait,
                lock_timeout=lock_timeout,
                lock_retries=lock_retries,
            )
        self._workspace = Workspace(settings)

    def __repr__(self) -> str:
        return f"Migrations(url={self.settings.masked_url!r}, directory={str(self.directory)!r})"

    @property
    def settings(self) -> Settings:
        return self._workspace.settings

    @property
    def url(self) -> URL:
        return self._workspace.url

    @property
    def directory(self) -> Path:
        return self._workspace.directory

    def with_url(self, url: str | URL) -> Migrations:
        """The same migrations aimed at another database."""
        return Migrations(settings=self._workspace.with_url(url).settings)

    # -- wiring ---------------------------------------------------------------------------

    def alembic_config(self, *, command: Sequence[str] = ("current",), **hooks: Any) -> Config:
        """An Alembic Config for this app: alembic.ini when there is one, our settings on top.

        ``hooks`` are ``configure`` options (``on_version_apply``,
        ``process_revision_directives``) added whatever the env.py passes; ``command`` the
        Alembic command line env.py sees in ``config.cmd_opts`` (alembic_cli.py).
        """
        return self._workspace.alembic_config(command=command, **hooks)

    def environment_config(
        self, *, models: bool = True, command: Sequence[str] = ("current",), **hooks: Any
    ) -> Config:
        """An Alembic Config for running env.py: the models are imported first, so a wrong
        metadata setting is its own sentence (exit 2) before any file or connection is
        touched, rather than an error raised from inside env.py.

        ``models=False`` for a job that does not compare them (upgrade, downgrade, stamp,
        current): they are not imported, and env.py hands Alembic no models unless it names
        its own."""
        return self._workspace.environment_config(models=models, command=command, **hooks)

    def check_models(self, *, required: bool = True) -> None:
        """Import the models now (a wrong setting is its own sentence). When not
        ``required``: only if a metadata setting was given."""
        self._workspace.check_models(required=required)

    def script_directory(
        self, config: Config | None = None, *, first: bool = False
    ) -> ScriptDirectory:
        """Every migration file loaded and checked, or one clear ScriptError.

        Loaded once while the files stay as they are: a command that asks twice (make, then
        lint of what it wrote) executes each revision file once."""
        return self._workspace.script_directory(config, first=first)

    # -- setting up -----------------------------------------------------------------------

    def init(self, *, force: bool = False) -> list[Path]:
        """Write the migrations folder and alembic.ini, and record the settings in pyproject."""
        from fastapi_alembic.scaffold import write_environment

        return write_environment(self.settings, force=force)

    def adoption(self) -> AdoptionPlan:
        """What wiring this app's existing Alembic env.py for us would change (a diff);
        ``plan.write()`` writes it. Nothing is written here."""
        from fastapi_alembic.adoption import plan_adoption

        try:  # the head becomes the lint baseline: `check` gates what comes after adopting
            heads = tuple(self.script_directory().get_heads())
        except MigrationsError:  # a history Alembic cannot load yet: adopt says what it can
            heads = ()
        return plan_adoption(self.settings, heads)

    # -- reading --------------------------------------------------------------------------

    def current(self) -> tuple[str, ...]:
        """The revisions the database is at (empty before the first upgrade)."""
        return reporting.current(self._workspace)

    def heads(self) -> list[RevisionInfo]:
        return reporting.heads(self._workspace)

    def history(self) -> list[RevisionInfo]:
        """Every revision, newest first."""
        return reporting.history(self._workspace)

    def show(self, revision: str) -> tuple[RevisionInfo, str]:
        """One revision and its file's text."""
        return reporting.show(self._workspace, revision)

    def differences(self) -> list[OperationInfo]:
        """What autogenerate would write now: the models against the database."""
        return reporting.differences(self._workspace)

    def is_up_to_date(self, connection: Connection | None = None) -> bool:
        """Whether the database is at head, answered in milliseconds (see :meth:`head_check`)."""
        return self.head_check(connection).at_head

    def head_check(self, connection: Connection | None = None) -> gate.HeadCheck:
        """Where the database stands against the migration files: at head, behind, or at a
        revision the files do not have. Reads the files' revision ids without executing them
        when it can be sure of them, and asks Alembic otherwise (same answer, slower).
        Raises DatabaseStateError when the ledger shows a migration left half done.

        ``connection``: ask on this SQLAlchemy connection instead of opening one (a
        readiness endpoint borrowing from the app's pool; with an async engine,
        ``await connection.run_sync(migrations.head_check)``). The answer is about that
        connection's database, and the connection is left as it was found: what the gate
        began is rolled back, and inside your transaction it reads in a savepoint."""
        return at_head.head_check(self._workspace, connection)

    def status(self) -> Status:
        """Where the database stands: its revisions against the files' heads, what is
        pending, whether the models match, applied files edited since (the ledger)."""
        return reporting.status(self._workspace)

    # -- writing revisions ----------------------------------------------------------------

    def make(
        self,
        message: str,
        *,
        empty: bool = False,
        renames: Sequence[str] = (),
        ask: Callable[[str], bool] | None = None,
    ) -> MadeRevision:
        """Autogenerate a revision from the models/database difference.

        A column or table that looks renamed is asked about with ``ask`` (a yes/no question),
        or taken from ``renames`` ("users.phone:users.phone_number", "old_table:new_table");
        without either it is written as a drop and an add, with a warning.

        Raises NothingToDo when there is no difference (unless ``empty``), and
        DatabaseStateError when the database is not at head.
        """
        from fastapi_alembic.jobs import authoring  # autogenerate's own modules: make alone

        return authoring.make(self._workspace, message, empty=empty, renames=renames, ask=ask)

    def merge(self, message: str = "merge heads") -> MadeRevision:
        """Join every head into one with a merge revision."""
        from fastapi_alembic.jobs import authoring

        return authoring.merge(self._workspace, message)

    # -- moving the database --------------------------------------------------------------

    def upgrade(
        self,
        target: str = "head",
        *,
        sql: bool = False,
        on_step: StepCallback | None = None,
        accept_data_loss: bool = False,
        on_data_loss: DataLossCallback | None = None,
        guard_data_loss: bool = True,
        on_start: StartCallback | None = None,
    ) -> MoveResult:
        """Apply migrations up to ``target`` (head, a revision, or +N) in one transaction.

        ``on_start`` hears each migration as it is about to run (which, of how many), and
        ``on_step`` each one done (with its time): progress for people and logs.

        Raises DataLossRefused, before anything runs, when a migration would drop a table or
        column with data, or narrow a type over values, unless ``accept_data_loss``; then
        ``on_data_loss`` hears what is deleted (and the backup made first, on SQLite).
        ``guard_data_loss=False`` is for scratch and test databases, where nothing is worth
        keeping: nothing is measured, refused or backed up.

        To head, the start-up gate is asked first: a database already at head returns at once,
        without loading a single migration file.
        """
        return moving.upgrade(
            self._workspace,
            target,
            sql=sql,
            on_step=on_step,
            accept_data_loss=accept_data_loss,
            on_data_loss=on_data_loss,
            guard_data_loss=guard_data_loss,
            on_start=on_start,
        )

    def downgrade(
        self,
        target: str,
        *,
        sql: bool = False,
        on_step: StepCallback | None = None,
        on_data_loss: DataLossCallback | None = None,
        on_start: StartCallback | None = None,
    ) -> MoveResult:
        """Revert migrations down to ``target`` (-N, a revision, or base).

        An undo by nature: it never refuses, but ``on_data_loss`` hears what it will delete
        before it runs. ``on_start`` and ``on_step`` as for :meth:`upgrade`.
        """
        return moving.downgrade(
            self._workspace,
            target,
            sql=sql,
            on_step=on_step,
            on_data_loss=on_data_loss,
            on_start=on_start,
        )

    def stamp(self, revision: str) -> MoveResult:
        """Record ``revision`` as applied without running anything."""
        return moving.stamp(self._workspace, revision)

    # -- checks ---------------------------------------------------------------------------

    def check(
        self,
        *,
        scratch_url: str | URL | None = None,
        no_database: bool = False,
        since: str | None = None,
        since_git: str | None = None,
    ) -> CheckReport:
        """For CI: one head; migrations reproduce the models; the database is at head; what
        is new passes lint.

        A database that cannot be reached fails the "at head" check, unless ``no_database``
        says there is none to check (then the scratch database's server is ``scratch_url``, or
        the configured URL's). Lint gates the revisions not yet applied to the database;
        without one, those after ``since``, those whose files changed since the git ref
        ``since_git``, or those after the ``lint-baseline`` setting (else every revision).
        """
        from fastapi_alembic.jobs import checking

        return checking.check(
            self._workspace,
            scratch_url=scratch_url,
            no_database=no_database,
            since=since,
            since_git=since_git,
        )

    def notes(self) -> tuple[str, ...]:
        """What status and check mention beside their findings."""
        return reporting.notes(self._workspace)

    # -- the ledger -------------------------------------------------------------------------

    def log(self) -> list[ledger.Entry]:
        """The applied-migration ledger, oldest first (empty before the first migration)."""
        return bookkeeping.log(self._workspace)

    def accept_edit(self, revision: str) -> ledger.Entry:
        """Re-record the checksum of an applied revision's edited file (Flyway's repair), or
        record that an applied revision's file was removed on purpose."""
        return bookkeeping.accept_edit(self._workspace, revision)

    def adopt_ledger(self) -> list[ledger.Entry]:
        """Record the applied revisions the ledger has no row for (it was dropped, or the
        database was migrated without FastAPI-Alembic), with their files as they are now."""
        return bookkeeping.adopt_ledger(self._workspace)

    # -- lint -------------------------------------------------------------------------------

    def lint(
        self,
        revisions: Sequence[str] = (),
        *,
        since: str | None = None,
        since_git: str | None = None,
        dialect: str | None = None,
        database: bool = True,
    ) -> LintReport:
        """Check revisions for operations that lose data or lock tables (docs/lint.md).

        Without ``revisions``, every revision (or those after ``since``, or those whose files
        changed since the git ref ``since_git``). With a URL and ``database``, severities
        follow the real tables' sizes and the server's version.
        """
        from fastapi_alembic.lint.runner import lint_project

        return lint_project(
            self._workspace,
            revisions,
            since=since,
            since_git=since_git,
            dialect=dialect,
            database=database,
        )

    # -- FastAPI ----------------------------------------------------------------------------

    def lifespan(
        self, mode: Literal["upgrade", "check"] = "upgrade", *, accept_data_loss: bool = False
    ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
        """A FastAPI lifespan that upgrades (or checks) the database before serving.

        It refuses to start rather than run a migration that deletes data, unless
        ``accept_data_loss``.
        """
        from fastapi_alembic.integrations.fastapi import migration_lifespan

        return migration_lifespan(self, mode=mode, accept_data_loss=accept_data_loss)

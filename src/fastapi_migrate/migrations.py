"""The Migrations facade: owns the settings and does every job over Alembic's public API.

The CLI, the FastAPI integration and the pytest plugin are thin layers over this class.
"""

from __future__ import annotations

import io
import time
from argparse import Namespace
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from alembic import command
from alembic.autogenerate import produce_migrations
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_migrate import environment, scaffold
from fastapi_migrate import revisions as graph
from fastapi_migrate.autogen import OperationInfo, describe_operations
from fastapi_migrate.autogen.defaults import drop_identity_noise
from fastapi_migrate.autogen.directives import MakeDirectives
from fastapi_migrate.config import Settings, alembic_toml_argument, load_settings
from fastapi_migrate.db import run_with_connection
from fastapi_migrate.dialects import DialectSupport, for_url
from fastapi_migrate.env import CONNECTION_KEY, SETTINGS_KEY
from fastapi_migrate.environment import GUARD_KEY, DatabaseGuard, WrongDatabase
from fastapi_migrate.errors import (
    ConfigError,
    DatabaseStateError,
    DatabaseUnreachable,
    MigrationFailed,
    MigrationsError,
    NothingToDo,
    ScriptError,
)
from fastapi_migrate.lint.guard import DataLossGuard, DataLossPlan
from fastapi_migrate.messages import (
    clean_message,
    require_template_can_hold,
    verify_revision_file,
)
from fastapi_migrate.project import our_stdout, running_project_code
from fastapi_migrate.reports import (
    CheckItem,
    CheckReport,
    MadeRevision,
    MoveResult,
    Status,
    StepInfo,
)
from fastapi_migrate.revisions import RevisionInfo
from fastapi_migrate.runtime import HEADS_UNDER_LOCK_KEY, gate, ledger, reading
from fastapi_migrate.urls import mask_text, mask_url, parse_url

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from fastapi import FastAPI

    from fastapi_migrate.adoption import AdoptionPlan
    from fastapi_migrate.lint.report import LintReport

T = TypeVar("T")
StepCallback = Callable[[StepInfo], None]
DataLossCallback = Callable[[DataLossPlan], None]


class Migrations:
    """Schema migrations for one application and one database.

    >>> migrations = Migrations(metadata=Base.metadata, url="sqlite:///app.db")
    >>> migrations.upgrade()
    >>> migrations.status().up_to_date
    True

    Arguments left out come from the environment (``DATABASE_URL``) and from
    ``[tool.fastapi-migrate]`` in the nearest pyproject.toml.
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
        self.settings = settings
        # The last loaded migration files and the folder's state then: reused while unchanged.
        self._loaded: tuple[object, ScriptDirectory] | None = None

    def __repr__(self) -> str:
        return f"Migrations(url={self.settings.masked_url!r}, directory={str(self.directory)!r})"

    @property
    def url(self) -> URL:
        return self.settings.require_url()

    @property
    def directory(self) -> Path:
        return self.settings.directory

    def with_url(self, url: str | URL) -> Migrations:
        """The same migrations aimed at another database."""
        return Migrations(settings=replace(self.settings, url=parse_url(url)))

    # -- wiring ---------------------------------------------------------------------------

    def alembic_config(self, **hooks: Any) -> Config:
        """An Alembic Config for this app: alembic.ini when there is one, our settings on top.

        ``hooks`` are ``configure`` options (``on_version_apply``,
        ``process_revision_directives``) added whatever the env.py passes.
        """
        settings = self.settings
        ini = settings.root / "alembic.ini"
        # Alembic's own chatter ("Generating ...") is replaced by our reports.
        config = Config(
            str(ini) if ini.is_file() else None,
            ini_section=settings.section,
            output_buffer=io.StringIO(),
            stdout=io.StringIO(),
            cmd_opts=Namespace(quiet=True),
            **alembic_toml_argument(settings.root),
        )
        config.set_main_option("script_location", str(self.directory).replace("%", "%%"))
        if not config.get_main_option("path_separator"):
            config.set_main_option("path_separator", "os")
        config.attributes[SETTINGS_KEY] = settings
        if settings.url is not None:
            # For an env.py that builds its engine from the ini, as `alembic init` writes it.
            real = settings.url.render_as_string(hide_password=False)
            config.set_main_option("sqlalchemy.url", real.replace("%", "%%"))
            config.attributes[GUARD_KEY] = DatabaseGuard(
                settings.url,
                self.directory / "env.py",
                hooks,
                metadata=(lambda: settings.metadata) if settings.metadata_ref else None,
            )
        return config

    def environment_config(self, **hooks: Any) -> Config:
        """An Alembic Config for running env.py: the models are imported first, so a wrong
        metadata setting is its own sentence (exit 2) before any file or connection is
        touched, rather than an error raised from inside env.py."""
        self.settings.require_models()
        return self.alembic_config(**hooks)

    def script_directory(self, config: Config | None = None) -> ScriptDirectory:
        """Every migration file loaded and checked, or one clear ScriptError.

        Loaded once while the files stay as they are: a command that asks twice (make, then
        lint of what it wrote) executes each revision file once."""
        config = config or self.alembic_config()
        state = graph.folder_state(self.directory, gate.alembic_ini_options(self.settings.root))
        if state is not None and self._loaded is not None and self._loaded[0] == state:
            return graph.share(config, self._loaded[1])
        script = graph.load_script_directory(config, self.directory)
        self._loaded = (state, script) if state is not None else None
        return script

    def _remember_written(self, script: ScriptDirectory) -> None:
        """Alembic adds a revision it writes to the loaded map: the map is still the folder's."""
        state = graph.folder_state(self.directory, gate.alembic_ini_options(self.settings.root))
        self._loaded = (state, script) if state is not None else None

    @contextmanager
    def _running_env(self) -> Iterator[None]:
        """Around every Alembic call that runs env.py: the database checked, the hooks added,
        the project importable, its stdout kept off ours."""
        with (
            environment.intercepting(),
            running_project_code(self.settings.root, self.settings.verbose),
        ):
            yield

    def _connected(
        self,
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
        if not environment.env_py_takes_connection(self.directory):
            database_guard = config.attributes.get(GUARD_KEY)
            if isinstance(database_guard, DatabaseGuard):
                database_guard.probe()  # unreachable: one sentence, before env.py runs
            return work(None)

        def with_connection(connection: Connection) -> T:
            config.attributes[CONNECTION_KEY] = connection
            return work(connection)

        try:
            return run_with_connection(self.url, with_connection, own_transactions=own_transactions)
        except DBAPIError as error:
            raise self._refused(error) from None

    def _with_environment(
        self, config: Config, script: ScriptDirectory, read: Callable[[MigrationContext], T]
    ) -> T:
        """Run ``read`` inside this app's env.py (so its options apply), changing nothing."""
        results: list[T] = []

        def collect(_heads: Any, migration_context: MigrationContext) -> list[Any]:
            if not results:  # a multi-database env.py runs once per database
                results.append(read(migration_context))
            return []

        with (
            self._running_env(),
            EnvironmentContext(config, script, fn=collect, as_sql=False, dont_mutate=True),
        ):
            script.run_env()
        if not results:
            raise ConfigError(
                f"{self.directory / 'env.py'} ran no migrations: it must call "
                "context.run_migrations(), as every Alembic env.py does."
            )
        return results[0]

    def _inspect(self, read: Callable[[MigrationContext, ScriptDirectory], T]) -> T:
        """Connect, and run ``read`` inside env.py against the database, changing nothing."""
        config = self.environment_config()
        script = self.script_directory(config)
        return self._connected(
            config,
            lambda _connection: self._with_environment(
                config, script, lambda context: read(context, script)
            ),
        )

    def _refused(self, error: DBAPIError) -> DatabaseStateError:
        return DatabaseStateError(
            f"The database at {mask_url(self.url)} refused a statement "
            f"({_first_line(error, self.url)}): nothing was changed; check that this user "
            "may read and write the alembic_version table."
        )

    # -- setting up -----------------------------------------------------------------------

    def init(self, *, force: bool = False) -> list[Path]:
        """Write the migrations folder and alembic.ini, and record the settings in pyproject."""
        return scaffold.write_environment(self.settings, force=force)

    def adoption(self) -> AdoptionPlan:
        """What wiring this app's existing Alembic env.py for us would change (a diff);
        ``plan.write()`` writes it. Nothing is written here."""
        from fastapi_migrate.adoption import plan_adoption

        return plan_adoption(self.settings)

    # -- reading --------------------------------------------------------------------------

    def current(self) -> tuple[str, ...]:
        """The revisions the database is at (empty before the first upgrade)."""
        return self._inspect(lambda context, _script: _current_heads(context))

    def heads(self) -> list[RevisionInfo]:
        script = self.script_directory()
        return [
            RevisionInfo.of(s) for s in script.get_revisions(script.get_heads()) if s is not None
        ]

    def history(self) -> list[RevisionInfo]:
        """Every revision, newest first."""
        return [RevisionInfo.of(s) for s in self.script_directory().walk_revisions()]

    def show(self, revision: str) -> tuple[RevisionInfo, str]:
        """One revision and its file's text."""
        script = self.script_directory()
        found = _resolve(script, revision)
        return RevisionInfo.of(found), Path(found.path).read_text(encoding="utf-8")

    def differences(self) -> list[OperationInfo]:
        """What autogenerate would write now: the models against the database."""
        return self._inspect(lambda context, _script: _compare(context))

    def is_up_to_date(self) -> bool:
        """Whether the database is at head, answered in milliseconds (see :meth:`head_check`)."""
        return self.head_check().at_head

    def head_check(self) -> gate.HeadCheck:
        """Where the database stands against the migration files: at head, behind, or at a
        revision the files do not have. Reads the files' revision ids without executing them
        when it can be sure of them, and asks Alembic otherwise (same answer, slower).
        Raises DatabaseStateError when the ledger shows a migration left half done."""
        fast = self._fast_head_check()
        if fast is not None:
            return fast
        return self._inspect(
            lambda context, script: reading.head_check(self.settings, context, script)
        )

    def _fast_head_check(self) -> gate.HeadCheck | None:
        try:
            return gate.fast_head_check(self.settings, gate.alembic_ini_options(self.settings.root))
        except DBAPIError as error:
            raise self._refused(error) from None

    def status(self) -> Status:
        def inspect(migration_context: MigrationContext, script: ScriptDirectory) -> Status:
            reading.refuse_interrupted(self.settings, migration_context)
            current = _current_heads(migration_context)
            graph.require_known(script, current)
            differences = _compare(migration_context)
            return Status(
                url=mask_url(self.url),
                current=current,
                heads=tuple(script.get_heads()),
                pending=tuple(RevisionInfo.of(s) for s in graph.pending(script, current)),
                models_match=not differences,
                differences=tuple(differences),
                drift=tuple(reading.drift(self.settings, migration_context, script)),
                notes=self.notes(),
            )

        return self._inspect(inspect)

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
        message = clean_message(message)
        if not message.strip():
            raise ScriptError(
                'A revision needs a message, for example: make "add users.phone_number".'
            )
        require_template_can_hold(self.directory / "script.py.mako", message)
        keep_or_drop = MakeDirectives(renames, ask)
        config = self.environment_config(process_revision_directives=keep_or_drop)
        script = self.script_directory(config)
        graph.require_single_head(script)
        if empty:
            with self._running_env():
                written = command.revision(config, message=message)
        else:

            def work(_connection: Connection | None) -> Any:
                try:
                    with self._running_env():
                        return command.revision(config, message=message, autogenerate=True)
                except CommandError:
                    # Alembic refuses a database that is not at head; say why in our words.
                    # (Asked only on failure: one run of env.py less for every make.)
                    current = self._with_environment(config, script, _current_heads)
                    graph.require_known(script, current)
                    if set(current) != set(script.get_heads()):
                        behind = len(graph.pending(script, current))
                        raise DatabaseStateError(
                            f"The database at {mask_url(self.url)} is {behind} revision(s) "
                            "behind head: run `fastapi-migrate upgrade` first, so the new "
                            "revision is made against the latest schema."
                        ) from None
                    raise

            written = self._connected(config, work)
        if isinstance(written, Script):
            self._remember_written(script)
        if not isinstance(written, Script):
            raise NothingToDo(
                "The models match the database: no revision was written. "
                "Use --empty for a hand-written (data) migration."
            )
        self._verify_written(written, message)
        return MadeRevision(
            written.revision,
            message,
            written.path,
            tuple(keep_or_drop.operations),
            tuple(keep_or_drop.warnings),
        )

    def merge(self, message: str = "merge heads") -> MadeRevision:
        """Join every head into one with a merge revision."""
        message = clean_message(message)
        require_template_can_hold(self.directory / "script.py.mako", message)
        config = self.alembic_config()
        script = self.script_directory(config)
        heads = script.get_heads()
        if len(heads) < 2:
            raise NothingToDo("There is only one head: there is nothing to merge.")
        with self._running_env():
            written = command.merge(config, revisions="heads", message=message)
        if written is not None:
            self._remember_written(script)
        if written is None:  # pragma: no cover - Alembic returns the script it wrote
            raise NothingToDo("Alembic wrote no merge revision.")
        self._verify_written(written, message)
        return MadeRevision(written.revision, message, written.path)

    def _verify_written(self, written: Script, message: str) -> None:
        verify_revision_file(Path(written.path), message, self.directory / "script.py.mako")

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
    ) -> MoveResult:
        """Apply migrations up to ``target`` (head, a revision, or +N) in one transaction.

        Raises DataLossRefused, before anything runs, when a migration would drop a table or
        column with data, or narrow a type over values, unless ``accept_data_loss``; then
        ``on_data_loss`` hears what is deleted (and the backup made first, on SQLite).
        ``guard_data_loss=False`` is for scratch and test databases, where nothing is worth
        keeping: nothing is measured, refused or backed up.

        To head, the start-up gate is asked first: a database already at head returns at once,
        without loading a single migration file.
        """
        if target in ("head", "heads") and not sql:
            self.settings.require_models()  # a wrong setting is an error even at head
            fast = self._fast_head_check()
            if fast is not None and fast.at_head and (target == "heads" or len(fast.heads) <= 1):
                return MoveResult(fast.current, fast.current)
        guard = DataLossGuard("upgrade", accept_data_loss, on_data_loss)
        return self._move(
            "upgrade", target, sql=sql, on_step=on_step, guard=guard if guard_data_loss else None
        )

    def downgrade(
        self,
        target: str,
        *,
        sql: bool = False,
        on_step: StepCallback | None = None,
        on_data_loss: DataLossCallback | None = None,
    ) -> MoveResult:
        """Revert migrations down to ``target`` (-N, a revision, or base).

        An undo by nature: it never refuses, but ``on_data_loss`` hears what it will delete
        before it runs.
        """
        # Only measured when someone listens: a downgrade never refuses.
        guard = DataLossGuard("downgrade", True, on_data_loss) if on_data_loss else None
        return self._move("downgrade", target, sql=sql, on_step=on_step, guard=guard)

    def stamp(self, revision: str) -> MoveResult:
        """Record ``revision`` as applied without running anything."""
        config = self.environment_config()
        script = self.script_directory(config)
        if revision not in ("base", "heads"):
            _resolve(script, revision)

        def work(connection: Connection | None) -> MoveResult:
            before = self._with_environment(config, script, _current_heads)
            if connection is not None:
                connection.commit()  # Alembic's context begins the stamp's own transaction
            try:
                with self._running_env():
                    command.stamp(config, revision, purge=True)
            except (CommandError, RevisionError) as error:
                raise ScriptError(f"Cannot stamp {revision!r}: {str(error).rstrip('.')}.") from None
            except DBAPIError as error:  # a read-only database, or a user without the right
                raise DatabaseStateError(
                    f"The database at {mask_url(self.url)} refused to record revision "
                    f"{revision!r} ({_first_line(error, self.url)}): it is unchanged; stamp "
                    "with a user that may write the alembic_version table."
                ) from None
            before = config.attributes.get(HEADS_UNDER_LOCK_KEY, before)
            return MoveResult(before, self._with_environment(config, script, _current_heads))

        return self._connected(config, work, own_transactions=True)

    def _move(
        self,
        direction: Literal["upgrade", "downgrade"],
        target: str,
        *,
        sql: bool,
        on_step: StepCallback | None,
        guard: DataLossGuard | None = None,
    ) -> MoveResult:
        timer = _StepTimer(on_step)
        config = self.environment_config(on_version_apply=timer)
        script = self.script_directory(config)
        graph.require_target(script, target, direction)
        if direction == "upgrade" and (target == "head" or target.startswith("+")):
            graph.require_single_head(script)
        if sql:
            return self._offline(direction, target, config, script)
        run = command.upgrade if direction == "upgrade" else command.downgrade

        def work(connection: Connection | None) -> MoveResult:
            before = self._with_environment(config, script, _current_heads)
            graph.require_known(script, before)
            if guard is not None:
                if connection is not None:
                    guard(connection, script, before, target)
                else:  # env.py connects by itself: look with a connection of our own
                    run_with_connection(self.url, lambda own: guard(own, script, before, target))
            if connection is not None:
                # Alembic's context begins the transactions (autocommit_block needs it to).
                connection.commit()
            timer.start()
            try:
                with self._running_env():
                    run(config, target)
            except MigrationsError:
                raise
            except Exception as error:
                raise self._explain_failure(error, direction, target, script) from None
            # Where the database was once the lock was ours: another migrator may have moved it.
            before = config.attributes.get(HEADS_UNDER_LOCK_KEY, before)
            after = self._with_environment(config, script, _current_heads)
            return MoveResult(before, after, tuple(timer.steps))

        return self._connected(config, work, own_transactions=True)

    def _offline(
        self, direction: str, target: str, config: Config, script: ScriptDirectory
    ) -> MoveResult:
        """Write the SQL instead of running it. Without FROM:TO, start where the database is."""
        if ":" in target:
            start, _, end = target.partition(":")
            current: tuple[str, ...] = () if start == "base" else (start,)
        else:
            try:
                current = self.current()
            except DatabaseUnreachable as error:
                raise DatabaseUnreachable(
                    f"{error} Or give the range yourself, for example `--sql base:head`."
                ) from None
            graph.require_known(script, current)
            start, end = (current[0] if current else "base"), target
            if len(current) > 1:
                raise ScriptError("The database is at several heads: give the range as FROM:TO.")
        if graph.steps_between(script, direction, start, end) == 0:
            # Alembic would print an empty BEGIN; COMMIT; say there is nothing instead.
            return MoveResult(current, current, sql="")
        run = command.upgrade if direction == "upgrade" else command.downgrade
        try:
            with self._running_env():
                run(config, f"{start}:{end}", sql=True)
        except MigrationsError:
            raise
        except (CommandError, RevisionError) as error:
            raise ScriptError(
                f"Cannot write the SQL to {direction} to {target!r}: {str(error).rstrip('.')}."
            ) from None
        except Exception as error:  # a migration's own code raised while writing its SQL
            culprit = graph.failing_revision(error, script)
            what = f"Migration {culprit.revision}" if culprit else f"The {direction}"
            raise MigrationFailed(
                f"{what} failed with {type(error).__name__} while writing its SQL: "
                f"{_first_line(error, self.url)}; nothing was run on the database."
            ) from None
        buffer = config.output_buffer
        text = buffer.getvalue() if isinstance(buffer, io.StringIO) else ""
        return MoveResult(current, (end,), sql=text)

    def _explain_failure(
        self, error: Exception, direction: str, target: str, script: ScriptDirectory
    ) -> MigrationsError:
        culprit = graph.failing_revision(error, script)
        if culprit is None and isinstance(error, CommandError | RevisionError):
            return ScriptError(f"Cannot {direction} to {target!r}: {str(error).rstrip('.')}.")
        original = getattr(error, "orig", None) or error
        reason = mask_text(
            (str(original).strip().splitlines() or [type(original).__name__])[0], self.url.password
        )
        what = (
            f"Migration {culprit.revision} ({(culprit.doc or '').strip()})"
            if culprit
            else f"The {direction}"
        )
        if for_url(self.url).transactional_ddl:
            outcome = f"the whole {direction} was rolled back and the database is unchanged."
        else:
            outcome = (
                "this database commits DDL as it goes, so the migrations before it stay applied "
                "and it may be partly applied: check the schema before you retry."
            )
        return MigrationFailed(f"{what} failed with {type(original).__name__}: {reason}; {outcome}")

    # -- checks ---------------------------------------------------------------------------

    def check(
        self, *, scratch_url: str | URL | None = None, no_database: bool = False
    ) -> CheckReport:
        """For CI: one head; migrations reproduce the models; the database is at head.

        A database that cannot be reached fails the last check, unless ``no_database`` says
        there is none to check (then the scratch database's server is ``scratch_url``, or the
        configured URL's).
        """
        script = self.script_directory(self.environment_config())
        heads = tuple(script.get_heads())
        items = [
            CheckItem(
                "one head",
                len(heads) == 1,
                f"head is {heads[0]}"
                if len(heads) == 1
                else "there are no migrations yet"
                if not heads
                else f"{len(heads)} heads ({', '.join(sorted(heads))}): run `fastapi-migrate merge`",
            )
        ]
        items.append(self._check_models(scratch_url))
        if no_database:
            items.append(CheckItem("database at head", True, "skipped: --no-database"))
        else:
            items.append(self._check_database_at_head(script, heads))
        items.append(self._check_lint(database=not no_database))
        items.extend(self._check_applied_files(no_database=no_database))
        return CheckReport(tuple(items), notes=self.notes())

    def notes(self) -> tuple[str, ...]:
        """What status and check mention beside their findings."""
        from fastapi_migrate.adoption import is_wired

        env_py = self.directory / "env.py"
        if is_wired(env_py) or not env_py.is_file():
            return ()
        return (
            f"{self.directory / 'env.py'} is not wired for FastAPI-Migrate: run "
            "`fastapi-migrate adopt` to wire it, keeping its options.",
        )

    def _check_lint(self, *, database: bool) -> CheckItem:
        try:
            report = self.lint(database=database)
        except DatabaseUnreachable:  # said by "database at head"; lint without the sizes
            report = self.lint(database=False)
        except MigrationsError as error:
            return CheckItem("migrations pass lint", False, str(error))
        detail = report.summary()
        if report.errors:
            first = report.errors[0]
            detail += (
                f"; first: {first.revision} {first.rule}: {first.message}. "
                "Run `fastapi-migrate lint` for the safe way to write each"
            )
        return CheckItem("migrations pass lint", report.ok, detail)

    def _check_applied_files(self, *, no_database: bool = False) -> list[CheckItem]:
        """One failed item per applied migration file edited or removed (from the ledger)."""
        name = "applied migrations unchanged"
        if no_database:
            return [CheckItem(name, True, "skipped: --no-database")]
        if for_url(self.url).absent(self.url):  # "database at head" says so; create nothing
            return [CheckItem(name, True, f"skipped: {mask_url(self.url)} does not exist")]
        try:

            def read(context: MigrationContext, script: ScriptDirectory) -> list[Any]:
                # A revision the files lack is its own sentence, not a lookup error.
                graph.require_known(script, _current_heads(context))
                return reading.drift(self.settings, context, script)

            found = self._inspect(read)
        except DatabaseUnreachable:
            return [CheckItem(name, True, f"skipped: {mask_url(self.url)} is not reachable")]
        except MigrationsError as error:
            return [CheckItem(name, False, str(error))]
        if found:
            return [CheckItem(name, False, d.sentence) for d in found]
        return [CheckItem(name, True, "no applied migration file was edited or removed")]

    # -- the ledger -------------------------------------------------------------------------

    def log(self) -> list[ledger.Entry]:
        """The applied-migration ledger, oldest first (empty before the first migration)."""
        return self._inspect(lambda context, _script: reading.entries(self.settings, context))

    def accept_edit(self, revision: str) -> ledger.Entry:
        """Re-record the checksum of an applied revision's edited file (Flyway's repair), or
        record that an applied revision's file was removed on purpose."""
        return self._inspect(
            lambda context, script: reading.accept(self.settings, context, script, revision)
        )

    def _check_models(self, scratch_url: str | URL | None) -> CheckItem:
        name = "migrations match the models"
        base = parse_url(scratch_url) if scratch_url else self.url
        dialect = for_url(base)
        # SQLite scratch files go to the temporary folder, never beside (or into a mistyped
        # folder of) the app's database, and carry none of its URI options.
        server = dialect.scratch_server(base)
        try:
            scratch_db = dialect.create_database(server, dialect.scratch_name("check"))
        except (DBAPIError, OSError) as error:
            hint = dialect.template_store(server).privilege_hint
            raise DatabaseUnreachable(
                f"Cannot create the scratch database for `check` on {mask_url(server)} "
                f"({_first_line(error, server)}): {hint}, or pass --scratch-url with a server "
                "where it may create databases."
            ) from None
        try:
            scratch = self.with_url(scratch_db)
            try:
                scratch.upgrade("heads", guard_data_loss=False)
            except WrongDatabase:
                raise  # not a finding about the migrations: the env.py must be fixed first
            except MigrationsError as error:
                return CheckItem(name, False, f"upgrading a scratch database failed: {error}")
            differences = scratch.differences()
        finally:
            _drop_scratch(dialect, scratch_db)
        if differences:
            listed = "; ".join(d.description for d in differences)
            return CheckItem(
                name,
                False,
                f"a database migrated to head differs from the models: {listed}. "
                'Run `fastapi-migrate make "..."` to write the missing migration.',
            )
        return CheckItem(name, True, "a database migrated to head matches the models")

    def _check_database_at_head(self, script: ScriptDirectory, heads: tuple[str, ...]) -> CheckItem:
        name = "database at head"
        absent = for_url(self.url).absent(self.url)
        try:
            if absent:  # never create a database just by looking at it
                raise DatabaseUnreachable(absent)
            current = self.current()
        except DatabaseUnreachable as error:
            return CheckItem(
                name,
                False,
                f"{str(error).rstrip('.')}; pass --no-database if this check runs without one",
            )
        except DatabaseStateError as error:
            return CheckItem(name, False, str(error))
        if set(current) == set(heads):
            return CheckItem(name, True, f"{mask_url(self.url)} is at head")
        try:
            graph.require_known(script, current)
        except DatabaseStateError as error:
            return CheckItem(name, False, str(error))
        behind = len(graph.pending(script, current))
        return CheckItem(
            name,
            False,
            f"{mask_url(self.url)} is {behind} revision(s) behind head: run `fastapi-migrate upgrade`",
        )

    # -- lint -------------------------------------------------------------------------------

    def lint(
        self,
        revisions: Sequence[str] = (),
        *,
        since: str | None = None,
        dialect: str | None = None,
        database: bool = True,
    ) -> LintReport:
        """Check revisions for operations that lose data or lock tables (docs/lint.md).

        Without ``revisions``, every revision (or those after ``since``). With a URL and
        ``database``, severities follow the real tables' sizes and the server's version.
        """
        from fastapi_migrate.lint.runner import lint_project

        return lint_project(self, revisions, since=since, dialect=dialect, database=database)

    # -- FastAPI ----------------------------------------------------------------------------

    def lifespan(
        self, mode: Literal["upgrade", "check"] = "upgrade", *, accept_data_loss: bool = False
    ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
        """A FastAPI lifespan that upgrades (or checks) the database before serving.

        It refuses to start rather than run a migration that deletes data, unless
        ``accept_data_loss``.
        """
        from fastapi_migrate.fastapi import migration_lifespan

        return migration_lifespan(self, mode=mode, accept_data_loss=accept_data_loss)


def _current_heads(migration_context: MigrationContext) -> tuple[str, ...]:
    return tuple(migration_context.get_current_heads())


def _compare(migration_context: MigrationContext) -> list[OperationInfo]:
    metadata = migration_context.opts["target_metadata"]
    upgrade_ops_list = produce_migrations(migration_context, metadata).upgrade_ops_list
    for container in upgrade_ops_list:
        drop_identity_noise(container, migration_context.dialect)
    return describe_operations(upgrade_ops_list)


def _drop_scratch(dialect: DialectSupport, url: URL) -> None:
    """Remove a scratch database; if the server will not, say which one is left behind."""
    try:
        dialect.drop_database(url)
    except (DBAPIError, OSError) as error:
        raise DatabaseStateError(
            f"The scratch database {mask_url(url)} could not be removed "
            f"({_first_line(error, url)}): drop it by hand."
        ) from None


def _first_line(error: BaseException, url: URL) -> str:
    """The driver's own first line for ``error``, masked, without a final period."""
    original = getattr(error, "orig", None) or error
    line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return mask_text(line, url.password).rstrip(".")


def _resolve(script: ScriptDirectory, revision: str) -> Script:
    found = graph.resolve_revision(script, revision)
    if found is None:
        raise ScriptError(f"{revision!r} is the base, which has no migration file.")
    return found


class _StepTimer:
    """Alembic's on_version_apply hook, turned into timed steps."""

    def __init__(self, on_step: StepCallback | None) -> None:
        self.on_step = on_step
        self.steps: list[StepInfo] = []
        self._last = time.perf_counter()

    def start(self) -> None:
        self.steps.clear()
        self._last = time.perf_counter()

    def __call__(self, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        if step.is_stamp:
            return
        revision = step.up_revision
        info = StepInfo(
            revision=step.up_revision_id or "",
            message=((revision.doc if revision is not None else "") or "").strip(),
            direction="up" if step.is_upgrade else "down",
            seconds=seconds,
        )
        # A try rolled back after a lock timeout ran this step already: keep the last run.
        self.steps = [
            s for s in self.steps if (s.revision, s.direction) != (info.revision, info.direction)
        ]
        self.steps.append(info)
        if self.on_step is not None:
            with our_stdout():
                self.on_step(info)

"""One run of migrations under the data-loss guard, seen operation by operation.

Each Alembic operation (and each statement a revision runs itself through the bind) is turned
into lint's actions just before it runs; the ones that can lose data are measured on the
migration's own connection (data_loss_counts.py) and handed to the guard (data_loss.py),
which refuses or accepts. Where DDL is not transactional the revisions are also read ahead.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from alembic.operations import BatchOperations
from alembic.operations.base import AbstractOperations
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, event

from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import DatabaseStateError, DataLossRefused, RevisionExited
from fastapi_alembic.lint.facts import backend_of
from fastapi_alembic.lint.model import Action, Kind
from fastapi_alembic.lint.operations import statement_text, to_actions
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from fastapi_alembic.lint.types import TypeFacts
    from fastapi_alembic.runtime.data_loss_counts import Loss, Meter, Names

#: The comment by which a revision keeps its upgrade() from being run ahead to be read.
NO_PRE_READ = re.compile(r"#\s*fastapi-alembic:\s*no-pre-read\b", re.IGNORECASE)
# Raw SQL that can lose data, or rename and create what the guard follows: anything else is
# not parsed at all (the parser costs a quarter of a second to load).
_WORTH_PARSING = re.compile(
    r"^\s*(?:DROP|DELETE|TRUNCATE|ALTER|CREATE\s+(?:TABLE|TYPE))\b", re.IGNORECASE
)
#: Alembic's own dispatch, kept before the guard replaces it while a command runs.
original_invoke = AbstractOperations.invoke


class Guard(Protocol):
    """What a watch needs of the guard (data_loss.py's DataLossGuard)."""

    direction: Literal["upgrade", "downgrade"]
    accept: bool
    script: ScriptDirectory | None
    target: str | None

    def found(self, loss: Loss, watch: Watch) -> None: ...


def planned(
    script: ScriptDirectory,
    current: tuple[str, ...],
    direction: Literal["upgrade", "downgrade"],
    target: str,
) -> list[Script]:
    """The revisions an upgrade or downgrade to ``target`` runs, in the order it runs them.

    Alembic's own resolution, so relative targets (+2, -1, ae10-1) mean what they mean when
    it runs; a target it cannot resolve plans nothing here and fails there, with its message.
    """
    try:
        if direction == "upgrade":
            found = script.iterate_revisions(target, current, implicit_base=True)
            return list(reversed([s for s in found if s is not None]))
        found = script.iterate_revisions(current, target, select_for_downgrade=True)
        return [s for s in found if s is not None]
    except (CommandError, RevisionError):
        return []


def reads_only(migration_context: MigrationContext) -> bool:
    opts = migration_context.opts
    return bool(
        migration_context.as_sql
        or migration_context.connection is None
        or opts.get("dont_mutate")
        or opts.get("revision_context")
    )


class Watch:
    """One try of one migration run, seen operation by operation."""

    def __init__(self, guard: Guard, migration_context: MigrationContext) -> None:
        from fastapi_alembic.runtime.data_loss_counts import Names

        connection = migration_context.connection
        assert connection is not None
        self.guard = guard
        self.context = migration_context
        self.connection: Connection = connection
        self.url = connection.engine.url
        self.backend = backend_of(self.url) or "postgresql"
        self.transactional = for_url(self.url).transactional_ddl
        self.names: Names = Names()
        self.created_types: dict[str, TypeFacts] = {}
        self.losses: list[Loss] = []
        self.inside = 0  # in an operation: its own statements are not the revision's
        self.committed = False  # part of this run is committed (autocommit_block, a driver)
        self.operations = 0
        self._meter: Meter | None = None
        self._paths: dict[str, Script | None] = {}
        event.listen(connection, "before_cursor_execute", self._statement)
        event.listen(connection, "commit", self._commit)

    def close(self) -> None:
        for name, listener in (
            ("before_cursor_execute", self._statement),
            ("commit", self._commit),
        ):
            if event.contains(self.connection, name, listener):
                event.remove(self.connection, name, listener)

    def _commit(self, _connection: Any) -> None:
        self.committed = True

    def in_transaction(self) -> bool:
        """Whether the statements run now can still be rolled back: a transaction is open,
        not in autocommit, and (SQLite) the driver really opened one (Python's sqlite3 runs
        DDL outside any transaction unless told otherwise, as FastAPI-Alembic's engine is)."""
        connection = self.context.connection or self.connection
        if not connection.in_transaction() or _autocommitting(self.context):
            return False
        if self.backend != "sqlite":
            return True
        driver = connection.connection.dbapi_connection
        known = getattr(driver, "in_transaction", None)
        if isinstance(known, bool):
            return known
        # A driver that does not say (aiosqlite's adapter): only with sqlite3's implicit
        # transactions off (isolation_level None, as FastAPI-Alembic's engine sets it, with an
        # explicit BEGIN) does DDL run inside the transaction.
        return getattr(driver, "isolation_level", "") is None

    @property
    def meter(self) -> Meter:
        if self._meter is None:
            from fastapi_alembic.runtime.data_loss_counts import Meter

            self._meter = Meter(self.connection, self.backend)
        return self._meter

    # -- operations and statements --------------------------------------------------------

    def invoke(self, operations: AbstractOperations, operation: Any) -> Any:
        actions = self._actions(operation)
        pending = _batch_renames(operations)
        for action in actions:
            self._check(action, pending)
        if not self.in_transaction():
            # What ran before is committed by now (entering autocommit_block() commits it).
            self.committed = self.committed or self.operations > 0 or _autocommitting(self.context)
        self.operations += 1
        self.inside += 1
        try:
            result = original_invoke(operations, operation)
        finally:
            self.inside -= 1
        for action in actions:
            if pending is not None and action.kind is Kind.ALTER_COLUMN and action.new_name:
                # Batch operations run when the batch ends: until then the old name holds.
                pending[action.new_name] = pending.pop(action.column or "", action.column or "")
            self.names.see(action)
        return result

    def _actions(self, operation: Any) -> list[Action]:
        from alembic.operations import ops

        # What only adds loses nothing: its names are all the watch needs (dropped later in the
        # same upgrade, they held no rows of before), read without lint's facts of its types.
        if type(operation) is ops.AddColumnOp:
            column = operation.column.name
            return [Action(Kind.ADD_COLUMN, operation.table_name, column, operation.schema)]
        if type(operation) is ops.CreateTableOp:
            return [Action(Kind.CREATE_TABLE, operation.table_name, schema=operation.schema)]
        if isinstance(operation, ops.ExecuteSQLOp):
            try:
                sql = statement_text(operation.sqltext, self.context.dialect)
            except Exception:
                return []
            return self._read_sql(sql)
        try:
            return to_actions(operation, self.backend)
        except Exception:  # an operation of a plugin's we cannot describe: it loses nothing we know
            return []

    def _read_sql(self, sql: str) -> list[Action]:
        if not _WORTH_PARSING.match(sql):
            return []
        from fastapi_alembic.lint.sql import read_sql
        from fastapi_alembic.runtime.data_loss_counts import created_enum

        self.created_types.update(created_enum(sql))  # whether or not the parser reads it

        return [a for a in read_sql(sql, self.backend) if a.kind is not Kind.UNPARSED_SQL]

    def _statement(
        self, _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        """A statement the revision runs itself (``op.get_bind().execute``, a Session)."""
        if self.inside or not _WORTH_PARSING.match(statement) or not _from_revision_code():
            return
        for action in self._read_sql(statement):
            self._check(action, None)
            self.names.see(action)

    def _check(self, action: Action, pending: dict[str, str] | None) -> None:
        from fastapi_alembic.runtime.data_loss_counts import (
            created_enum,
            may_lose,
            with_created_type,
        )

        self.created_types.update(created_enum(action.sql))
        if not may_lose(action):
            return
        action = with_created_type(action, self.created_types)
        key = (action.schema, action.table or "")
        origin = self.names.table_origin(key)
        column = action.column
        column_origin = self.names.column_origin(key, column) if column else None
        if origin is None or (column and column_origin is None):
            return  # made by this upgrade: nothing that was there before is lost
        in_database = pending.get(column, column) if pending is not None and column else column
        renamed = _renamed_from(key, origin, column, column_origin)
        loss = self.meter.measure(action, key, in_database, self._revision(), renamed)
        if loss is not None and loss.count:
            self.guard.found(loss, self)

    # -- where, and what a refusal leaves ---------------------------------------------------

    def _revision(self) -> str:
        """The revision whose code is running now, from the call stack."""
        script = self.guard.script or self.context.opts.get("script")
        if script is None:
            return "?"
        if not self._paths:
            self._paths = {str(Path(s.path).resolve()): s for s in script.walk_revisions()}
        frame = sys._getframe(1)
        while frame is not None:
            found = self._paths.get(frame.f_code.co_filename)
            if found is None and frame.f_code.co_filename not in self._paths:
                resolved = str(Path(frame.f_code.co_filename).resolve())
                found = self._paths.get(resolved)
                self._paths[frame.f_code.co_filename] = found
            if found is not None:
                return found.revision
            frame = frame.f_back  # type: ignore[assignment]
        return "?"

    def outcome(self, revision: str) -> str:
        if self.transactional and not self.committed:
            return "it was rolled back and the database is unchanged"
        if self.transactional:
            return (
                "what was committed before it (by an autocommit_block() or a transaction per "
                "migration) stays applied and the rest was rolled back: check the schema "
                "before you retry"
            )
        return (
            "this database commits DDL as it goes, so the migrations before it stay applied "
            f"and revision {revision} may be partly applied: check the schema before you retry"
        )

    def back_up(self, revision: str) -> str | None:
        """A copy of the database as it was before the upgrade (SQLite: the migration's
        writes are not committed yet, so another connection reads the state before them)."""
        import sqlite3

        try:
            backup = for_url(self.url).backup_before_loss(self.url, revision)
        except (OSError, sqlite3.Error) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise DatabaseStateError(
                f"Could not back up {mask_url(self.url)} before the accepted data loss "
                f"({reason}), so the upgrade was rolled back and the database is unchanged: "
                "make room beside the database file (or make it writable) and run it again."
            ) from None
        return str(backup) if backup else None

    # -- reading ahead, where DDL is not transactional --------------------------------------

    def pre_read(self) -> None:
        """Read and measure every revision about to run, before any of them runs."""
        guard = self.guard
        if guard.direction != "upgrade" or guard.accept or guard.script is None:
            return
        from fastapi_alembic.lint.reader import read_function
        from fastapi_alembic.runtime.data_loss_counts import Names
        from fastapi_alembic.runtime.recorder import unwrapped

        began = not self.connection.in_transaction()
        current = tuple(self.context.get_current_heads())
        losses: list[Loss] = []
        names = Names()
        for step in planned(guard.script, current, "upgrade", guard.target or "heads"):
            if _opted_out(step):
                continue
            try:
                upgrade = unwrapped(getattr(step.module, "upgrade", None))
                reading = read_function(upgrade, self.backend, step.path)
            except RevisionExited as error:
                raise RevisionExited(
                    f"{str(error).rstrip('.')}; nothing was run: the data-loss guard reads the "
                    "revisions before an upgrade where DDL is not transactional."
                ) from None
            losses += self._measure_read(reading.actions, names, step.revision)
        if began and self.connection.in_transaction():
            self.connection.rollback()  # reads only; Alembic begins the migration's own
        if losses:
            described = " and ".join(f"{x.describe()} (revision {x.revision})" for x in losses)
            raise DataLossRefused(
                f"The upgrade refuses to run: {described}; pass --accept-data-loss "
                "(accept_data_loss=True) to go on, or change the revision; nothing was run "
                "(the revisions were read ahead: DDL commits as it runs on this connection)."
            )

    def _measure_read(self, actions: list[Action], names: Names, revision: str) -> list[Loss]:
        from fastapi_alembic.runtime.data_loss_counts import (
            created_enum,
            may_lose,
            with_created_type,
        )

        found: list[Loss] = []
        for action in actions:
            self.created_types.update(created_enum(action.sql))
            if may_lose(action):
                action = with_created_type(action, self.created_types)
                key = (action.schema, action.table or "")
                origin = names.table_origin(key)
                column = names.column_origin(key, action.column) if action.column else None
                if origin is not None and (column or not action.column):
                    renamed = _renamed_from(key, origin, action.column, column)
                    loss = self.meter.measure(action, origin, column, revision, renamed)
                    if loss is not None and loss.count:
                        found.append(loss)
            names.see(action)
        return found


def _renamed_from(
    key: tuple[str | None, str],
    origin: tuple[str | None, str],
    column: str | None,
    column_origin: str | None,
) -> str | None:
    """The name before this upgrade, when it was another: ``people``, ``note`` or
    ``people.note`` (both renamed)."""
    if origin != key:
        return f"{origin[1]}.{column_origin}" if column else origin[1]
    if column and column_origin != column:
        return column_origin
    return None


def _autocommitting(context: MigrationContext) -> bool:
    """Inside ``autocommit_block()``: statements commit as they run."""
    connection = context.connection
    if connection is None:
        return False
    return bool(connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT")


def _opted_out(step: Script) -> bool:
    try:
        return NO_PRE_READ.search(Path(step.path).read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def _batch_renames(operations: AbstractOperations) -> dict[str, str] | None:
    """Column renames queued in a batch that has not run yet (new name -> name now)."""
    if not isinstance(operations, BatchOperations):
        return None
    found: dict[str, str] = operations.__dict__.setdefault("_fastapi_alembic_renames", {})
    return found


_OURS = ("sqlalchemy.", "alembic.", "fastapi_alembic.")


def _from_revision_code() -> bool:
    """Whether the statement being run comes from a revision's own code, not from Alembic
    (its operations, a batch's table copy) or from us (the ledger, our counts)."""
    frame = sys._getframe(2)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith("sqlalchemy."):
            return not module.startswith(_OURS)
        frame = frame.f_back  # type: ignore[assignment]
    return False

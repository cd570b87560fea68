"""Writing the ledger while env.py runs the migrations (for `fastapi-alembic` and plain `alembic`).

Where DDL is transactional (PostgreSQL, SQLite) each step's row is written on the migration's
own connection, inside its transaction: a crash rolls back the row with the schema, so the
ledger and the version table always agree. The rows of a transaction are kept until it is
about to commit (or an ``autocommit_block`` is about to commit it) and written then in one
statement: a round trip per migration less, and the same commit.

Where DDL commits as it goes (MySQL, MariaDB) the "started" row is written on the migration's
connection before the migration's first statement, and "finished" in the same transaction as
Alembic's version-table update (carrying the lock's fence, fencing.py). MySQL commits the open
transaction before each DDL statement runs, so the started row is committed before the first
statement that cannot be rolled back: a migration killed anywhere after it leaves a started row
without "finished", which the gate, `status` and `upgrade` then refuse to go past. A migration
that dies before anything of it was committed leaves no row, and needs none: its rollback took
its work back with the row. (A table whose engine has no transactions, MyISAM, is the
exception: its rows change at once, and a migration that only writes rows to such a table and
dies leaves no trace; docs/production.md says so.) Where DDL is transactional but a migration
commits part of its work (an ``autocommit_block``), its started row is committed as the block
begins, for the same reason.

A started row names its session with a token of this run, the server's life and the session
id (runtime/liveness.py): after a server restart a new session with the dead one's id is not
mistaken for the migration still running.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    Update,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import URL

from fastapi_alembic.dialects import for_url
from fastapi_alembic.runtime import ledger
from fastapi_alembic.runtime.fencing import fence_to_carry
from fastapi_alembic.runtime.file_checksums import checksum

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory


#: Kept rows written in one statement: few round trips, and a bounded statement (a thousand
#: rows at once made the upgrade's peak memory a megabyte larger).
_ROWS_PER_STATEMENT = 100


@dataclass
class _Started:
    row_id: int | None
    started_at: datetime
    clock: float
    checksum: str | None
    #: The failed try's row this one marked "retried" (in its transaction: rolled back with it).
    retried: int | None = None


def unwrapped(function: Any) -> Any:
    """A revision's function as its file wrote it, while the recorder wraps it: what reads a
    revision without running it (the data-loss guard's read ahead) must not be recorded."""
    return getattr(function, "__fastapi_alembic_original__", function)


class LedgerRecorder:
    """One run of env.py's online migrations: wraps each revision's upgrade/downgrade to note
    when it starts, and Alembic's on_version_apply to note when it is done."""

    def __init__(
        self, connection: Connection, script: ScriptDirectory, name: str, schema: str | None
    ) -> None:
        self.connection = connection
        self.script = script
        self.name = name
        self.schema = schema
        self.url: URL = connection.engine.url
        self.transactional = for_url(self.url).transactional_ddl
        self._table: Table | None = None
        self._who: dict[str, str | None] = {}
        self._started: dict[tuple[str, str], _Started] = {}
        #: Rows of tries that failed (DDL committing as it goes), closed if the step is retried.
        self._failed: dict[tuple[str, str], int] = {}
        self._context: MigrationContext | None = None
        #: This run's token, in its started rows; the step running now.
        self._run = uuid.uuid4().hex[:12]
        self._current: tuple[str, str] | None = None
        #: Finished rows not written yet: they go in with the transaction's commit.
        self._pending: list[dict[str, Any]] = []
        self._batching = False
        self.partly_committed: str | None = None  # whose autocommit_block committed a part
        self._finish: tuple[ColumnElement[bool] | None, Update] | None = None

    # -- wiring -------------------------------------------------------------------------

    @contextmanager
    def recording(self, migration_context: MigrationContext) -> Iterator[None]:
        """Wrap every revision's functions while the migrations run, and restore them after."""
        if migration_context.opts.get("dont_mutate") or migration_context.opts.get(
            "revision_context"
        ):
            # Reading, or autogenerating (make): no migration runs, there is nothing to record.
            yield
            return
        # A fresh start on every try: a retry after a lock timeout rolled back what the last
        # try wrote on the migration's connection (the ledger table itself, maybe).
        self._context = migration_context
        self._table = None
        self._started.clear()
        self._pending.clear()
        # One transaction for many migrations: their rows can wait for its commit. With a
        # transaction per migration each commits right after its row, which is written at once.
        self._batching = self.transactional and not migration_context.opts.get(
            "transaction_per_migration"
        )
        if not self.transactional:
            # Made before the migrations' transactions begin, on their connection: MySQL
            # refuses a table newer than a transaction's snapshot ("Table definition has
            # changed"), and CREATE TABLE commits what this connection had begun.
            began = not self.connection.in_transaction()
            ledger.ensure(self.connection, self.name, self.schema)
            if began and self.connection.in_transaction():
                self.connection.commit()
        if self.transactional:
            migration_context.autocommit_block = self._committing(  # type: ignore[method-assign]
                migration_context.autocommit_block
            )
        originals: list[tuple[Any, str, Callable[..., Any]]] = []
        for script in self.script.walk_revisions():
            module = script.module
            for direction, attribute in (("up", "upgrade"), ("down", "downgrade")):
                original = getattr(module, attribute, None)
                if callable(original):
                    originals.append((module, attribute, original))
                    setattr(module, attribute, self._wrap(script, direction, original))
        if self._batching:
            # Whatever commits the migration's transaction (a revision that commits by itself
            # included), the rows it waits for go in first.
            event.listen(self.connection, "commit", self._flush_at_commit)
        try:
            yield
        finally:
            if event.contains(self.connection, "commit", self._flush_at_commit):
                event.remove(self.connection, "commit", self._flush_at_commit)
            self._pending.clear()
            migration_context.__dict__.pop("autocommit_block", None)
            for module, attribute, original in originals:
                setattr(module, attribute, original)

    def _wrap(
        self, script: Any, direction: str, original: Callable[..., Any]
    ) -> Callable[..., Any]:
        # Alembic names the step by the function's __name__ ("Running upgrade a -> b, ..."):
        # the wrapper keeps the revision's own.
        @functools.wraps(original)
        def run(*args: Any, **kwargs: Any) -> Any:
            self.started(script.revision, direction, script.path)
            try:
                return original(*args, **kwargs)
            except BaseException:
                self.failed(script.revision, direction)
                raise

        run.__fastapi_alembic_original__ = original  # type: ignore[attr-defined]
        return run

    def _committing(self, block: Callable[[], Any]) -> Callable[[], Any]:
        """Alembic's autocommit_block, preceded by the running step's started row: what the
        block runs is committed as it goes, so from there on a crash can leave it half done."""

        @contextmanager
        def autocommit_block() -> Iterator[Any]:
            # The rows of the migrations before it, in the transaction the block commits.
            self.flush()
            with block() as inner:
                # The block has committed the migration's transaction (the ledger table, if
                # this run made it, included) and runs in autocommit: the row is committed.
                if self._current is not None:
                    self.partly_committed = self._current[0]
                self._note_started_row()
                yield inner

        return autocommit_block

    def _note_started_row(self) -> None:
        begun = self._started.get(self._current) if self._current else None
        if begun is None or begun.row_id is not None or self._table is None:
            return
        assert self._current is not None
        revision, direction = self._current
        result = self.connection.execute(
            insert(self._table).values(
                **self._who,
                revision=revision,
                direction=direction,
                outcome="running",
                checksum=begun.checksum,
                started_at=begun.started_at,
            )
        )
        if result.inserted_primary_key:
            begun.row_id = result.inserted_primary_key[0]

    def flush(self) -> None:
        """Write the finished rows kept for the transaction, in it (before it commits)."""
        if not self._pending or self._table is None:
            return
        rows, self._pending = self._pending, []
        self.connection.execute(insert(self._table), rows)

    def _flush_at_commit(self, connection: Connection) -> None:
        if not self._pending:
            return
        try:
            self.flush()
        except BaseException:
            # Raised inside the commit, before the driver's: the transaction is neither
            # committed nor rolled back by SQLAlchemy. Closing the session rolls it back.
            connection.invalidate()
            raise

    # -- the steps ----------------------------------------------------------------------

    def _prepare(self) -> Table:
        """On the first step: refuse a half-done migration, create the ledger, adopt what was
        applied before it existed."""
        if self._table is not None:
            return self._table
        ledger.refuse_interrupted(self.connection, self.name, self.schema, self.url)
        table = ledger.ensure(self.connection, self.name, self.schema)
        self._who = ledger.who(self.connection, self._run)
        self._adopt(table)
        self._table = table
        return table

    def _adopt(self, table: Table) -> None:
        from fastapi_alembic.revisions import applied_set

        assert self._context is not None
        current = tuple(self._context.get_current_heads())
        recorded = set(self.connection.execute(select(table.c.revision).distinct()).scalars())
        moment = ledger.now()
        rows = []
        for revision in sorted(applied_set(self.script, current) - recorded):
            found = self.script.get_revision(revision)
            if found is None:
                continue
            rows.append(
                {
                    **self._who,
                    "revision": revision,
                    "direction": "up",
                    "outcome": "adopted",
                    "checksum": checksum(found.path),
                    "started_at": moment,
                    "finished_at": moment,
                }
            )
        if rows:
            self.connection.execute(insert(table), rows)

    def started(self, revision: str, direction: str, path: str) -> None:
        table = self._prepare()
        moment = ledger.now()
        retried = self._failed.pop((revision, direction), None)
        if retried is not None:  # the failed try is not a half-done migration any more
            self.connection.execute(
                update(table)
                .where(table.c.id == retried)
                .values(outcome="retried", finished_at=moment)
            )
        row_id = None
        self._current = (revision, direction)
        digest = checksum(path)
        if not self.transactional:
            # Values as parameters of one statement, compiled once for every migration.
            result = self.connection.execute(
                insert(table),
                {
                    **self._who,
                    "revision": revision,
                    "direction": direction,
                    "outcome": "running",
                    "checksum": digest,
                    "started_at": moment,
                },
            )
            row_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        self._started[(revision, direction)] = _Started(
            row_id, moment, time.perf_counter(), digest, retried
        )

    def failed(self, revision: str, direction: str) -> None:
        begun = self._started.pop((revision, direction), None)
        if begun is None or begun.row_id is None or self._table is None:
            return  # transactional: the rollback takes the schema back, nothing to note
        # The migration's own transaction is failing; what was committed of it stays (an
        # autocommit_block's work, or DDL on MySQL). The row says so on a connection of its own.
        marked = self._mark_failed_apart(begun.row_id)
        if not self.transactional:
            if marked:
                self._failed[(revision, direction)] = begun.row_id
            elif begun.retried is not None:
                # Nothing of this try was committed: the rollback takes back its "retried"
                # mark, and the failed try is still the one to close.
                self._failed[(revision, direction)] = begun.retried

    def _mark_failed_apart(self, row_id: int) -> bool:
        """Mark the row failed if it was committed; False when it was not (it goes with the
        rollback) or when the server cannot be reached (it stays "running", refused as
        unfinished all the same). A row not committed yet is only read: its update would
        wait for the failing transaction's lock on it."""
        assert self._table is not None
        table = self._table
        try:
            with self.connection.engine.connect() as apart:
                if apart.execute(select(table.c.id).where(table.c.id == row_id)).first() is None:
                    return False
                apart.execute(update(table).where(table.c.id == row_id).values(outcome="failed"))
                apart.commit()
        except Exception:
            return False
        return True

    def on_version_apply(self, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        if step.is_stamp:
            self._resolve_interrupted()
            return
        revision = step.up_revision_id or ""
        direction = "up" if step.is_upgrade else "down"
        begun = self._started.pop((revision, direction), None)
        if begun is None or self._table is None:
            return
        finished = {
            "outcome": "applied" if direction == "up" else "reverted",
            "finished_at": ledger.now(),
            "seconds": time.perf_counter() - begun.clock,
        }
        table = self._table
        # On the migration's connection: committed with the version table's update.
        if begun.row_id is not None:
            fence = fence_to_carry(self.connection)
            result = self.connection.execute(
                self._finishing(fence.condition if fence else None),
                {"row_id": begun.row_id, **finished},
            )
            if fence is not None:
                fence.carried(result.rowcount == 1)
        else:
            row = {
                **self._who,
                **finished,
                "revision": revision,
                "direction": direction,
                "checksum": begun.checksum,
                "started_at": begun.started_at,
            }
            if self._batching:
                self._pending.append(row)
                if len(self._pending) >= _ROWS_PER_STATEMENT:
                    self.flush()  # a long history's rows in a few statements, not one huge one
            else:
                self.connection.execute(insert(table).values(**row))

    def _finishing(self, fence: ColumnElement[bool] | None) -> Update:
        """The "finished" update of a started row, carrying the lock's fence when given:
        built once per fence, as it runs for every migration where DDL commits as it goes."""
        assert self._table is not None
        if self._finish is None or self._finish[0] is not fence:
            table = self._table
            statement = update(table).where(table.c.id == bindparam("row_id"))
            self._finish = (fence, statement if fence is None else statement.where(fence))
        return self._finish[1]

    def _resolve_interrupted(self) -> None:
        """A stamp is how someone says "I inspected the schema": close the unfinished rows."""
        if not ledger.require_readable(self.connection, self.name, self.schema):
            return
        table = ledger.ledger_table(self.name, self.schema)
        self.connection.execute(
            update(table)
            .where(table.c.finished_at.is_(None))
            .values(outcome="resolved", finished_at=ledger.now())
        )

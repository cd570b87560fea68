"""The data-loss guard: before an upgrade drops, narrows or empties anything, count what
would be lost, and refuse unless told it may.

It checks each operation as it is about to run, on the migration's own connection, under the
migration lock, so a revision's Python runs once per upgrade: a drop, a narrowing type change,
a ``postgresql_using`` that does not read the column, a ``TRUNCATE`` or a ``DELETE`` without
``WHERE`` (through ``op.execute`` or the bind) is measured in the database as it is at that
moment, after the renames before it. Where DDL is transactional (PostgreSQL, SQLite) a refusal
rolls the whole upgrade back. Where it commits as it goes (MySQL, MariaDB) a refusal halfway
would leave a migration half applied, so there the revisions are first read (their upgrade()
run against recording operations, lint's reader) and measured before anything runs; a
revision can opt out of that reading with ``# fastapi-alembic: no-pre-read``. See
docs/production.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from alembic.operations.base import AbstractOperations
from alembic.script import ScriptDirectory

from fastapi_alembic.errors import DataLossRefused
from fastapi_alembic.runtime.data_loss_watch import Watch, original_invoke, planned, reads_only

#: Where a command hands its data-loss guard to env.py (``config.attributes``).
DATA_LOSS_KEY = "fastapi_alembic.data_loss"

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from fastapi_alembic.runtime.data_loss_counts import Loss

__all__ = ["DataLossGuard", "DataLossPlan", "planned"]


@dataclass(frozen=True)
class DataLossPlan:
    """What an upgrade or downgrade deleted, and the backup made first (SQLite)."""

    direction: str
    losses: tuple[Loss, ...]
    backup: str | None = None

    def describe(self) -> str:
        return " and ".join(f"{loss.describe()} (revision {loss.revision})" for loss in self.losses)


class DataLossGuard:
    """Refuses an upgrade that would delete data unless accepted; says what a downgrade
    deletes. Handed to env.py through ``config.attributes[DATA_LOSS_KEY]``."""

    def __init__(
        self,
        direction: Literal["upgrade", "downgrade"],
        accept: bool,
        report: Callable[[DataLossPlan], None] | None,
        *,
        script: ScriptDirectory | None = None,
        target: str | None = None,
    ) -> None:
        self.direction = direction
        self.accept = accept
        self.report = report
        self.script = script
        self.target = target
        self.losses: list[Loss] = []
        self.backup: str | None = None
        self._pre_read = False

    # -- around the run -------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[None]:
        """While the command runs: every operation of a migration using this guard is seen."""
        _install()
        try:
            yield
        finally:
            for key, watch in list(_WATCHES.items()):
                if watch.guard is self:
                    watch.close()
                    _WATCHES.pop(key, None)
            _uninstall()

    @contextmanager
    def running(self, migration_context: MigrationContext) -> Iterator[None]:
        """One try of the migrations (env.py calls it under the lock): measure first where
        DDL is not transactional, then watch each operation."""
        if reads_only(migration_context):
            yield
            return
        watch = self._watch(migration_context)
        try:
            yield
        finally:
            watch.close()
            _WATCHES.pop(id(migration_context), None)

    def finish(self) -> None:
        """After a run that succeeded: say what was deleted."""
        if self.losses and self.report is not None:
            self.report(DataLossPlan(self.direction, tuple(self.losses), self.backup))

    def _watch(self, migration_context: MigrationContext, *, running: bool = False) -> Watch:
        """A watch of one try; ``running``: started at the first operation (by an env.py that
        runs the migrations itself), where what the driver really does can be asked."""
        watch = Watch(self, migration_context)
        if running:
            watch.transactional = watch.transactional and watch.in_transaction()
        _WATCHES[id(migration_context)] = watch
        self.losses = watch.losses  # a new try starts over
        if not watch.transactional and not self._pre_read:
            self._pre_read = True
            try:
                watch.pre_read()
            except BaseException:
                watch.close()
                _WATCHES.pop(id(migration_context), None)
                raise
        return watch

    # -- what a loss does ---------------------------------------------------------------

    def found(self, loss: Loss, watch: Watch) -> None:
        if self.direction == "upgrade" and not self.accept:
            raise DataLossRefused(
                f"The upgrade refuses to run: {loss.describe()} (revision {loss.revision}); "
                "pass --accept-data-loss (accept_data_loss=True) to go on, or change the "
                f"revision; {watch.outcome(loss.revision)}."
            )
        if self.direction == "upgrade" and self.backup is None:
            self.backup = watch.back_up(loss.revision)
        watch.losses.append(loss)


# -- seeing every operation: Alembic's invoke, while a guarded command runs -----------------

_WATCHES: dict[int, Watch] = {}
_lock = threading.Lock()
_users = 0


def _watched_invoke(self: AbstractOperations, operation: Any) -> Any:
    context = self.migration_context
    watch = _WATCHES.get(id(context))
    if watch is None:
        guard = _guard_of(context)
        if guard is None:
            return original_invoke(self, operation)
        # An env.py that runs the migrations by itself: start at its first operation.
        watch = guard._watch(context, running=True)
    return watch.invoke(self, operation)


def _guard_of(context: MigrationContext) -> DataLossGuard | None:
    if reads_only(context):
        return None
    environment = getattr(context, "environment_context", None)
    config = getattr(environment, "config", None)
    guard = config.attributes.get(DATA_LOSS_KEY) if config is not None else None
    return guard if isinstance(guard, DataLossGuard) else None


def _install() -> None:
    global _users
    with _lock:
        if _users == 0:
            AbstractOperations.invoke = _watched_invoke  # type: ignore[method-assign]
        _users += 1


def _uninstall() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0:
            AbstractOperations.invoke = original_invoke  # type: ignore[method-assign]

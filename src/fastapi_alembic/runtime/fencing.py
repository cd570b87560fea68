"""Fencing a lease lock's migrations (lease.py): every statement checked against the lease as
last confirmed, and every transaction that moves the version fenced by the owner row.

The fence reads the owner row ``FOR SHARE`` on the migration's connection and checks our
token. Where DDL is transactional (PostgreSQL) that read lock lasts until the transaction ends,
so the first version move of a transaction is fenced and the moves after it in the same
transaction are covered; a transaction that ends (committed by SQLAlchemy, by an
``autocommit_block``, or by a ``COMMIT`` a migration sends itself) is fenced again at its next
move. Where each DDL statement commits (MySQL, MariaDB) every move is fenced.

A move is fenced once the version's callbacks have run, so that a statement of ours in the
same transaction can carry the fence: the ledger's "finished" update on MySQL adds the owner
row's read (``fence_to_carry``), which spares a round trip per migration. A move that nothing
carried is fenced by a read of its own. docs/production.md gives the whole argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Connection, event

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

#: SQL a migration may send to end its transaction itself (``op.execute("COMMIT")``), which
#: ends the fence's read lock with it. Matching more than that only costs a fence.
_ENDS_TRANSACTION = re.compile(
    r"(?:^|;)\s*(?:COMMIT|END|ROLLBACK|ABORT|PREPARE\s+TRANSACTION)\b",
    re.IGNORECASE | re.MULTILINE,
)


class Fenced(Protocol):
    """The lock's side (lease.LeaseLock)."""

    def check(self) -> None: ...

    def fence(self, connection: Connection) -> None: ...

    def fence_condition(self) -> ColumnElement[bool]: ...


class FenceToCarry:
    """The fence of the version move in progress, offered to a statement of its transaction.

    The statement adds ``condition`` to its WHERE clause (it reads the owner row with a read
    lock, and holds only while our token is there), runs, and says with ``carried`` whether
    its rows were found: when they were not, the fence is read on its own, which raises if
    the lock was taken over."""

    def __init__(self, fences: _Fences, connection: Connection) -> None:
        self._fences = fences
        self.connection = connection
        self.condition = fences.lock.fence_condition()

    def carried(self, found: bool) -> None:
        if self._fences.waiting is not self.connection:
            return
        if found:
            self._fences.done(self.connection)
        else:
            self._fences.fence_now(self.connection)


class _Fences:
    def __init__(self, lock: Fenced, *, per_transaction: bool) -> None:
        self.lock = lock
        self.per_transaction = per_transaction
        #: The transaction a fence holds the owner row in, while it lasts.
        self.held: Any = None
        #: The connection whose version move is not fenced yet.
        self.waiting: Connection | None = None

    def before(
        self, _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        self.lock.check()
        if self.held is not None and _ENDS_TRANSACTION.search(statement):
            self.held = None

    def moved(self, *, ctx: MigrationContext, **_kw: Any) -> None:
        """The first of the version's callbacks: the move is to be fenced by the last."""
        moving = ctx.connection
        assert moving is not None
        held = self.held
        if held is not None and held.is_active and moving.get_transaction() is held:
            return  # the version's own statement was checked against the lease
        self.waiting = moving

    def after_moved(self, **_kw: Any) -> None:
        """The last of the version's callbacks: fence what no statement carried."""
        if self.waiting is not None:
            self.fence_now(self.waiting)

    def fence_now(self, connection: Connection) -> None:
        self.waiting = None
        self.lock.fence(connection)
        self.done(connection)

    def done(self, connection: Connection) -> None:
        self.waiting = None
        if self.per_transaction and not connection.in_nested_transaction():
            self.held = connection.get_transaction()


_fences: ContextVar[_Fences | None] = ContextVar("fastapi_alembic_fences", default=None)


def fence_to_carry(connection: Connection) -> FenceToCarry | None:
    """The fence of the version move in progress on ``connection`` if nothing fenced it yet,
    for a statement of the same transaction to carry; None when there is none to carry."""
    fences = _fences.get()
    if fences is None or fences.waiting is not connection:
        return None
    return FenceToCarry(fences, connection)


@contextmanager
def fencing(
    lock: Fenced, migration_context: MigrationContext, *, per_transaction: bool
) -> Iterator[None]:
    """Check every statement the migration's engine sends, and fence every transaction that
    moves the version (once per transaction when ``per_transaction``: DDL is transactional)."""
    connection = migration_context.connection
    assert connection is not None
    engine = connection.engine
    fences = _Fences(lock, per_transaction=per_transaction)
    callbacks = migration_context.on_version_apply_callbacks
    migration_context.on_version_apply_callbacks = [fences.moved, *callbacks, fences.after_moved]
    event.listen(engine, "before_cursor_execute", fences.before)
    token = _fences.set(fences)
    try:
        yield
    finally:
        _fences.reset(token)
        event.remove(engine, "before_cursor_execute", fences.before)
        migration_context.on_version_apply_callbacks = callbacks

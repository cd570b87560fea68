"""Fencing a lease lock's migrations (lease.py): every statement checked against the lease as
last confirmed, and every transaction that moves the version fenced by the owner row.

The fence reads the owner row ``FOR SHARE`` on the migration's connection and checks our
token. Where DDL is transactional (PostgreSQL) that read lock lasts until the transaction ends,
so the first version move of a transaction is fenced and the moves after it in the same
transaction are covered; a transaction that ends (committed by SQLAlchemy, by an
``autocommit_block``, or by a ``COMMIT`` a migration sends itself) is fenced again at its next
move. Where each DDL statement commits (MySQL, MariaDB) every move is fenced.
docs/production.md gives the whole argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, event

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


@contextmanager
def fencing(
    lock: Fenced, migration_context: MigrationContext, *, per_transaction: bool
) -> Iterator[None]:
    """Check every statement the migration's engine sends, and fence every transaction that
    moves the version (once per transaction when ``per_transaction``: DDL is transactional)."""
    connection = migration_context.connection
    assert connection is not None
    engine = connection.engine
    #: The transaction a fence holds the owner row in, while it lasts.
    fenced: list[Any] = [None]

    def before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        lock.check()
        if fenced[0] is not None and _ENDS_TRANSACTION.search(statement):
            fenced[0] = None

    def on_version_apply(*, ctx: MigrationContext, **_kw: Any) -> None:
        moving = ctx.connection
        assert moving is not None
        held = fenced[0]
        if held is not None and held.is_active and moving.get_transaction() is held:
            return  # the version's own statement was checked against the lease
        lock.fence(moving)
        if per_transaction and not moving.in_nested_transaction():
            fenced[0] = moving.get_transaction()

    callbacks = migration_context.on_version_apply_callbacks
    migration_context.on_version_apply_callbacks = [on_version_apply, *callbacks]
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        migration_context.on_version_apply_callbacks = callbacks

"""What runs around every migration that changes a database: the cross-process lock
(lock.py, lease.py, fencing.py), lock timeouts with retries (timeouts.py), the hook env.py
calls around ``run_migrations`` (migration_hook.py), the applied-migration ledger (ledger.py,
recorder.py) and the data-loss guard (data_loss.py, with data_loss_watch.py and
data_loss_counts.py).

The start-up path is the gate package's (fastapi_alembic.gate), which reads the ledger here.
Names load on first use: a module that needs one of them does not pay for the rest.

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_alembic.lazy_names import loader

if TYPE_CHECKING:
    from fastapi_alembic.runtime.lock import LockTarget, migration_lock
    from fastapi_alembic.runtime.migration_hook import (
        HEADS_UNDER_LOCK_KEY,
        PARTLY_COMMITTED_KEY,
        run_under_lock,
    )

_HOME = {
    "HEADS_UNDER_LOCK_KEY": "migration_hook",
    "PARTLY_COMMITTED_KEY": "migration_hook",
    "run_under_lock": "migration_hook",
    "LockTarget": "lock",
    "migration_lock": "lock",
}

__all__ = [
    "HEADS_UNDER_LOCK_KEY",
    "PARTLY_COMMITTED_KEY",
    "LockTarget",
    "migration_lock",
    "run_under_lock",
]


__getattr__ = loader(__name__, _HOME, globals())

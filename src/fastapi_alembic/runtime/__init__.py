"""What runs around every migration that changes a database: the cross-process lock
(lock.py), lock timeouts with retries (timeouts.py), and the hook env.py calls (guard.py); and
what runs where the application starts: the start-up gate (gate.py, scan.py, probe.py) and the
applied-migration ledger (ledger.py, recorder.py).

Names load on first use: the start-up fast path imports scan.py and probe.py, and must not pay
for the rest (SQLAlchemy above all).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi_alembic.runtime.guard import HEADS_UNDER_LOCK_KEY, run_guarded
    from fastapi_alembic.runtime.lock import LockTarget, migration_lock

_HOME = {
    "HEADS_UNDER_LOCK_KEY": "guard",
    "run_guarded": "guard",
    "LockTarget": "lock",
    "migration_lock": "lock",
}

__all__ = ["HEADS_UNDER_LOCK_KEY", "LockTarget", "migration_lock", "run_guarded"]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'fastapi_alembic.runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fastapi_alembic.runtime.{home}"), name)
    globals()[name] = value
    return value

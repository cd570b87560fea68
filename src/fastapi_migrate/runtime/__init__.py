"""What runs around every migration that changes a database: the cross-process lock
(lock.py), lock timeouts with retries (timeouts.py), and the hook env.py calls (guard.py)."""

from __future__ import annotations

from fastapi_migrate.runtime.guard import HEADS_UNDER_LOCK_KEY, run_guarded
from fastapi_migrate.runtime.lock import LockTarget, migration_lock

__all__ = ["HEADS_UNDER_LOCK_KEY", "LockTarget", "migration_lock", "run_guarded"]

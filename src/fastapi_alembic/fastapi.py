"""FastAPI integration: a lifespan that brings the database to head (or checks it) at start-up."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import anyio.to_thread

from fastapi_alembic.errors import DatabaseStateError
from fastapi_alembic.runtime.gate import Position

if TYPE_CHECKING:
    from fastapi_alembic.lint.guard import DataLossPlan
    from fastapi_alembic.migrations import Migrations

logger = logging.getLogger("fastapi_alembic")


def migration_lifespan(
    migrations: Migrations,
    *,
    mode: Literal["upgrade", "check"] = "upgrade",
    then: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
    accept_data_loss: bool = False,
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan for ``FastAPI(lifespan=...)``.

    ``upgrade`` applies pending migrations before the app serves; ``check`` refuses to start
    when the database is not at head. Either runs in a worker thread, so async drivers and
    the event loop are left alone. ``then`` wraps the app's own lifespan.
    """

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if mode == "upgrade":
            result = await anyio.to_thread.run_sync(
                functools.partial(
                    migrations.upgrade, accept_data_loss=accept_data_loss, on_data_loss=_log_loss
                )
            )
            for step in result.steps:
                logger.info(
                    "applied %s %s (%.0f ms)", step.revision, step.message, step.seconds * 1000
                )
        else:
            # The start-up gate: the revision files are read, not executed.
            check = await anyio.to_thread.run_sync(migrations.head_check)
            if check.position is Position.BEHIND:
                raise DatabaseStateError(
                    f"The database at {check.url} is {check.pending} revision(s) behind "
                    "head: run `fastapi-alembic upgrade` before starting the app."
                )
            if not check.at_head:
                raise DatabaseStateError(check.sentence)
        if then is None:
            yield
        else:
            async with then(app):
                yield

    return lifespan


def _log_loss(plan: DataLossPlan) -> None:
    logger.warning("accepted data loss: %s", plan.describe())
    if plan.backup:
        logger.warning("backup written to %s", plan.backup)

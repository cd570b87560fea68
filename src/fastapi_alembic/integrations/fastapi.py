"""FastAPI integration: a lifespan that brings the database to head (or checks it) at start-up.

What it does is logged under ``fastapi_alembic.lifespan`` (each migration as it starts and when
it is done, with its time) and ``fastapi_alembic`` (waiting for another migrator's lock); under
a server that configured no logging for them (plain ``uvicorn app:app``) they get a handler of
their own (see logs.py). A refusal to start is one sentence at ERROR, and the exception the
server then reports carries no traceback of ours.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio.to_thread

from fastapi_alembic.errors import DatabaseStateError, MigrationsError
from fastapi_alembic.gate.head_check import Position
from fastapi_alembic.logs import make_heard
from fastapi_alembic.urls import mask_text

if TYPE_CHECKING:
    from fastapi_alembic.gate.head_check import HeadCheck
    from fastapi_alembic.reports import MoveResult, StepInfo, StepStart
    from fastapi_alembic.runtime.data_loss import DataLossPlan

logger = logging.getLogger("fastapi_alembic.lifespan")


class Migrator(Protocol):
    """What the lifespan asks of a ``Migrations`` (migrations.py, which builds it)."""

    def upgrade(
        self,
        *,
        accept_data_loss: bool,
        on_data_loss: Callable[[DataLossPlan], None] | None,
        on_start: Callable[[StepStart], None] | None,
        on_step: Callable[[StepInfo], None] | None,
    ) -> MoveResult: ...

    def head_check(self) -> HeadCheck: ...


def migration_lifespan(
    migrations: Migrator,
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
        make_heard()
        try:
            if mode == "upgrade":
                await _upgrade(migrations, accept_data_loss)
            else:
                await _check(migrations)
        except MigrationsError as error:
            _refuse(error)
            raise
        if then is None:
            yield
        else:
            async with then(app):
                yield

    return lifespan


async def _upgrade(migrations: Migrator, accept_data_loss: bool) -> None:
    result: MoveResult = await anyio.to_thread.run_sync(
        functools.partial(
            migrations.upgrade,
            accept_data_loss=accept_data_loss,
            on_data_loss=_log_loss,
            on_start=_log_start,
            on_step=_log_step,
        )
    )
    where = ", ".join(result.after) or "base (no revision applied)"
    if result.steps:
        seconds = sum(step.seconds for step in result.steps)
        logger.info(
            "Migrated: %d migration(s) in %s; the database is at %s.",
            len(result.steps),
            _took(seconds),
            where,
        )
    else:
        logger.info("Nothing to migrate: the database is at %s.", where)


async def _check(migrations: Migrator) -> None:
    # The start-up gate: the revision files are read, not executed.
    check = await anyio.to_thread.run_sync(migrations.head_check)
    if check.position is Position.BEHIND:
        raise DatabaseStateError(
            f"The database at {check.url} is {check.pending} revision(s) behind "
            "head: run `fastapi-alembic upgrade` before starting the app."
        )
    if not check.at_head:
        raise DatabaseStateError(check.sentence)
    logger.info("%s", check.sentence)


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _of(index: int, total: int | None) -> str:
    return f"{index} of {total}" if total is not None else str(index)


def _log_start(start: StepStart) -> None:
    verb = "Applying" if start.direction == "up" else "Reverting"
    logger.info("%s %s: %s %s", verb, _of(start.index, start.total), start.revision, start.message)


def _log_step(step: StepInfo) -> None:
    verb = "Applied" if step.direction == "up" else "Reverted"
    logger.info("%s %s %s in %s", verb, step.revision, step.message, _took(step.seconds))


def _log_loss(plan: DataLossPlan) -> None:
    logger.warning("Accepted data loss: %s.", plan.describe())
    if plan.backup:
        logger.warning("Backup of the database written to %s.", plan.backup)


def _refuse(error: MigrationsError) -> None:
    """Say why the app does not start, once, in one sentence at ERROR. The server reports
    the exception too: Starlette hands uvicorn its traceback as the reason, which uvicorn
    logs at ERROR before its own "Application startup failed"; that record repeats our
    sentence under a traceback of framework frames, so it is left out."""
    sentence = mask_text(str(error))
    logger.error("%s", sentence)
    if "uvicorn" in sys.modules:  # served by uvicorn (a test client reports nothing itself)
        final_line = f"{type(error).__module__}.{type(error).__qualname__}: {error}"
        logging.getLogger("uvicorn.error").addFilter(_LeaveOutTraceback(final_line))


class _LeaveOutTraceback(logging.Filter):
    """Drops the one record that is the traceback of the refusal already said; then leaves."""

    def __init__(self, final_line: str) -> None:
        super().__init__()
        self.final_line = final_line

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith("Traceback") and message.rstrip().endswith(self.final_line):
            logging.getLogger("uvicorn.error").removeFilter(self)
            return False
        return True

"""Moving the database: upgrade, downgrade and stamp, online or written out as SQL."""

from __future__ import annotations

import gc
import io
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Literal

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

import fastapi_alembic.revisions as graph
from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import (
    DatabaseStateError,
    DatabaseUnreachable,
    MigrationFailed,
    MigrationsError,
    ScriptError,
)
from fastapi_alembic.jobs import reporting, running
from fastapi_alembic.jobs.at_head import fast_head_check
from fastapi_alembic.jobs.common import current_heads, first_line, resolve
from fastapi_alembic.project import our_stdout
from fastapi_alembic.reports import MoveResult, StepInfo, StepStart
from fastapi_alembic.runtime import HEADS_UNDER_LOCK_KEY, PARTLY_COMMITTED_KEY
from fastapi_alembic.runtime.data_loss import DATA_LOSS_KEY, DataLossGuard, DataLossPlan
from fastapi_alembic.urls import mask_text, mask_url

if TYPE_CHECKING:
    from fastapi_alembic.workspace import Workspace

StepCallback = Callable[[StepInfo], None]
StartCallback = Callable[[StepStart], None]
DataLossCallback = Callable[[DataLossPlan], None]


def upgrade(
    workspace: Workspace,
    target: str = "head",
    *,
    sql: bool = False,
    on_step: StepCallback | None = None,
    accept_data_loss: bool = False,
    on_data_loss: DataLossCallback | None = None,
    guard_data_loss: bool = True,
    on_start: StartCallback | None = None,
) -> MoveResult:
    """The body of ``Migrations.upgrade`` (and the scratch upgrade of ``check``)."""
    with running.waiting_for_writers(workspace):
        if target in ("head", "heads") and not sql:
            fast = fast_head_check(workspace)
            if (
                not isinstance(fast, str)
                and fast.at_head
                and (target == "heads" or len(fast.heads) <= 1)
            ):
                return MoveResult(fast.current, fast.current)
        guard = DataLossGuard("upgrade", accept_data_loss, on_data_loss, target=target)
        return _move(
            workspace,
            "upgrade",
            target,
            sql=sql,
            on_step=on_step,
            on_start=on_start,
            guard=guard if guard_data_loss else None,
        )


def downgrade(
    workspace: Workspace,
    target: str,
    *,
    sql: bool,
    on_step: StepCallback | None,
    on_data_loss: DataLossCallback | None,
    on_start: StartCallback | None = None,
) -> MoveResult:
    """The body of ``Migrations.downgrade``."""
    with running.waiting_for_writers(workspace):
        # Only measured when someone listens: a downgrade never refuses.
        guard = (
            DataLossGuard("downgrade", True, on_data_loss, target=target) if on_data_loss else None
        )
        return _move(
            workspace,
            "downgrade",
            target,
            sql=sql,
            on_step=on_step,
            on_start=on_start,
            guard=guard,
        )


def stamp(workspace: Workspace, revision: str) -> MoveResult:
    """The body of ``Migrations.stamp``."""
    with running.waiting_for_writers(workspace):
        return _stamp(workspace, revision)


def _stamp(workspace: Workspace, revision: str) -> MoveResult:
    config = workspace.environment_config(models=False, command=("stamp", revision))
    script = workspace.script_directory(config)
    if revision not in ("base", "heads"):
        resolve(script, revision)

    def work(connection: Connection | None) -> MoveResult:
        before = running.with_environment(workspace, config, script, current_heads)
        if connection is not None:
            connection.commit()  # Alembic's context begins the stamp's own transaction
        try:
            with workspace.running_env():
                command.stamp(config, revision, purge=True)
        except (CommandError, RevisionError) as error:
            raise ScriptError(f"Cannot stamp {revision!r}: {str(error).rstrip('.')}.") from None
        except DBAPIError as error:  # a read-only database, or a user without the right
            raise DatabaseStateError(
                f"The database at {mask_url(workspace.url)} refused to record revision "
                f"{revision!r} ({first_line(error, workspace.url)}): it is unchanged; stamp "
                "with a user that may write the alembic_version table."
            ) from None
        before = config.attributes.get(HEADS_UNDER_LOCK_KEY, before)
        return MoveResult(
            before, running.with_environment(workspace, config, script, current_heads)
        )

    return running.connected(workspace, config, work, own_transactions=True)


def _move(
    workspace: Workspace,
    direction: Literal["upgrade", "downgrade"],
    target: str,
    *,
    sql: bool,
    on_step: StepCallback | None,
    on_start: StartCallback | None = None,
    guard: DataLossGuard | None = None,
) -> MoveResult:
    events = _StepEvents(on_start, on_step)
    config = workspace.environment_config(
        models=False,
        command=(direction, *(["--sql"] if sql else []), target),
        on_version_apply=events,
        before_version_apply=events.started,
    )
    script = workspace.script_directory(config)
    graph.require_target(script, target, direction)
    if direction == "upgrade" and (target == "head" or target.startswith("+")):
        graph.require_single_head(script)
    if sql:
        return _offline(workspace, direction, target, config, script)
    run = command.upgrade if direction == "upgrade" else command.downgrade

    if guard is not None:
        # Each operation is measured as it is about to run, under the lock (runtime/data_loss.py).
        guard.script = script
        config.attributes[DATA_LOSS_KEY] = guard

    def work(connection: Connection | None) -> MoveResult:
        before = running.with_environment(workspace, config, script, current_heads)
        graph.require_known(script, before)
        if connection is not None:
            # Alembic's context begins the transactions (autocommit_block needs it to).
            connection.commit()
        events.start()
        try:
            with workspace.running_env(), guard.installed() if guard else nullcontext():
                run(config, target)
        except MigrationsError:
            raise
        except Exception as error:
            partly = config.attributes.get(PARTLY_COMMITTED_KEY)
            raise _explain_failure(workspace, error, direction, target, script, partly) from None
        if guard is not None:
            guard.finish()
        # Where the database was once the lock was ours: another migrator may have moved it.
        before = config.attributes.get(HEADS_UNDER_LOCK_KEY, before)
        after = running.with_environment(workspace, config, script, current_heads)
        return MoveResult(before, after, events.steps)

    with _collector_skipping_what_is_loaded():
        return running.connected(workspace, config, work, own_transactions=True)


@contextmanager
def _collector_skipping_what_is_loaded() -> Iterator[None]:
    """While the migrations run, the garbage collector leaves alone what is loaded already
    (the modules, every revision file): a long upgrade makes many short-lived objects, and
    each full collection would walk all of that again (a tenth of a 1000-revision upgrade).
    Put back afterwards, so the collector of a process that calls us (an app's start-up)
    is as it was; left alone when that process froze objects of its own."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _offline(
    workspace: Workspace, direction: str, target: str, config: Config, script: ScriptDirectory
) -> MoveResult:
    """Write the SQL instead of running it. Without FROM:TO, start where the database is."""
    if ":" in target:
        start, _, end = target.partition(":")
        current: tuple[str, ...] = () if start == "base" else (start,)
    else:
        try:
            current = reporting.current(workspace)
        except DatabaseUnreachable as error:
            raise DatabaseUnreachable(
                f"{error} Or give the range yourself, for example `--sql base:head`."
            ) from None
        graph.require_known(script, current)
        start, end = (current[0] if current else "base"), target
        if len(current) > 1:
            raise ScriptError("The database is at several heads: give the range as FROM:TO.")
    if graph.steps_between(script, direction, start, end) == 0:
        # Alembic would print an empty BEGIN; COMMIT; say there is nothing instead.
        return MoveResult(current, current, sql="")
    run = command.upgrade if direction == "upgrade" else command.downgrade
    try:
        with workspace.running_env():
            run(config, f"{start}:{end}", sql=True)
    except MigrationsError:
        raise
    except (CommandError, RevisionError) as error:
        raise ScriptError(
            f"Cannot write the SQL to {direction} to {target!r}: {str(error).rstrip('.')}."
        ) from None
    except Exception as error:  # a migration's own code raised while writing its SQL
        culprit = graph.failing_revision(error, script)
        what = f"Migration {culprit.revision}" if culprit else f"The {direction}"
        raise MigrationFailed(
            f"{what} failed with {type(error).__name__} while writing its SQL: "
            f"{first_line(error, workspace.url)}; nothing was run on the database."
        ) from None
    buffer = config.output_buffer
    text = buffer.getvalue() if isinstance(buffer, io.StringIO) else ""
    return MoveResult(current, (end,), sql=text)


#: asyncpg's error when a pooler ran a statement on another session than its preparation.
_PREPARED_ELSEWHERE = re.compile(r'prepared statement "[^"]*" does not exist')


def _explain_failure(
    workspace: Workspace,
    error: Exception,
    direction: str,
    target: str,
    script: ScriptDirectory,
    partly_committed: str | None = None,
) -> MigrationsError:
    wait_over = running.writers_wait_over(workspace, error)
    if wait_over is not None:
        return wait_over
    culprit = graph.failing_revision(error, script)
    if culprit is None and isinstance(error, CommandError | RevisionError):
        return ScriptError(f"Cannot {direction} to {target!r}: {str(error).rstrip('.')}.")
    original = getattr(error, "orig", None) or error
    reason = mask_text(
        (str(original).strip().splitlines() or [type(original).__name__])[0],
        workspace.url.password,
    )
    if _PREPARED_ELSEWHERE.search(reason) and workspace.url.get_driver_name() == "asyncpg":
        reason += (
            " (asyncpg prepares every statement, and outside a transaction, as in an "
            "autocommit_block, a pooler in transaction mode may run it on another server session "
            "than the one that prepared it: run it through the pooler's session mode or "
            "directly, or use psycopg, postgresql+psycopg://, which prepares nothing)"
        )
    what = (
        f"Migration {culprit.revision} ({(culprit.doc or '').strip()})"
        if culprit
        else f"The {direction}"
    )
    outcome = graph.failure_outcome(
        direction,
        transactional=for_url(workspace.url).transactional_ddl,
        partly_committed=partly_committed,
    )
    return MigrationFailed(f"{what} failed with {type(original).__name__}: {reason}; {outcome}.")


class _StepEvents:
    """A run's steps as events: started (told by the plan env.py runs, see
    environment.announcing) and finished (Alembic's on_version_apply), each timed.

    O(1) per step: a history of thousands of revisions pays nothing per step for this."""

    def __init__(self, on_start: StartCallback | None, on_step: StepCallback | None) -> None:
        self.on_start = on_start
        self.on_step = on_step
        #: The last run of each step: a try rolled back after a lock timeout ran some already.
        self._done: dict[tuple[str, str], StepInfo] = {}
        self._running: StepStart | None = None
        self._clock = time.perf_counter()

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        return tuple(self._done.values())

    def start(self) -> None:
        self._done.clear()
        self._running = None
        self._clock = time.perf_counter()

    def started(self, step: Any, index: int, total: int | None) -> None:
        if step.is_stamp:
            return
        self._running = StepStart(
            revision=step.up_revision_id or "",
            message=_message(step),
            direction="up" if step.is_upgrade else "down",
            index=index,
            total=total,
        )
        self._clock = time.perf_counter()
        if self.on_start is not None:
            with our_stdout():
                self.on_start(self._running)

    def __call__(self, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        now = time.perf_counter()
        seconds, self._clock = now - self._clock, now
        if step.is_stamp:
            return
        direction = "up" if step.is_upgrade else "down"
        running = self._running
        self._running = None
        if running is not None and (running.revision, running.direction) != (
            step.up_revision_id,
            direction,
        ):
            running = None
        info = StepInfo(
            revision=step.up_revision_id or "",
            # Read when it started (once per step is enough), else now.
            message=running.message if running is not None else _message(step),
            direction=direction,
            seconds=seconds,
            index=running.index if running else 0,
            total=running.total if running else None,
        )
        key = (info.revision, info.direction)
        self._done.pop(key, None)  # a step run again goes where it ran last
        self._done[key] = info
        if self.on_step is not None:
            with our_stdout():
                self.on_step(info)


def _message(step: Any) -> str:
    """The first paragraph of the step's revision docstring: its message."""
    revision = step.up_revision
    return ((revision.doc if revision is not None else "") or "").strip()

"""upgrade, downgrade, stamp: moving the database along the revision graph."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import (
    LockRetriesOption,
    LockTimeoutOption,
    LockWaitOption,
    Shared,
)
from fastapi_alembic.cli.output import emit_json, err, milliseconds, reports_errors, say
from fastapi_alembic.cli.progress import MoveProgress

if TYPE_CHECKING:
    from fastapi_alembic.reports import MoveResult
    from fastapi_alembic.runtime.data_loss import DataLossPlan

SqlOption = Annotated[
    bool,
    typer.Option("--sql", help="Print the SQL instead of running it (FROM:TO ranges allowed)."),
]


def _summary(result: MoveResult, verb: str) -> str:
    where = ", ".join(result.after) or "base (no revision applied)"
    if not result.steps:
        return f"Nothing to {verb}: the database is at {where}."
    total = sum(step.seconds for step in result.steps)
    return f"Done: {len(result.steps)} migration(s) in {milliseconds(total)}; the database is at {where}."


def _loss_printer(print_line: Callable[[str], None]) -> Callable[[DataLossPlan], None]:
    def show(plan: DataLossPlan) -> None:
        if plan.direction == "downgrade":
            print_line(f"[yellow]This downgrade deletes data: {escape(plan.describe())}.[/]")
        else:
            print_line(f"[yellow]Accepted data loss: {escape(plan.describe())}.[/]")
        if plan.backup:
            print_line(f"Backup of the database written to {escape(plan.backup)}")

    return show


def _move(
    verb: str,
    target: str,
    sql: bool,
    shared: Shared,
    locks: dict[str, Any],
    accept_data_loss: bool = False,
) -> None:
    migrations = shared.build(**locks)
    progress = MoveProgress(verb, target, MoveProgress.mode_for(shared.json))
    # Beside JSON or SQL on standard output, the data-loss lines go to standard error.
    on_loss = _loss_printer(err.print if sql or shared.json else progress.say)
    run = (
        functools.partial(
            migrations.upgrade, accept_data_loss=accept_data_loss, on_data_loss=on_loss
        )
        if verb == "upgrade"
        else functools.partial(migrations.downgrade, on_data_loss=on_loss)
    )
    if sql:
        result = run(target, sql=True)
        if shared.json:
            progress.result(result, "")
        elif result.sql:
            typer.echo(result.sql, nl=False)
        else:
            # On standard error: standard output stays the (empty) SQL a script may redirect.
            err.print(f"{_summary(result, verb)} There is no SQL to print.")
        return
    with progress.showing():
        result = run(target, on_start=progress.started, on_step=progress.finished)
    progress.result(result, _summary(result, verb))


@reports_errors
def upgrade(
    shared: Shared,
    target: Annotated[
        str, typer.Argument(help="head (default), a revision id or prefix, or +N.")
    ] = "head",
    sql: SqlOption = False,
    accept_data_loss: Annotated[
        bool,
        typer.Option(
            "--accept-data-loss",
            help="Run migrations that drop tables or columns with data, or narrow types.",
        ),
    ] = False,
    lock_wait: LockWaitOption = None,
    lock_timeout: LockTimeoutOption = None,
    lock_retries: LockRetriesOption = None,
) -> None:
    """Apply migrations up to TARGET, in one transaction where the database allows.

    A migration that would delete data is refused (exit 3) unless --accept-data-loss.
    """
    locks = {"lock_wait": lock_wait, "lock_timeout": lock_timeout, "lock_retries": lock_retries}
    _move("upgrade", target, sql, shared, locks, accept_data_loss)


@reports_errors
def downgrade(
    shared: Shared,
    target: Annotated[str, typer.Argument(help="-N, a revision id or prefix, or base. Required.")],
    sql: SqlOption = False,
    lock_wait: LockWaitOption = None,
    lock_timeout: LockTimeoutOption = None,
    lock_retries: LockRetriesOption = None,
) -> None:
    """Revert migrations down to TARGET."""
    locks = {"lock_wait": lock_wait, "lock_timeout": lock_timeout, "lock_retries": lock_retries}
    _move("downgrade", target, sql, shared, locks)


@reports_errors
def stamp(
    shared: Shared,
    revision: Annotated[str, typer.Argument(help="The revision to record, or base / heads.")],
    lock_wait: LockWaitOption = None,
) -> None:
    """Record REVISION as the database's revision without running migrations."""
    result = shared.build(lock_wait=lock_wait).stamp(revision)
    if shared.json:
        emit_json(result.to_dict())
    else:
        say(
            f"Stamped: the database was at {', '.join(result.before) or 'base'}, now {', '.join(result.after) or 'base'}."
        )

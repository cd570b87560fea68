"""upgrade, downgrade, stamp: moving the database along the revision graph."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import (
    ConfigOption,
    DirectoryOption,
    JsonOption,
    LockRetriesOption,
    LockTimeoutOption,
    LockWaitOption,
    MetadataOption,
    UrlOption,
    build,
)
from fastapi_alembic.cli.output import emit_json, err, milliseconds, out, reports_errors, say
from fastapi_alembic.lint.guard import DataLossPlan
from fastapi_alembic.reports import MoveResult, StepInfo

SqlOption = Annotated[
    bool,
    typer.Option("--sql", help="Print the SQL instead of running it (FROM:TO ranges allowed)."),
]


def _print_step(step: StepInfo) -> None:
    arrow = "[green]↑[/]" if step.direction == "up" else "[yellow]↓[/]"
    say(f"  {arrow} {step.revision}  {escape(step.message)}  [dim]{milliseconds(step.seconds)}[/]")


def _summary(result: MoveResult, verb: str) -> str:
    where = ", ".join(result.after) or "base (no revision applied)"
    if not result.steps:
        return f"Nothing to {verb}: the database is at {where}."
    total = sum(step.seconds for step in result.steps)
    return f"Done: {len(result.steps)} migration(s) in {milliseconds(total)}; the database is at {where}."


def _loss_printer(to_stderr: bool) -> Callable[[DataLossPlan], None]:
    console = err if to_stderr else out

    def show(plan: DataLossPlan) -> None:
        if plan.direction == "downgrade":
            console.print(f"[yellow]This downgrade deletes data: {escape(plan.describe())}.[/]")
        else:
            console.print(f"[yellow]Accepted data loss: {escape(plan.describe())}.[/]")
        if plan.backup:
            console.print(f"Backup of the database written to {escape(plan.backup)}")

    return show


def _move(
    verb: str,
    target: str,
    sql: bool,
    json: bool,
    url: str | None,
    config: Path | None,
    metadata: str | None,
    directory: str | None,
    locks: dict[str, Any],
    accept_data_loss: bool = False,
) -> None:
    migrations = build(url, config, metadata, directory, **locks)
    on_loss = _loss_printer(to_stderr=sql or json)
    run = (
        functools.partial(
            migrations.upgrade, accept_data_loss=accept_data_loss, on_data_loss=on_loss
        )
        if verb == "upgrade"
        else functools.partial(migrations.downgrade, on_data_loss=on_loss)
    )
    if sql or json:
        result = run(target, sql=sql)
        if json:
            emit_json(result.to_dict())
        elif result.sql:
            typer.echo(result.sql, nl=False)
        else:
            # On standard error: standard output stays the (empty) SQL a script may redirect.
            err.print(f"{_summary(result, verb)} There is no SQL to print.")
        return
    with out.status(f"{verb.capitalize()} to {target}…"):
        result = run(target, on_step=_print_step)
    say(_summary(result, verb))


@reports_errors
def upgrade(
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
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
    lock_wait: LockWaitOption = None,
    lock_timeout: LockTimeoutOption = None,
    lock_retries: LockRetriesOption = None,
) -> None:
    """Apply migrations up to TARGET, in one transaction where the database allows.

    A migration that would delete data is refused (exit 3) unless --accept-data-loss.
    """
    locks = {"lock_wait": lock_wait, "lock_timeout": lock_timeout, "lock_retries": lock_retries}
    _move("upgrade", target, sql, json, url, config, metadata, directory, locks, accept_data_loss)


@reports_errors
def downgrade(
    target: Annotated[str, typer.Argument(help="-N, a revision id or prefix, or base. Required.")],
    sql: SqlOption = False,
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
    lock_wait: LockWaitOption = None,
    lock_timeout: LockTimeoutOption = None,
    lock_retries: LockRetriesOption = None,
) -> None:
    """Revert migrations down to TARGET."""
    locks = {"lock_wait": lock_wait, "lock_timeout": lock_timeout, "lock_retries": lock_retries}
    _move("downgrade", target, sql, json, url, config, metadata, directory, locks)


@reports_errors
def stamp(
    revision: Annotated[str, typer.Argument(help="The revision to record, or base / heads.")],
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
    lock_wait: LockWaitOption = None,
) -> None:
    """Record REVISION as the database's revision without running migrations."""
    result = build(url, config, metadata, directory, lock_wait=lock_wait).stamp(revision)
    if json:
        emit_json(result.to_dict())
    else:
        say(
            f"Stamped: the database was at {', '.join(result.before) or 'base'}, now {', '.join(result.after) or 'base'}."
        )

"""make and merge: writing revision files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.linting_commands import show_findings
from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, err, relative_path, reports_errors, say
from fastapi_alembic.errors import MigrationsError

if TYPE_CHECKING:
    from fastapi_alembic.lint.report import LintReport
    from fastapi_alembic.migrations import Migrations
    from fastapi_alembic.reports import MadeRevision


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(question: str) -> bool:
    return typer.confirm(question, default=False)


def _show_written(made: MadeRevision) -> None:
    say(f"Wrote revision {made.revision}: {relative_path(made.path)}")
    for operation in made.operations:
        if operation.destructive:
            say(f"  [bold red]! {escape(operation.description)}[/]  [red]({operation.reason})[/]")
        else:
            say(f"  + {escape(operation.description)}")
    for warning in made.warnings:
        say(f"[yellow]Warning: {escape(warning)}[/]")
    if made.destructive:
        say(
            f"[yellow]{len(made.destructive)} destructive operation(s): review the file before you upgrade.[/]"
        )


@reports_errors
def make(
    shared: Shared,
    message: Annotated[
        str, typer.Argument(help='What the revision does, e.g. "add users.phone_number".')
    ],
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty revision to fill in by hand.")
    ] = False,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            help="Answer a rename ahead, as table.old:table.new or old_table:new_table (repeatable).",
            show_default=False,
        ),
    ] = None,
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input", help="Never ask: what looks like a rename is written as drop + add."
        ),
    ] = False,
) -> None:
    """Autogenerate a revision from the difference between the models and the database."""
    migrations = shared.build()
    interactive = not no_input and not shared.json and stdin_is_terminal()
    made = migrations.make(
        message, empty=empty, renames=rename or (), ask=_ask if interactive else None
    )
    report = _lint_written(migrations, made)
    if shared.json:
        emit_json({**made.to_dict(), "lint": report.to_dict() if report else None})
        return
    _show_written(made)
    if report is not None:
        _show_lint(report, made.revision)


def _show_lint(report: LintReport, revision: str) -> None:
    """The findings, and what `check` will make of the revision: passed, or why not."""
    if report.findings:
        say(f"[bold]Lint[/] ({escape(report.summary())}):")
        show_findings(report.findings)
    if report.errors:
        say(
            f"[bold red]`fastapi-alembic check` fails on {revision} until each error above is "
            "fixed (the safe way is under it) or silenced in the file with the reason it is "
            "safe.[/]"
        )
    if report.left_out:
        say(
            f"[yellow]{report.left_out} finding(s) left out because their tables are small in "
            f"{escape(report.database or 'the database')}; `fastapi-alembic check "
            "--no-database` takes every table as large and reports them (`fastapi-alembic "
            f"lint {revision} --no-database` shows them).[/]"
        )


def _lint_written(migrations: Migrations, made: MadeRevision) -> LintReport | None:
    """Lint the revision just written; a lint that cannot run never undoes the make."""
    try:
        return migrations.lint([made.revision])
    except MigrationsError as error:
        err.print(f"[yellow]Lint was skipped: {escape(str(error))}[/]")
        return None


@reports_errors
def merge(
    shared: Shared,
    message: Annotated[
        str, typer.Option("-m", "--message", help="The merge revision's message.")
    ] = "merge heads",
) -> None:
    """Join the heads into one with a merge revision."""
    made = shared.build().merge(message)
    emit_json(made.to_dict()) if shared.json else say(
        f"Wrote merge revision {made.revision}: {relative_path(made.path)}"
    )

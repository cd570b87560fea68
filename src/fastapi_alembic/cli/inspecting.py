"""status, current, heads, history, show, check: reports on revisions and the database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli import graph
from fastapi_alembic.cli.options import (
    ConfigOption,
    DirectoryOption,
    JsonOption,
    MetadataOption,
    UrlOption,
    build,
)
from fastapi_alembic.cli.output import emit_json, out, reports_errors, say, show_checks
from fastapi_alembic.reports import Status
from fastapi_alembic.revisions import RevisionInfo


def _one_line(info: RevisionInfo) -> str:
    return f"{info.revision}  {escape(info.message)}"


def _show_status(status: Status) -> None:
    say(f"Database  {status.url}")
    say(f"Current   {', '.join(status.current) or 'base (no revision applied)'}")
    say(f"Heads     {', '.join(status.heads) or '(no revisions yet)'}")
    if status.pending:
        say(f"Pending   [yellow]{len(status.pending)} migration(s)[/]")
        for info in status.pending:
            say(f"            {_one_line(info)}")
    else:
        say("Pending   none: the database is at head")
    if status.models_match:
        say("Models    match the database")
    else:
        say("Models    [yellow]differ from the database[/]")
        for difference in status.differences:
            marker = "!" if difference.destructive else "+"
            say(f"            {marker} {escape(difference.description)}")
    for drift in status.drift:
        say(f"Ledger    [yellow]{escape(drift.sentence)}[/]")
    for note in status.notes:
        say(f"Note      [yellow]{escape(note)}[/]")


@reports_errors
def status(
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """Current revision, heads, pending migrations, and whether the models match the database."""
    report = build(url, config, metadata, directory).status()
    emit_json(report.to_dict()) if json else _show_status(report)


@reports_errors
def current(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 0 when the database is at head, 1 when behind, 3 when at a revision the "
            "files do not have. Fast: the migration files are read, not executed.",
        ),
    ] = False,
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """The revision(s) the database is at."""
    if check:
        answer = build(url, config, metadata, directory).head_check()
        emit_json(answer.to_dict()) if json else say(escape(answer.sentence))
        raise typer.Exit(answer.exit_code)
    revisions = build(url, config, metadata, directory).current()
    if json:
        emit_json({"current": list(revisions)})
    else:
        say(", ".join(revisions) or "base (no revision applied)")


@reports_errors
def heads(
    config: ConfigOption = None, directory: DirectoryOption = None, json: JsonOption = False
) -> None:
    """The newest revision of each branch."""
    found = build(None, config, None, directory).heads()
    if json:
        emit_json([info.to_dict() for info in found])
    else:
        for info in found:
            say(_one_line(info))


@reports_errors
def history(
    draw_graph: Annotated[bool, typer.Option("--graph", help="Draw branches and merges.")] = False,
    config: ConfigOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """Every revision, newest first."""
    revisions = build(None, config, None, directory).history()
    if json:
        emit_json([info.to_dict() for info in revisions])
    elif draw_graph:
        for line in graph.draw(revisions):
            out.print(line, markup=False)
    else:
        for info in revisions:
            parents = ", ".join(info.parents) or "<base>"
            tags = "".join(
                t for t, on in ((" (head)", info.is_head), (" (merge)", info.is_merge)) if on
            )
            say(f"{parents} -> {info.revision}{tags}, {escape(info.message)}")


@reports_errors
def show(
    revision: Annotated[str, typer.Argument(help="A revision id or prefix, or head.")],
    config: ConfigOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """One revision: its id, parents, message, file and source."""
    info, source = build(None, config, None, directory).show(revision)
    if json:
        emit_json({**info.to_dict(), "source": source})
        return
    say(f"Revision  {info.revision}{' (head)' if info.is_head else ''}")
    say(f"Parents   {', '.join(info.parents) or '<base>'}")
    say(f"Message   {escape(info.message)}")
    say(f"File      {info.path}")
    typer.echo("")
    typer.echo(source, nl=False)


@reports_errors
def check(
    scratch_url: Annotated[
        str | None,
        typer.Option(
            "--scratch-url",
            help="Server for the scratch database. Default: the --url server.",
            show_default=False,
        ),
    ] = None,
    no_database: Annotated[
        bool,
        typer.Option(
            "--no-database",
            help="There is no app database to check (CI without one): skip 'database at "
            "head' instead of failing because it cannot be reached.",
        ),
    ] = False,
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """For CI: one head, migrations reproduce the models, and the database is at head."""
    report = build(url, config, metadata, directory).check(
        scratch_url=scratch_url, no_database=no_database
    )
    if json:
        emit_json(report.to_dict())
    else:
        show_checks(report)
        say("All checks passed." if report.ok else "[bold red]Check failed.[/]")
    if not report.ok:
        raise typer.Exit(1)

"""status, current, heads, history, show: reports on revisions and the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, err, out, reports_errors, say
from fastapi_alembic.errors import DatabaseUnreachable, MigrationsError
from fastapi_alembic.urls import mask_text

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations
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
    for problem in status.ledger:
        say(f"Ledger    [yellow]{escape(problem.sentence)}[/]")
    for note in status.notes:
        say(f"Note      [yellow]{escape(note)}[/]")


@reports_errors
def status(shared: Shared) -> None:
    """Current revision, heads, pending migrations, and whether the models match the database."""
    report = shared.build().status()
    emit_json(report.to_dict()) if shared.json else _show_status(report)


@reports_errors
def current(
    shared: Shared,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 0 when the database is at head, 1 when behind, 3 when at a revision the "
            "files do not have. Fast: the migration files are read, not executed.",
        ),
    ] = False,
) -> None:
    """The revision(s) the database is at, marked (head) where it is a head, as Alembic does."""
    migrations = shared.build()
    if check:
        answer = migrations.head_check()
        emit_json(answer.to_dict()) if shared.json else say(escape(answer.sentence))
        raise typer.Exit(answer.exit_code)
    revisions = migrations.current()
    heads = [info.revision for info in migrations.heads()]
    if shared.json:
        emit_json(
            {"current": list(revisions), "heads": heads, "at_head": set(revisions) == set(heads)}
        )
    else:
        marked = (f"{r} (head)" if r in heads else r for r in revisions)
        say(", ".join(marked) or "base (no revision applied)")


@reports_errors
def heads(shared: Shared) -> None:
    """The newest revision of each branch."""
    found = shared.build().heads()
    if shared.json:
        emit_json([info.to_dict() for info in found])
    else:
        for info in found:
            say(_one_line(info))


def _database_revisions(migrations: Migrations) -> tuple[str, ...] | None:
    """Where the database is, for history to mark; None when no URL is set, or (said on
    standard error) when the database cannot be read."""
    from fastapi_alembic.dialects import for_url

    url = migrations.settings.url
    if url is None:
        return None
    try:
        missing = for_url(url).absent(url)
        if missing:  # looking never creates a database
            raise DatabaseUnreachable(missing)
        return migrations.current()
    except MigrationsError as error:
        err.print(
            "[yellow]Note:[/] the database's revision is not marked: "
            f"{escape(mask_text(str(error)))}"
        )
        return None


@reports_errors
def history(
    shared: Shared,
    draw_graph: Annotated[bool, typer.Option("--graph", help="Draw branches and merges.")] = False,
) -> None:
    """Every revision, newest first; the database's own marked (current) when a URL is set and
    the database can be read."""
    migrations = shared.build()
    revisions = migrations.history()
    current = _database_revisions(migrations)
    if shared.json:
        emit_json(
            [
                {
                    **info.to_dict(),
                    "is_current": None if current is None else info.revision in current,
                }
                for info in revisions
            ]
        )
    elif draw_graph:
        from fastapi_alembic.cli.graph import draw

        for line in draw(revisions, current or ()):
            out.print(line, markup=False)
    else:
        for info in revisions:
            parents = ", ".join(info.parents) or "<base>"
            tags = "".join(
                t
                for t, on in (
                    (" (head)", info.is_head),
                    (" (current)", current is not None and info.revision in current),
                    (" (merge)", info.is_merge),
                )
                if on
            )
            say(f"{parents} -> {info.revision}{tags}, {escape(info.message)}")


@reports_errors
def show(
    shared: Shared,
    revision: Annotated[str, typer.Argument(help="A revision id or prefix, or head.")],
) -> None:
    """One revision: its id, parents, message, file and source."""
    info, source = shared.build().show(revision)
    if shared.json:
        emit_json({**info.to_dict(), "source": source})
        return
    say(f"Revision  {info.revision}{' (head)' if info.is_head else ''}")
    say(f"Parents   {', '.join(info.parents) or '<base>'}")
    say(f"Message   {escape(info.message)}")
    say(f"File      {info.path}")
    typer.echo("")
    typer.echo(source, nl=False)

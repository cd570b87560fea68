"""test: the migration test suite against scratch databases; the test databases on a server."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import (
    checks_summary,
    emit_json,
    fail,
    out,
    reports_errors,
    say,
    show_checks,
)
from fastapi_alembic.database_names import app_tag

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations
    from fastapi_alembic.testing.leftovers import FoundDatabase, OurDatabases


@reports_errors
def test(
    shared: Shared,
    list_templates: Annotated[
        bool,
        typer.Option(
            "--list-templates",
            help="List the test databases FastAPI-Alembic made on the server (templates, "
            "copies and scratch databases a stopped run left) instead of running the suite.",
        ),
    ] = False,
    drop_templates: Annotated[
        bool,
        typer.Option(
            "--drop-templates",
            help="Drop them, except those a test run still running on this machine uses.",
        ),
    ] = False,
    prefix: Annotated[
        str | None,
        typer.Option(
            "--prefix",
            help="The test databases' name prefix. Default: test_database_prefix in "
            "pyproject, else faa.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The migration test suite: one head; up one at a time; up, down, up again; the models
    match; downgrades leave no trace; rows survive every upgrade."""
    from fastapi_alembic.testing.suite import run_suite

    # --url names the server the scratch databases are made on, not a database to use.
    migrations = replace(shared, url=None).build()
    url = shared.url
    if list_templates or drop_templates:
        if list_templates and drop_templates:
            raise fail("Give --list-templates or --drop-templates, not both.", 2)
        _test_databases(migrations, url, prefix, drop=drop_templates, json=shared.json)
        return
    if shared.json:
        report = run_suite(migrations, url)
        emit_json(report.to_dict())
    else:
        with out.status("Running the migration test suite…"):
            report = run_suite(migrations, url)
        show_checks(report)
        say(checks_summary(report))
    if not report.ok:
        raise typer.Exit(1)


def _test_databases(
    migrations: Migrations, url: str | None, prefix: str | None, *, drop: bool, json: bool
) -> None:
    from fastapi_alembic.testing.leftovers import default_server, drop_databases, find_databases

    chosen = prefix or migrations.settings.test_database_prefix
    server = url or default_server(os.environ)
    app = app_tag(migrations.directory)
    if not drop:
        found = find_databases(server, chosen, app)
        if json:
            emit_json(found.to_dict())
        else:
            _show_found(found)
        return
    if json:
        emit_json(drop_databases(server, chosen, app).to_dict())
        return
    with out.status("Looking for test databases…") as status:

        def dropping(database: FoundDatabase, number: int, of: int) -> None:
            status.update(f"Dropping {database.name} ({number} of {of})…")

        done = drop_databases(server, chosen, app, on_drop=dropping)
    for name in done.dropped:
        say(f"  dropped {escape(name)}")
    for name, reason in done.kept:
        say(f"  kept    {escape(name)}: {escape(reason)}")
    kept = f"; kept {len(done.kept)} in use" if done.kept else ""
    say(
        f"Dropped {len(done.dropped)} test database(s) named {escape(chosen)}_… on "
        f"{escape(done.server)}{kept}."
    )


def _show_found(found: OurDatabases) -> None:
    if not found.databases:
        say(f"No test database named {escape(found.prefix)}_… on {escape(found.server)}.")
        return
    say(f"Test databases named {escape(found.prefix)}_… on {escape(found.server)}:")
    width = max(len(database.name) for database in found.databases)
    for database in found.databases:
        notes = [database.kind]
        if database.this_app:
            notes.append("this project")
        if database.owner:
            notes.append(database.owner)
        say(f"  {escape(database.name.ljust(width))}  {escape(', '.join(notes))}")
    say(f"{len(found.databases)} database(s).")

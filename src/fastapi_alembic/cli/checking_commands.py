"""check: the checks for CI (one head, models, database at head, lint, applied files)."""

from __future__ import annotations

from typing import Annotated

import typer

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, reports_errors, say, show_checks


@reports_errors
def check(
    shared: Shared,
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
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Lint only the revisions after this one (default without a database: after "
            "lint-baseline, else every revision).",
            metavar="REV",
            show_default=False,
        ),
    ] = None,
    since_git: Annotated[
        str | None,
        typer.Option(
            "--since-git",
            help="Lint only the revisions whose files were added or changed since this git "
            "ref, e.g. origin/main.",
            metavar="REF",
            show_default=False,
        ),
    ] = None,
) -> None:
    """For CI: one head, migrations reproduce the models, the database is at head, the
    revisions not yet applied there (or new since --since/--since-git) pass lint, and applied
    migration files are unchanged."""
    report = shared.build().check(
        scratch_url=scratch_url, no_database=no_database, since=since, since_git=since_git
    )
    if shared.json:
        emit_json(report.to_dict())
    else:
        show_checks(report)
        say("All checks passed." if report.ok else "[bold red]Check failed.[/]")
    if not report.ok:
        raise typer.Exit(1)

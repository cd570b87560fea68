"""test: the migration test suite against scratch databases."""

from __future__ import annotations

from typing import Annotated

import typer

from fastapi_alembic.cli.options import (
    ConfigOption,
    DirectoryOption,
    JsonOption,
    MetadataOption,
    build,
)
from fastapi_alembic.cli.output import (
    checks_summary,
    emit_json,
    out,
    reports_errors,
    say,
    show_checks,
)
from fastapi_alembic.testing.suite import run_suite


@reports_errors
def test(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Server for the scratch databases. Default: the app's database server, or SQLite.",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """The migration test suite: one head; up one at a time; up, down, up again; the models
    match; downgrades leave no trace; rows survive every upgrade."""
    migrations = build(None, config, metadata, directory)
    if json:
        report = run_suite(migrations, url)
        emit_json(report.to_dict())
    else:
        with out.status("Running the migration test suite…"):
            report = run_suite(migrations, url)
        show_checks(report)
        say(checks_summary(report))
    if not report.ok:
        raise typer.Exit(1)

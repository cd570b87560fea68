"""test: the migration test suite against scratch databases."""

from __future__ import annotations

from dataclasses import replace

import typer

from fastapi_alembic.cli.options import Shared
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
def test(shared: Shared) -> None:
    """The migration test suite: one head; up one at a time; up, down, up again; the models
    match; downgrades leave no trace; rows survive every upgrade."""
    # --url names the server the scratch databases are made on, not a database to use.
    migrations = replace(shared, url=None).build()
    url = shared.url
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

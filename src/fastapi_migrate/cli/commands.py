"""The Typer application: every verb, registered by group."""

from __future__ import annotations

import typer

from fastapi_migrate.cli import authoring, inspecting, ledger, linting, moving, setup, testing

app = typer.Typer(
    name="fastapi-migrate",
    help="Database schema migrations for FastAPI and SQLAlchemy apps, built on Alembic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

app.command()(setup.init)
app.command()(setup.adopt)
app.command()(authoring.make)
app.command()(moving.upgrade)
# "-1" is a target, not an option.
app.command(context_settings={"ignore_unknown_options": True})(moving.downgrade)
app.command()(inspecting.status)
app.command()(inspecting.check)
app.command()(inspecting.current)
app.command()(inspecting.heads)
app.command()(inspecting.history)
app.command()(inspecting.show)
app.command()(moving.stamp)
app.command()(ledger.log)
app.command()(authoring.merge)
app.command()(testing.test)
app.command()(linting.lint)

"""The Typer application: every verb, registered by group."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from fastapi_alembic.cli import authoring, inspecting, ledger, linting, moving, setup, testing
from fastapi_alembic.cli.options import GLOBALS

app = typer.Typer(
    name="fastapi-alembic",
    help="Database schema migrations for FastAPI and SQLAlchemy apps, built on Alembic.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def global_options(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="The alembic.ini section to use, as `alembic -n NAME`. Default: alembic.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show INFO messages (Alembic's among them) too."),
    ] = False,
) -> None:
    """Database schema migrations for FastAPI and SQLAlchemy apps, built on Alembic."""
    GLOBALS.section = name
    GLOBALS.verbose = verbose
    # An env.py's logging.config.fileConfig(alembic.ini) turns Alembic's INFO chatter on for
    # the rest of the process: it stays off for the whole command unless -v.
    disabled = logging.root.manager.disable
    ctx.call_on_close(lambda: logging.disable(disabled))
    if not verbose:
        logging.disable(max(disabled, logging.INFO))
        return
    logging.disable(logging.NOTSET)
    alembic_logger = logging.getLogger("alembic")
    alembic_logger.setLevel(logging.INFO)
    if not alembic_logger.handlers:  # env.py may configure its own from alembic.ini
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
        alembic_logger.addHandler(handler)


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

"""The Typer application: every verb of the verb table (cli/verbs.py), registered in its order
with the shared options it takes."""

from __future__ import annotations

import importlib
import inspect
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from fastapi_alembic.cli.options import GLOBALS, with_shared_options
from fastapi_alembic.cli.verbs import VERBS


def _without_flag_metavars(params: list[Any]) -> list[Any]:
    """A flag takes no value: its help row shows no ``<bool>`` as if it did."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_metavars(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_metavars(super().get_params(ctx))


def unwrapped(text: str | None) -> str:
    """A docstring as help: each paragraph on one line (Rich help keeps single newlines, so
    a docstring wrapped at 100 columns would show broken lines)."""
    paragraphs = inspect.cleandoc(text or "").split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


SUMMARY = "Database schema migrations for FastAPI and SQLAlchemy apps, built on Alembic."

app = typer.Typer(
    name="fastapi-alembic",
    help=SUMMARY,
    cls=Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _show_version(asked: bool) -> None:
    if asked:
        from fastapi_alembic import __version__

        typer.echo(f"fastapi-alembic {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="The alembic.ini section to use, as `alembic -n NAME`. Default: alembic. "
            "Also taken after the verb.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show INFO messages (Alembic's among them) on standard error. Also taken "
            "after the verb.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    GLOBALS.section = name
    GLOBALS.verbose = verbose


for _verb in VERBS:
    _function = getattr(importlib.import_module(f"fastapi_alembic.cli.{_verb.module}"), _verb.name)
    app.command(
        _verb.name,
        cls=Command,
        help=unwrapped(_function.__doc__),
        context_settings=_verb.context or None,
    )(with_shared_options(_function, _verb.shared, _verb.help_for))

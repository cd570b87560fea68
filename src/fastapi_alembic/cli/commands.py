"""The Typer application: the verbs of the verb table (cli/verbs.py), registered in its order
with the shared options it takes.

A command line that names its verb gets an application of that verb alone, so only that verb's
module is imported (``upgrade`` loads nothing of ``make``, ``lint`` or ``test``); anything else
(help, a mistyped verb, shell completion) gets every verb.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from fastapi_alembic.cli.options import GLOBALS, with_shared_options
from fastapi_alembic.cli.verbs import VERBS, Verb


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


def _show_version(asked: bool) -> None:
    if asked:
        from fastapi_alembic import __version__

        typer.echo(f"fastapi-alembic {__version__}")
        raise typer.Exit()


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


def application(verbs: Sequence[Verb] = VERBS) -> typer.Typer:
    """A Typer application with ``verbs`` (each verb's module imported here)."""
    built = typer.Typer(
        name="fastapi-alembic",
        help=SUMMARY,
        cls=Group,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    built.callback()(global_options)
    for verb in verbs:
        function = getattr(importlib.import_module(f"fastapi_alembic.cli.{verb.module}"), verb.name)
        built.command(
            verb.name,
            cls=Command,
            help=unwrapped(function.__doc__),
            context_settings=verb.context or None,
        )(with_shared_options(function, verb.shared, verb.help_for))
    return built


def for_command_line(argv: Sequence[str]) -> typer.Typer:
    """The application for this command line: its verb alone when it names one."""
    return application(verbs_named(argv))


def verbs_named(argv: Sequence[str]) -> tuple[Verb, ...]:
    """The verb the command line names, after the global options; every verb when it names
    none we know, or when the shell asks for completions (they list every verb)."""
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return VERBS
    rest = list(argv)
    while rest:
        word = rest[0]
        if word in ("-n", "--name"):
            del rest[:2]
        elif (
            word in ("-v", "--verbose")
            or word.startswith("--name=")
            or (word.startswith("-n") and not word.startswith("--"))
        ):
            del rest[:1]
        else:
            break
    named = tuple(verb for verb in VERBS if rest and verb.name == rest[0])
    return named or VERBS


@functools.cache
def _every_verb() -> typer.Typer:
    return application()


def __getattr__(name: str) -> Any:
    # ``app``: the application with every verb (tests and the documentation's examples).
    if name == "app":
        return _every_verb()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

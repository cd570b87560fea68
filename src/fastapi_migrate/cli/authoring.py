"""make and merge: writing revision files."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from fastapi_migrate.cli.options import (
    ConfigOption,
    DirectoryOption,
    JsonOption,
    MetadataOption,
    UrlOption,
    build,
)
from fastapi_migrate.cli.output import emit_json, relative_path, reports_errors, say
from fastapi_migrate.reports import MadeRevision


def _show_written(made: MadeRevision) -> None:
    say(f"Wrote revision {made.revision}: {relative_path(made.path)}")
    for operation in made.operations:
        if operation.destructive:
            say(f"  [bold red]! {escape(operation.description)}[/]  [red]({operation.reason})[/]")
        else:
            say(f"  + {escape(operation.description)}")
    if made.destructive:
        say(
            f"[yellow]{len(made.destructive)} destructive operation(s): review the file before you upgrade.[/]"
        )


@reports_errors
def make(
    message: Annotated[
        str, typer.Argument(help='What the revision does, e.g. "add users.phone_number".')
    ],
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty revision to fill in by hand.")
    ] = False,
    url: UrlOption = None,
    config: ConfigOption = None,
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """Autogenerate a revision from the difference between the models and the database."""
    made = build(url, config, metadata, directory).make(message, empty=empty)
    emit_json(made.to_dict()) if json else _show_written(made)


@reports_errors
def merge(
    message: Annotated[
        str, typer.Option("-m", "--message", help="The merge revision's message.")
    ] = "merge heads",
    config: ConfigOption = None,
    directory: DirectoryOption = None,
    json: JsonOption = False,
) -> None:
    """Join the heads into one with a merge revision."""
    made = build(None, config, None, directory).merge(message)
    emit_json(made.to_dict()) if json else say(
        f"Wrote merge revision {made.revision}: {relative_path(made.path)}"
    )

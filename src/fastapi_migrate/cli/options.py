"""Options every verb shares, and building the facade from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fastapi_migrate.migrations import Migrations

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL. Default: $DATABASE_URL, then url in pyproject.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The pyproject.toml to read. Default: the nearest one.", show_default=False
    ),
]
MetadataOption = Annotated[
    str | None,
    typer.Option(
        "--metadata",
        help='The models, as "module:attribute" (a MetaData or a Base).',
        show_default=False,
    ),
]
DirectoryOption = Annotated[
    str | None,
    typer.Option(
        "--directory", help="The migrations folder. Default: migrations.", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document for scripts.")]


def build(
    url: str | None, config: Path | None, metadata: str | None = None, directory: str | None = None
) -> Migrations:
    return Migrations(metadata=metadata, url=url, directory=directory, config=config)

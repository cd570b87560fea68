"""init: wire a migrations folder to the app's models and DATABASE_URL."""

from __future__ import annotations

from typing import Annotated

import typer

from fastapi_migrate.cli.options import ConfigOption, DirectoryOption, MetadataOption, build
from fastapi_migrate.cli.output import relative_path, reports_errors, say


@reports_errors
def init(
    metadata: MetadataOption = None,
    directory: DirectoryOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rewrite an existing env.py and alembic.ini.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write the migrations folder and alembic.ini, and record the settings in pyproject.toml."""
    migrations = build(None, config, metadata, directory)
    for path in migrations.init(force=force):
        say(f"  wrote {relative_path(path)}")
    say(
        f"Migrations are set up in {relative_path(migrations.directory)}. Next: "
        '`fastapi-migrate make "create tables"`, then `fastapi-migrate upgrade`.'
    )

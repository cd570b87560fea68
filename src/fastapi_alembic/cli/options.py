"""Options every verb shares, and building the facade from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from fastapi_alembic.config import load_settings
from fastapi_alembic.migrations import Migrations

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
LockWaitOption = Annotated[
    float | None,
    typer.Option(
        "--lock-wait",
        min=0,
        help="Seconds to wait for another migrator's lock. Default: lock_wait in pyproject, "
        "else 300.",
        show_default=False,
    ),
]
LockTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--lock-timeout",
        min=0,
        help="Seconds a statement waits for a table lock before its migration is rolled back "
        "and retried (0: no limit). Default: lock_timeout in pyproject, else 5.",
        show_default=False,
    ),
]
LockRetriesOption = Annotated[
    int | None,
    typer.Option(
        "--lock-retries",
        min=0,
        help="Tries again after a lock timeout. Default: lock_retries in pyproject, else 3.",
        show_default=False,
    ),
]


@dataclass
class GlobalOptions:
    """What comes before the verb: ``fastapi-alembic --name NAME -v upgrade``."""

    section: str | None = None
    verbose: bool = False


GLOBALS = GlobalOptions()


def build(
    url: str | None,
    config: Path | None,
    metadata: str | None = None,
    directory: str | None = None,
    *,
    lock_wait: float | None = None,
    lock_timeout: float | None = None,
    lock_retries: int | None = None,
) -> Migrations:
    settings = load_settings(
        url=url,
        metadata_ref=metadata,
        directory=directory,
        config_path=config,
        section=GLOBALS.section,
        lock_wait=lock_wait,
        lock_timeout=lock_timeout,
        lock_retries=lock_retries,
    )
    settings.verbose = GLOBALS.verbose
    return Migrations(settings=settings)

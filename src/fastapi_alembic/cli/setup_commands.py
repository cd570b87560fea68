"""init and adopt: wire a migrations folder (new, or an existing Alembic one) to the app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, fail, relative_path, reports_errors, say

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations


@reports_errors
def init(
    shared: Shared,
    force: Annotated[
        bool, typer.Option("--force", help="Rewrite an existing env.py and alembic.ini.")
    ] = False,
) -> None:
    """Write the migrations folder and alembic.ini, and record the settings in pyproject.toml."""
    migrations = shared.build()
    written = migrations.init(force=force)
    if shared.json:
        emit_json(
            {
                "directory": str(migrations.directory),
                "written": [str(path) for path in written],
                "metadata": migrations.settings.metadata_ref,
            }
        )
        return
    for path in written:
        say(f"  wrote {relative_path(path)}")
    say(
        f"Migrations are set up in {relative_path(migrations.directory)}. Next: "
        '`fastapi-alembic make "create tables"`, then `fastapi-alembic upgrade`.'
    )


@reports_errors
def adopt(
    shared: Shared,
    check: Annotated[
        bool,
        typer.Option("--check", help="Show what would change and write nothing (exit 1 if any)."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    ini: Annotated[
        Path | None,
        typer.Option(
            "--ini",
            help="The project's alembic.ini when it is not in the project's root (a package "
            "folder): written as ini = ... under [tool.fastapi-alembic].",
        ),
    ] = None,
) -> None:
    """Wire an existing Alembic project for FastAPI-Alembic: its env.py options move into
    run_migrations(...), the old env.py is kept as env.py.orig; shows the diff first."""
    migrations = shared.build() if ini is None else _with_ini(shared, ini)
    plan = migrations.adoption()
    if shared.json:
        if plan.changed and not check:
            if not yes:
                raise fail("adopt --json writes only with --yes (or use --check).", 2)
            plan.write()
        emit_json(plan.to_dict())
        if check and plan.changed:
            raise typer.Exit(1)
        return
    if not plan.changed:
        say(f"{relative_path(plan.directory / 'env.py')} is already wired: nothing to change.")
        return
    typer.echo(plan.diff(), nl=False)
    for note in plan.notes:
        say(f"[bold]Note:[/] {escape(note)}")
    if check:
        say(f"adopt would change {len(plan.changes)} file(s): run `fastapi-alembic adopt`.")
        raise typer.Exit(1)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("adopt asks before writing: pass --yes to write without asking.", 2)
        if not typer.confirm("Write these changes?", default=False):
            say("Nothing written.")
            raise typer.Exit(1)
    for path in plan.write():
        say(f"  wrote {relative_path(path)}")
    backup = f"; the old env.py is kept as {relative_path(plan.backup)}" if plan.backup else ""
    say(
        f"Adopted {relative_path(plan.directory)}{backup}. Next: `fastapi-alembic check`, "
        "then `fastapi-alembic test`."
    )


def _with_ini(shared: Shared, ini: Path) -> Migrations:
    """The facade for ``shared``, reading the project's Alembic settings from ``ini``."""
    from fastapi_alembic.config import load_settings
    from fastapi_alembic.migrations import Migrations

    settings = load_settings(
        url=shared.url,
        metadata_ref=shared.metadata,
        directory=shared.directory,
        config_path=shared.config,
        section=shared.name,
        alembic_ini=ini.resolve(),
    )
    settings.verbose = shared.verbose
    return Migrations(settings=settings)

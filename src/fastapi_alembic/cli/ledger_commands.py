"""log: the applied-migration ledger, and accepting a deliberate edit of an applied file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from fastapi_alembic.cli.options import Shared
from fastapi_alembic.cli.output import emit_json, reports_errors, say


@reports_errors
def log(
    shared: Shared,
    accept: Annotated[
        str | None,
        typer.Option(
            "--accept",
            metavar="REVISION",
            help="Accept a deliberate edit of this applied revision's file (record its new "
            "checksum), or the deliberate removal of its file.",
            show_default=False,
        ),
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt",
            help="Record the applied revisions the ledger has no row for (its table was "
            "dropped, or the database was migrated without FastAPI-Alembic), with their files "
            "as they are now.",
        ),
    ] = False,
) -> None:
    """The ledger: every migration applied or reverted, when, how long, by whom, and how it ended."""
    migrations = shared.build()
    if adopt:
        adopted = migrations.adopt_ledger()
        if shared.json:
            emit_json([entry.to_dict() for entry in adopted])
        elif adopted:
            listed = ", ".join(entry.revision for entry in adopted)
            say(f"Adopted into the ledger: {len(adopted)} applied revision(s), {listed}.")
        else:
            say("Nothing to adopt: the ledger has a row for every applied revision.")
        return
    if accept is not None:
        entry = migrations.accept_edit(accept)
        if shared.json:
            emit_json(entry.to_dict())
        elif entry.outcome == "removed":
            say(f"Accepted: revision {entry.revision}'s file was removed on purpose.")
        else:
            say(
                f"Accepted: revision {entry.revision}'s file as it is now (checksum {entry.checksum})."
            )
        return
    entries = migrations.log()
    if shared.json:
        emit_json([entry.to_dict() for entry in entries])
        return
    if not entries:
        say(
            "The ledger is empty: no migration has run here since FastAPI-Alembic began keeping it."
        )
        return
    for entry in entries:
        arrow = "↑" if entry.direction == "up" else "↓"
        took = f"{entry.seconds * 1000:.0f} ms" if entry.seconds is not None else "-"
        who = " ".join(part for part in (entry.db_user, entry.client_host, entry.process) if part)
        say(
            f"{entry.started_at:%Y-%m-%d %H:%M:%S}  {arrow} {entry.revision}  "
            f"{entry.outcome:<9} {took:>8}  {escape(who)}"
        )

"""Writing revision files: make (autogenerate) and merge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.script import Script
from alembic.util import CommandError
from sqlalchemy import Connection

import fastapi_alembic.revisions as graph
from fastapi_alembic.autogen.directives import MakeDirectives
from fastapi_alembic.errors import DatabaseStateError, NothingToDo, ScriptError
from fastapi_alembic.jobs import running
from fastapi_alembic.jobs.common import current_heads
from fastapi_alembic.reports import MadeRevision
from fastapi_alembic.revision_messages import (
    clean_message,
    require_template_can_hold,
    verify_revision_file,
)
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.workspace import Workspace


def make(
    workspace: Workspace,
    message: str,
    *,
    empty: bool,
    renames: Sequence[str],
    ask: Callable[[str], bool] | None,
) -> MadeRevision:
    """The body of ``Migrations.make``."""
    message = clean_message(message)
    if not message.strip():
        raise ScriptError('A revision needs a message, for example: make "add users.phone_number".')
    require_template_can_hold(workspace.directory / "script.py.mako", message)
    keep_or_drop = MakeDirectives(renames, ask)
    line = ("revision", *([] if empty else ["--autogenerate"]), f"--message={message}")
    config = workspace.environment_config(command=line, process_revision_directives=keep_or_drop)
    script = workspace.script_directory(config, first=True)
    graph.require_single_head(script)
    if empty:
        with workspace.running_env():
            written = command.revision(config, message=message)
    else:

        def work(_connection: Connection | None) -> Any:
            try:
                with workspace.running_env():
                    return command.revision(config, message=message, autogenerate=True)
            except CommandError:
                # Alembic refuses a database that is not at head; say why in our words.
                # (Asked only on failure: one run of env.py less for every make.)
                current = running.with_environment(workspace, config, script, current_heads)
                graph.require_known(script, current)
                if set(current) != set(script.get_heads()):
                    behind = len(graph.pending(script, current))
                    raise DatabaseStateError(
                        f"The database at {mask_url(workspace.url)} is {behind} revision(s) "
                        "behind head: run `fastapi-alembic upgrade` first, so the new "
                        "revision is made against the latest schema."
                    ) from None
                raise

        written = running.connected(workspace, config, work)
    if isinstance(written, Script):
        workspace.remember_written(script)
    if not isinstance(written, Script):
        raise NothingToDo(
            "The models match the database: no revision was written. "
            "Use --empty for a hand-written (data) migration."
        )
    _verify_written(workspace, written, message)
    return MadeRevision(
        written.revision,
        message,
        written.path,
        tuple(keep_or_drop.operations),
        tuple(keep_or_drop.warnings),
    )


def merge(workspace: Workspace, message: str) -> MadeRevision:
    """The body of ``Migrations.merge``."""
    message = clean_message(message)
    require_template_can_hold(workspace.directory / "script.py.mako", message)
    config = workspace.alembic_config(command=("merge", f"--message={message}", "heads"))
    script = workspace.script_directory(config)
    heads = script.get_heads()
    if len(heads) < 2:
        raise NothingToDo("There is only one head: there is nothing to merge.")
    with workspace.running_env():
        written = command.merge(config, revisions="heads", message=message)
    if written is not None:
        workspace.remember_written(script)
    if written is None:  # pragma: no cover - Alembic returns the script it wrote
        raise NothingToDo("Alembic wrote no merge revision.")
    _verify_written(workspace, written, message)
    return MadeRevision(written.revision, message, written.path)


def _verify_written(workspace: Workspace, written: Script, message: str) -> None:
    verify_revision_file(Path(written.path), message, workspace.directory / "script.py.mako")

"""What the reading verbs report: where the database stands (current, status), the revision
files (heads, history, show), what autogenerate would write, the ledger's drift and notes
about the migrations folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import fastapi_alembic.revisions as graph
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.jobs import bookkeeping, running
from fastapi_alembic.jobs.common import current_heads, resolve
from fastapi_alembic.reports import Status
from fastapi_alembic.revisions import RevisionInfo
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.autogen import OperationInfo
    from fastapi_alembic.workspace import Workspace


def current(workspace: Workspace) -> tuple[str, ...]:
    """The body of ``Migrations.current``."""
    return running.inspect(workspace, lambda context, _script: current_heads(context), models=False)


def heads(workspace: Workspace) -> list[RevisionInfo]:
    """The body of ``Migrations.heads``."""
    script = workspace.script_directory(workspace.alembic_config(command=("heads",)))
    return [RevisionInfo.of(s) for s in script.get_revisions(script.get_heads()) if s is not None]


def history(workspace: Workspace) -> list[RevisionInfo]:
    """The body of ``Migrations.history``."""
    script = workspace.script_directory(workspace.alembic_config(command=("history",)))
    return [RevisionInfo.of(s) for s in script.walk_revisions()]


def show(workspace: Workspace, revision: str) -> tuple[RevisionInfo, str]:
    """The body of ``Migrations.show``."""
    script = workspace.script_directory(workspace.alembic_config(command=("show", revision)))
    found = resolve(script, revision)
    return RevisionInfo.of(found), Path(found.path).read_text(encoding="utf-8")


def differences(workspace: Workspace) -> list[OperationInfo]:
    """The body of ``Migrations.differences``."""
    return running.inspect(workspace, lambda context, _script: compare(context))


def status(workspace: Workspace) -> Status:
    def inspect(migration_context: MigrationContext, script: ScriptDirectory) -> Status:
        bookkeeping.refuse_interrupted(workspace.settings, migration_context)
        current = current_heads(migration_context)
        graph.require_known(script, current)
        differences = compare(migration_context)
        return Status(
            url=mask_url(workspace.url),
            current=current,
            heads=tuple(script.get_heads()),
            pending=tuple(RevisionInfo.of(s) for s in graph.pending(script, current)),
            models_match=not differences,
            differences=tuple(differences),
            drift=tuple(bookkeeping.drift(workspace.settings, migration_context, script)),
            ledger=tuple(
                bookkeeping.ledger_problems(workspace.settings, migration_context, script)
            ),
            notes=notes(workspace),
        )

    return running.inspect(workspace, inspect)


def notes(workspace: Workspace) -> tuple[str, ...]:
    """What status and check mention beside their findings."""
    from fastapi_alembic.adoption import is_wired

    env_py = workspace.directory / "env.py"
    if is_wired(env_py) or not env_py.is_file():
        return ()
    return (
        f"{workspace.directory / 'env.py'} is not wired for FastAPI-Alembic: run "
        "`fastapi-alembic adopt` to wire it, keeping its options.",
    )


def compare(migration_context: MigrationContext) -> list[OperationInfo]:
    metadata = migration_context.opts["target_metadata"]
    if metadata is None:  # Alembic would raise its --autogenerate CommandError
        raise ConfigError(
            "env.py gives Alembic no models (its target_metadata is None): set metadata = "
            '"yourapp.models:Base" under [tool.fastapi-alembic] in pyproject.toml, or pass '
            "--metadata."
        )
    # Loaded by the verbs that compare, not by upgrade (whose offline path imports this module).
    from alembic.autogenerate import produce_migrations

    from fastapi_alembic.autogen import describe_operations
    from fastapi_alembic.autogen.defaults import drop_identity_noise

    upgrade_ops_list = produce_migrations(migration_context, metadata).upgrade_ops_list
    for container in upgrade_ops_list:
        drop_identity_noise(container, migration_context.dialect)
    return describe_operations(upgrade_ops_list)

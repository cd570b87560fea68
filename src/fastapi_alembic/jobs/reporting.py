"""What status reports: where the database stands, what autogenerate would write, the
ledger's drift and notes about the migrations folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.autogenerate import produce_migrations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fastapi_alembic import revisions as graph
from fastapi_alembic.autogen import OperationInfo, describe_operations
from fastapi_alembic.autogen.defaults import drop_identity_noise
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.jobs import running
from fastapi_alembic.jobs.common import current_heads
from fastapi_alembic.reports import Status
from fastapi_alembic.revisions import RevisionInfo
from fastapi_alembic.runtime import reading
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations


def status(migrations: Migrations) -> Status:
    def inspect(migration_context: MigrationContext, script: ScriptDirectory) -> Status:
        reading.refuse_interrupted(migrations.settings, migration_context)
        current = current_heads(migration_context)
        graph.require_known(script, current)
        differences = compare(migration_context)
        return Status(
            url=mask_url(migrations.url),
            current=current,
            heads=tuple(script.get_heads()),
            pending=tuple(RevisionInfo.of(s) for s in graph.pending(script, current)),
            models_match=not differences,
            differences=tuple(differences),
            drift=tuple(reading.drift(migrations.settings, migration_context, script)),
            ledger=tuple(reading.ledger_problems(migrations.settings, migration_context, script)),
            notes=notes(migrations),
        )

    return running.inspect(migrations, inspect)


def notes(migrations: Migrations) -> tuple[str, ...]:
    """What status and check mention beside their findings."""
    from fastapi_alembic.adoption import is_wired

    env_py = migrations.directory / "env.py"
    if is_wired(env_py) or not env_py.is_file():
        return ()
    return (
        f"{migrations.directory / 'env.py'} is not wired for FastAPI-Alembic: run "
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
    upgrade_ops_list = produce_migrations(migration_context, metadata).upgrade_ops_list
    for container in upgrade_ops_list:
        drop_identity_noise(container, migration_context.dialect)
    return describe_operations(upgrade_ops_list)

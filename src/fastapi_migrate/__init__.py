"""FastAPI-Migrate: schema migrations for FastAPI and SQLAlchemy apps, built on Alembic."""

from fastapi_migrate.autogen import OperationInfo
from fastapi_migrate.config import Settings, load_settings
from fastapi_migrate.errors import (
    CheckFailed,
    ConfigError,
    DatabaseStateError,
    DatabaseUnreachable,
    MigrationFailed,
    MigrationsError,
    NothingToDo,
    ScriptError,
)
from fastapi_migrate.migrations import Migrations
from fastapi_migrate.reports import (
    CheckItem,
    CheckReport,
    MadeRevision,
    MoveResult,
    Status,
    StepInfo,
)
from fastapi_migrate.revisions import RevisionInfo
from fastapi_migrate.urls import mask_url

__all__ = [
    "CheckFailed",
    "CheckItem",
    "CheckReport",
    "ConfigError",
    "DatabaseStateError",
    "DatabaseUnreachable",
    "MadeRevision",
    "MigrationFailed",
    "Migrations",
    "MigrationsError",
    "MoveResult",
    "NothingToDo",
    "OperationInfo",
    "RevisionInfo",
    "ScriptError",
    "Settings",
    "Status",
    "StepInfo",
    "load_settings",
    "mask_url",
]

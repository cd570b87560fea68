"""FastAPI-Alembic: schema migrations for FastAPI and SQLAlchemy apps, built on Alembic.

The public names load on first use: the pytest plugin (loaded by every pytest run where the
package is installed) imports this package, and should not pay for Alembic until a test asks
for a migrated database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

    from fastapi_alembic.autogen import OperationInfo
    from fastapi_alembic.config import Settings, load_settings
    from fastapi_alembic.errors import (
        CheckFailed,
        ConfigError,
        DatabaseStateError,
        DatabaseUnreachable,
        DataLossRefused,
        MigrationFailed,
        MigrationsError,
        NothingToDo,
        RevisionExited,
        ScriptError,
    )
    from fastapi_alembic.migrations import Migrations
    from fastapi_alembic.reports import (
        CheckItem,
        CheckReport,
        MadeRevision,
        MoveResult,
        Status,
        StepInfo,
        StepStart,
    )
    from fastapi_alembic.revisions import RevisionInfo
    from fastapi_alembic.urls import mask_url

_HOME = {
    "OperationInfo": "autogen",
    "Settings": "config",
    "load_settings": "config",
    "CheckFailed": "errors",
    "ConfigError": "errors",
    "DataLossRefused": "errors",
    "DatabaseStateError": "errors",
    "DatabaseUnreachable": "errors",
    "MigrationFailed": "errors",
    "MigrationsError": "errors",
    "NothingToDo": "errors",
    "RevisionExited": "errors",
    "ScriptError": "errors",
    "Migrations": "migrations",
    "CheckItem": "reports",
    "CheckReport": "reports",
    "MadeRevision": "reports",
    "MoveResult": "reports",
    "Status": "reports",
    "StepInfo": "reports",
    "StepStart": "reports",
    "RevisionInfo": "revisions",
    "mask_url": "urls",
}

__all__ = [
    "CheckFailed",
    "CheckItem",
    "CheckReport",
    "ConfigError",
    "DataLossRefused",
    "DatabaseStateError",
    "DatabaseUnreachable",
    "MadeRevision",
    "MigrationFailed",
    "Migrations",
    "MigrationsError",
    "MoveResult",
    "NothingToDo",
    "OperationInfo",
    "RevisionExited",
    "RevisionInfo",
    "ScriptError",
    "Settings",
    "Status",
    "StepInfo",
    "StepStart",
    "load_settings",
    "mask_url",
]


#: What a checkout that was never installed calls itself.
UNKNOWN_VERSION = "0+unknown"


def _version() -> str:
    """The installed distribution's version (its metadata, so it is the wheel's own)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fastapi-alembic")
    except PackageNotFoundError:
        return UNKNOWN_VERSION


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on first use: the start-up fast path never asks
        globals()[name] = value = _version()
        return value
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'fastapi_alembic' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fastapi_alembic.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME, "__version__"])

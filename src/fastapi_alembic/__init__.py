"""FastAPI-Alembic: schema migrations for FastAPI and SQLAlchemy apps, built on Alembic.

The public names load on first use: the pytest plugin (loaded by every pytest run where the
package is installed) imports this package, and should not pay for Alembic until a test asks
for a migrated database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_alembic.lazy_names import loader

if TYPE_CHECKING:
    __version__: str

    from fastapi_alembic.adoption import AdoptionPlan
    from fastapi_alembic.adoption.reading import CannotAdopt
    from fastapi_alembic.autogen import OperationInfo
    from fastapi_alembic.config import Settings, load_settings
    from fastapi_alembic.database_pinning import WrongDatabase
    from fastapi_alembic.errors import (
        CheckFailed,
        ConfigError,
        DatabaseStateError,
        DatabaseUnreachable,
        DataLossRefused,
        MigrationBlocked,
        MigrationFailed,
        MigrationLockLost,
        MigrationLockTimeout,
        MigrationsError,
        NothingToDo,
        RevisionExited,
        ScriptError,
    )
    from fastapi_alembic.gate.head_check import HeadCheck, Position
    from fastapi_alembic.jobs.moving import DataLossCallback, StartCallback, StepCallback
    from fastapi_alembic.lint.report import LintReport
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
    from fastapi_alembic.runtime.data_loss import DataLossPlan
    from fastapi_alembic.runtime.ledger import Entry as LedgerEntry
    from fastapi_alembic.urls import mask_url

_HOME = {
    "AdoptionPlan": "adoption",
    "CannotAdopt": "adoption.reading",
    "OperationInfo": "autogen",
    "WrongDatabase": "database_pinning",
    "Settings": "config",
    "load_settings": "config",
    "CheckFailed": "errors",
    "ConfigError": "errors",
    "DataLossRefused": "errors",
    "DatabaseStateError": "errors",
    "DatabaseUnreachable": "errors",
    "MigrationBlocked": "errors",
    "MigrationFailed": "errors",
    "MigrationLockLost": "errors",
    "MigrationLockTimeout": "errors",
    "MigrationsError": "errors",
    "NothingToDo": "errors",
    "RevisionExited": "errors",
    "ScriptError": "errors",
    "DataLossCallback": "jobs.moving",
    "StartCallback": "jobs.moving",
    "StepCallback": "jobs.moving",
    "DataLossPlan": "runtime.data_loss",
    "LintReport": "lint.report",
    "Migrations": "migrations",
    "CheckItem": "reports",
    "CheckReport": "reports",
    "MadeRevision": "reports",
    "MoveResult": "reports",
    "Status": "reports",
    "StepInfo": "reports",
    "StepStart": "reports",
    "RevisionInfo": "revisions",
    "HeadCheck": "gate.head_check",
    "Position": "gate.head_check",
    "LedgerEntry": "runtime.ledger:Entry",
    "mask_url": "urls",
}

__all__ = [
    "AdoptionPlan",
    "CannotAdopt",
    "CheckFailed",
    "CheckItem",
    "CheckReport",
    "ConfigError",
    "DataLossCallback",
    "DataLossPlan",
    "DataLossRefused",
    "DatabaseStateError",
    "DatabaseUnreachable",
    "HeadCheck",
    "LedgerEntry",
    "LintReport",
    "MadeRevision",
    "MigrationBlocked",
    "MigrationFailed",
    "MigrationLockLost",
    "MigrationLockTimeout",
    "Migrations",
    "MigrationsError",
    "MoveResult",
    "NothingToDo",
    "OperationInfo",
    "Position",
    "RevisionExited",
    "RevisionInfo",
    "ScriptError",
    "Settings",
    "StartCallback",
    "Status",
    "StepCallback",
    "StepInfo",
    "StepStart",
    "WrongDatabase",
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


_load = loader(__name__, _HOME, globals())


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on first use: the start-up fast path never asks
        globals()[name] = value = _version()
        return value
    return _load(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME, "__version__"])

"""A lint rule: its identity, its advice, and the check that finds it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi_alembic.lint.context import Check, SizeScope
from fastapi_alembic.lint.model import BACKENDS, Direction, Severity

CATEGORIES = {
    "data-loss": "Data loss",
    "locking": "Locks and rewrites (PostgreSQL)",
    "mysql": "MySQL and MariaDB",
    "sqlite": "SQLite",
    "compatibility": "Compatibility with the code still running",
    "hygiene": "Hygiene",
}


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    severity: Severity
    title: str  # what it finds, in a few words
    why: str  # why it is dangerous
    safe: str  # the safe way, as Alembic code to paste
    check: Check
    backends: tuple[str, ...] = BACKENDS
    versions: str = "all versions"
    directions: tuple[Direction, ...] = ("upgrade",)
    #: "size": harmless on a table under the row threshold; "rows": harmless on an empty table
    scope: SizeScope = None

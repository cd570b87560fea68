"""A lint rule: its identity, its advice, and the check that finds it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi_alembic.lint.advice import Advice, Subject
from fastapi_alembic.lint.context import Check, SizeScope
from fastapi_alembic.lint.facts import backends
from fastapi_alembic.lint.model import Direction, Severity

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
    advice: Advice  # the safe way for one finding, as Alembic code to paste
    example: Subject  # a finding to show the advice for in docs/lint.md
    check: Check
    backends: tuple[str, ...] = field(default_factory=backends)
    versions: str = "all versions"
    directions: tuple[Direction, ...] = ("upgrade",)
    #: "size": harmless on a table under the row threshold; "rows": harmless on an empty table
    scope: SizeScope = None

    @property
    def safe(self) -> str:
        """The safe way, written for the rule's example finding."""
        return self.advice(self.example)


#: The ids of every registered rule, filled in by the registry (lint/rules/__init__.py) when it
#: loads: a rule that checks other rules' names (silence-without-reason) reads them here
#: instead of importing the registry that imports it.
REGISTERED_IDS: list[str] = []


def register(rules: tuple[Rule, ...]) -> None:
    REGISTERED_IDS[:] = [rule.id for rule in rules]

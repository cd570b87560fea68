"""What lint knows of each backend, registered by the backend's name in dialects/registry.py.

The rules lint runs for a backend are the rules of lint/rules/ that name it (every rule names
every backend lint has facts for, unless it says otherwise); the facts a rule needs of one
backend are in that backend's module here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_alembic.dialects.registry import backend_name
from fastapi_alembic.lint.facts import mysql_facts, postgresql_facts, sqlite_facts
from fastapi_alembic.lint.facts.backend_facts import BackendFacts, unknown_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_FACTS: dict[str, BackendFacts] = {}


def register(backend: str, facts: BackendFacts) -> None:
    """Lint ``backend`` (its name in dialects/registry.py) with ``facts``."""
    _FACTS[backend] = facts


def unregister(backend: str) -> None:
    _FACTS.pop(backend, None)


def backends() -> tuple[str, ...]:
    """The backends lint knows the rules of, in the order they were registered."""
    return tuple(_FACTS)


def lint_backend(name: str) -> str | None:
    """The backend lint checks for ``name`` (any name a backend answers to: "mariadb" is
    linted as "mysql"), or None when lint has no facts for it."""
    found = backend_name(name)
    return found if found in _FACTS else None


def backend_of(url: URL) -> str | None:
    """The lint backend of a URL: postgresql, mysql (MariaDB too) or sqlite."""
    return lint_backend(url.get_backend_name())


def facts_of(backend: str) -> BackendFacts:
    """The facts of ``backend``, one of :func:`backends`."""
    return _FACTS[backend]


register("postgresql", postgresql_facts.FACTS)
register("mysql", mysql_facts.FACTS)
register("sqlite", sqlite_facts.FACTS)

__all__ = [
    "BackendFacts",
    "backend_of",
    "backends",
    "facts_of",
    "lint_backend",
    "register",
    "unknown_rows",
    "unregister",
]

"""Per-backend behaviour, looked up by URL. Nothing else in the package branches on dialect.

The backends are named in registry.py; each one's behaviour is a DialectSupport subclass in a
module of its own, loaded when first asked for. This package imports nothing else of
fastapi_alembic but errors.py and urls.py, and loads no SQLAlchemy until a lookup is made (the
start-up probe reads the registry).

Internal: nothing here is promised between releases; what users need is exported by
``fastapi_alembic`` (see docs/guide.md, "The Python API").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_alembic.dialects.registry import support

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from fastapi_alembic.dialects.base import DialectSupport


def for_url(url: URL) -> DialectSupport:
    return for_backend(url.get_backend_name())


def for_backend(name: str) -> DialectSupport:
    """By SQLAlchemy's dialect name, as a MigrationContext knows it."""
    found: DialectSupport | None = support(name)
    if found is not None:
        return found
    # The defaults, for a backend no one registered (imported here: SQLAlchemy is heavy).
    from fastapi_alembic.dialects.base import DialectSupport

    return DialectSupport()


__all__ = ["for_backend", "for_url"]

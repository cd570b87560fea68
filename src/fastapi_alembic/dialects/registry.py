"""Which backends exist, and the names each answers to: the one list every feature keys by.

A backend is registered once, under SQLAlchemy's backend name, with the class that holds its
behaviour (named as ``"module:Class"`` so that it loads only when first asked for) and the other
names its URLs may carry (``mariadb://`` is the MySQL backend). The features with per-backend
code of their own (the test suite's template stores, lint's facts) register their part under
the same name, and a test checks that every backend has all of them.

Imports nothing but the standard library: the start-up probe maps names through it too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Backend:
    """One registered backend."""

    #: SQLAlchemy's backend name, the key every feature registers its part under.
    name: str
    #: Where its DialectSupport subclass is: "package.module:Class", or the class itself.
    support: Any
    #: Other backend names its URLs may carry, handled as this one.
    aliases: tuple[str, ...] = ()


_BACKENDS: dict[str, Backend] = {}
_NAMES: dict[str, str] = {}  # every spelling -> the registered name
_LOADED: dict[str, Any] = {}  # name -> the DialectSupport instance, once made


def register(name: str, support: Any, *, aliases: tuple[str, ...] = ()) -> None:
    """Add backend ``name`` (or replace it): ``support`` is its DialectSupport subclass, or
    where to import it from (``"package.module:Class"``)."""
    for spelling in (name, *aliases):
        taken = _NAMES.get(spelling)
        if taken is not None and taken != name:
            raise ValueError(f"{spelling!r} already names the backend {taken!r}")
    unregister(name)
    _BACKENDS[name] = Backend(name, support, aliases)
    _NAMES.update(dict.fromkeys((name, *aliases), name))


def unregister(name: str) -> None:
    """Take backend ``name`` off again (a test's fake backend, when the test ends)."""
    backend = _BACKENDS.pop(name, None)
    if backend is not None:
        for spelling in (backend.name, *backend.aliases):
            _NAMES.pop(spelling, None)
    _LOADED.pop(name, None)


def names() -> tuple[str, ...]:
    """The registered backends, in the order they were registered."""
    return tuple(_BACKENDS)


def spellings() -> tuple[str, ...]:
    """Every name a backend answers to: the registered ones and their aliases."""
    return tuple(_NAMES)


def backend_name(name: str) -> str | None:
    """The registered backend that ``name`` (any spelling, any case) stands for, else None."""
    return _NAMES.get(name.lower())


def aliases_of(name: str) -> tuple[str, ...]:
    """``name`` and the other names its URLs may carry (the dialect names SQLAlchemy reports)."""
    backend = _BACKENDS.get(name)
    return () if backend is None else (backend.name, *backend.aliases)


def support(name: str) -> Any:
    """The DialectSupport of the backend ``name`` stands for (made once), or None if unknown."""
    registered = backend_name(name)
    if registered is None:
        return None
    if registered not in _LOADED:
        found = _BACKENDS[registered].support
        if isinstance(found, str):
            module, _, attribute = found.partition(":")
            found = getattr(importlib.import_module(module), attribute)
        _LOADED[registered] = found()
    return _LOADED[registered]


# The backends the package brings. Adding one: a module in this package with its
# DialectSupport subclass, one line here, and one part per feature that registers its own
# (testing/stores/, lint/facts/); tests/dialects/test_backend_registry.py shows it with a fake backend.
register("postgresql", "fastapi_alembic.dialects.postgresql:PostgreSQLSupport")
register("mysql", "fastapi_alembic.dialects.mysql:MySQLSupport", aliases=("mariadb",))
register("sqlite", "fastapi_alembic.dialects.sqlite:SQLiteSupport")

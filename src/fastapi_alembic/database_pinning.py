"""Pinning a job to its database: Alembic migrates the one it was given, whatever env.py does.

Every job runs a project's env.py, and an env.py written before FastAPI-Alembic may open a
connection of its own: to a URL from its settings class, from ``POSTGRES_*`` variables, from
an ini section. While our jobs run, ``EnvironmentContext.configure`` is intercepted: the
connection (or, offline, the URL) the env.py passes is compared with the database we were
given, and a mismatch stops the job there, before a single migration runs. Before that, each
connection env.py's engines are about to open is checked by :meth:`DatabasePin.before_connect`
(connect_checks.py), so another database is refused before a connection to it exists. The
same place adds our hooks (``on_version_apply`` for the step report,
``process_revision_directives`` for ``make``), so reports are right with any env.py.

Its neighbours: env.py is what a generated env.py calls; env_runs.py runs a project's env.py
inside a job (threads, failures, discovery); connect_checks.py hooks every connection opened
meanwhile.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import URL, Dialect

from fastapi_alembic.connect_checks import connect_target, same_target, target_of_url
from fastapi_alembic.dialects import for_backend, for_url
from fastapi_alembic.env_runs import (
    CONFIGURED_KEY,
    DISCOVERY_KEY,
    PIN_KEY,
    Discovered,
    guarded_run_env,
    original_run_env,
)
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.migration_guards import (
    foreign_env_options,
    guarded_run_migrations,
    original_run_migrations,
)
from fastapi_alembic.urls import mask_url, parse_url

__all__ = ["PIN_KEY", "DatabasePin", "WrongDatabase", "intercepting"]


class WrongDatabase(ConfigError):
    """The env.py connected to another database than the one the job was given."""


@dataclass
class DatabasePin:
    """What one job expects of the env.py: the database it must connect to, and our hooks."""

    url: URL
    env_py: Path
    hooks: dict[str, Any] = field(default_factory=dict)
    #: Loaded on demand: the app's models, for an env.py that names none (``target_metadata
    #: = None`` as ``alembic init`` writes it).
    metadata: Callable[[], Any] | None = None
    _identity: tuple[str, ...] | None = field(default=None, repr=False)
    #: The refusal raised when env.py tried another database: raised again once env.py is
    #: done, whatever env.py did with it (an ``except Exception`` around its connect).
    refusal: WrongDatabase | None = field(default=None, repr=False)

    def before_connect(self, dialect: Dialect, cargs: list[Any], cparams: dict[str, Any]) -> None:
        """Just before a driver connects while env.py runs: refuse another database before
        a single byte reaches it (connect_checks.py)."""
        if self.refusal is not None:
            raise self.refusal
        theirs = connect_target(dialect, cargs, cparams)
        if theirs[:2] == ("sqlite", "private memory"):
            return  # a new, empty database nobody else sees: checked once connected
        if for_backend(dialect.name).family != for_url(self.url).family:
            self._refuse(_described(theirs))
        try:
            ours = target_of_url(
                dialect, self.url.set(drivername=f"{dialect.name}+{dialect.driver}")
            )
        except Exception:  # our URL means nothing to their driver: not the same database
            ours = ()
        if not same_target(theirs, ours):
            self._refuse(_described(theirs))

    def admit(self, environment: EnvironmentContext, options: dict[str, Any]) -> dict[str, Any]:
        """Check the database ``configure`` was called with; return the options to use."""
        connection = options.get("connection")
        if connection is not None:
            ours = environment.config.attributes.get("connection")
            if connection is not ours:
                self._check_connection(connection, ours)
        elif options.get("url") is not None:
            self._check_url(parse_url(options["url"]))
        elif options.get("dialect_name"):
            self._check_backend(str(options["dialect_name"]))
        options = foreign_env_options(environment.config.attributes, options)
        # What the command (upgrade, downgrade) asks Alembic to run.
        return self._with_hooks(options, environment.context_opts.get("fn"))

    def probe(self) -> None:
        """Connect once, before env.py runs: one sentence when the database is unreachable,
        and which database it is, for env.py's own connection to be compared with."""
        self._intended_identity(None)

    def _check_connection(self, connection: Connection, ours: Connection | None) -> None:
        theirs = for_url(connection.engine.url).database_identity(connection)
        if theirs != self._intended_identity(ours):
            self._refuse(mask_url(connection.engine.url))

    def prepare_for_thread(self, ours: Connection | None) -> None:
        """Before env.py runs in a thread of its own: which database ours is, asked now, on
        our connection (bound to this thread's event loop, unusable from the other)."""
        self._intended_identity(ours)

    def _intended_identity(self, ours: Connection | None) -> tuple[str, ...]:
        if self._identity is not None:
            return self._identity
        if ours is not None:
            self._identity = for_url(self.url).database_identity(ours)
        if self._identity is None:
            from fastapi_alembic.dialects.engines import run_with_connection

            self._identity = run_with_connection(self.url, for_url(self.url).database_identity)
        return self._identity

    def _check_url(self, url: URL) -> None:
        if for_url(url).url_identity(url) != for_url(self.url).url_identity(self.url):
            self._refuse(mask_url(url))

    def _check_backend(self, dialect_name: str) -> None:
        if for_url(URL.create(dialect_name)).family != for_url(self.url).family:
            self._refuse(f"a {dialect_name} database")

    def _refuse(self, theirs: str) -> None:
        self.refusal = WrongDatabase(
            f"{self.env_py} connects to {theirs} instead of {mask_url(self.url)}, so nothing "
            'was run: make it use the connection in config.attributes["connection"] or the URL '
            'in config.get_main_option("sqlalchemy.url"), or run `fastapi-alembic adopt`.'
        )
        raise self.refusal

    def _with_hooks(
        self, options: dict[str, Any], plan: Callable[..., Any] | None = None
    ) -> dict[str, Any]:
        options = dict(options)
        hooks = dict(self.hooks)
        directives = hooks.pop("process_revision_directives", None)
        if directives is not None:
            options["process_revision_directives"] = _chain(
                [options.get("process_revision_directives"), directives]
            )
        applied = hooks.pop("on_version_apply", None)
        if applied is not None:
            theirs = options.get("on_version_apply")
            listed = list(theirs) if isinstance(theirs, Iterable) else [theirs] if theirs else []
            options["on_version_apply"] = [*listed, applied]
        before = hooks.pop("before_version_apply", None)
        if before is not None and plan is not None:
            options["fn"] = announcing(plan, before)
        options.update(hooks)
        if options.get("target_metadata") is None and self.metadata is not None:
            options["target_metadata"] = self.metadata()
        return options


def _described(target: tuple[str, ...]) -> str:
    """A connect target as the refusal names it (never with a password: it has none)."""
    if target[0] == "sqlite":
        return f"the SQLite database {target[2] or target[1]}"
    family, host, port, database = target[:4]
    return f"the {family} database {database!r} on {host}:{port}"


BeforeStep = Callable[[Any, int, "int | None"], None]


def announcing(plan: Callable[..., Any], before: BeforeStep) -> Callable[..., Any]:
    """Alembic's plan for a run (the ``fn`` its commands give the environment: the steps it
    then runs one by one), telling ``before(step.info, index, total)`` as each step is about to
    run. Alembic calls ``on_version_apply`` after a step and nothing before one: this is the
    before. Once per plan: a multi-database env.py configures once per database."""
    if getattr(plan, "announces", False):
        return plan

    def announced(heads: Any, migration_context: Any) -> Iterator[Any]:
        steps = plan(heads, migration_context)
        total = len(steps) if isinstance(steps, Sized) else None
        for index, step in enumerate(steps, 1):
            before(step.info, index, total)
            yield step

    announced.announces = True  # type: ignore[attr-defined]
    return announced


def _chain(hooks: list[Callable[..., None] | None]) -> Callable[..., None]:
    present = [hook for hook in hooks if hook is not None]

    def chained(migration_context: Any, revision: Any, directives: list[Any]) -> None:
        for hook in present:  # the project's hook first: ours sees what it made of them
            hook(migration_context, revision, directives)

    return chained


# -- intercepting EnvironmentContext.configure while our jobs run ----------------------------

_original_configure = EnvironmentContext.configure
_parameters = list(inspect.signature(_original_configure).parameters)[1:]
_lock = threading.Lock()
_users = 0


def _pinned_configure(self: EnvironmentContext, *args: Any, **kwargs: Any) -> None:
    attributes = self.config.attributes
    if attributes.get(DISCOVERY_KEY):
        raise Discovered
    attributes[CONFIGURED_KEY] = attributes.get(CONFIGURED_KEY, 0) + 1
    pin = attributes.get(PIN_KEY)
    if isinstance(pin, DatabasePin):
        kwargs = pin.admit(self, {**dict(zip(_parameters, args, strict=False)), **kwargs})
        args = ()
    _original_configure(self, *args, **kwargs)


@contextmanager
def intercepting() -> Iterator[None]:
    """While inside, every ``configure`` whose Config carries a DatabasePin is checked, and an
    env.py of the project's own runs its migrations under our guarantees (migration_guards.py).

    Configs without one (plain Alembic in the same process) pass through untouched.
    """
    global _users
    with _lock:
        if _users == 0:
            EnvironmentContext.configure = _pinned_configure  # type: ignore[method-assign]
            EnvironmentContext.run_migrations = guarded_run_migrations  # type: ignore[method-assign]
            ScriptDirectory.run_env = guarded_run_env  # type: ignore[method-assign,assignment]
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                EnvironmentContext.configure = _original_configure  # type: ignore[method-assign]
                EnvironmentContext.run_migrations = original_run_migrations  # type: ignore[method-assign]
                ScriptDirectory.run_env = original_run_env  # type: ignore[method-assign]


def env_py_takes_connection(directory: Path) -> bool:
    """Whether the env.py looks in ``config.attributes`` for a connection it is handed."""
    try:
        source = (directory / "env.py").read_text(encoding="utf-8")
    except OSError:
        return True
    return "fastapi_alembic" in source or "attributes" in source

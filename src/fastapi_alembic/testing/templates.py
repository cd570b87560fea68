"""Template databases: migrate once to head, then hand out copies at the cost of a file copy.

Usable with or without pytest::

    with TemplateDatabases(migrations, "postgresql+psycopg://postgres@localhost/test") as dbs:
        with dbs.database() as url:      # a fresh database at head, dropped afterwards
            ...

The template is named after a hash of the migration files: a changed migration makes a new
template, an unchanged one is reused, across test runs where the backend keeps it (a server,
or a SQLite folder). How a backend stores and copies databases lives in its dialect module.

On servers a copy handed back is recycled by default: when its schema still has the
template's fingerprint, its sessions are ended and its rows and counters are reset to a fresh
copy's, and it waits in a per-process pool for the next caller (a reset costs a fraction of
CREATE DATABASE ... TEMPLATE). Any other copy is dropped. ``recycle=False`` turns it off.

Names start with a prefix (``faa`` by default, ``prefix=`` here) and follow the scheme in
fastapi_alembic.database_names: ``faa_t_<app>_<key>`` is a template, ``faa_b_...`` a template
being built, ``faa_c_...`` a copy. A copy or a build left by a process that died (a crashed or
killed run) is dropped by the next run on the same host; fastapi_alembic.testing.leftovers lists
and drops them on demand.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.database_names import (
    BUILDING,
    COPY,
    DEFAULT_PREFIX,
    TEMPLATE,
    app_tag,
    host_tag,
    parse,
    prefix_problem,
    process_alive,
    template_name,
    unique_name,
)
from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import (
    ConfigError,
    DatabaseUnreachable,
    MigrationFailed,
    MigrationsError,
)
from fastapi_alembic.migrations import Migrations
from fastapi_alembic.testing.copies import _learn, _recycled, _Worker
from fastapi_alembic.testing.stores import template_store
from fastapi_alembic.urls import mask_text, mask_url, parse_url


def migrations_key(directory: Path) -> str:
    """A hash of every file that decides what the migrations build (not caches, not docs)."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


class TemplateDatabases:
    """Copies of one app's migrated template on one server (or SQLite folder).

    ``server`` is where templates and copies are made: a server URL (its database part is
    ignored), a ``sqlite:///folder/any.db`` URL whose folder holds the files, or ``sqlite://``
    for in-memory databases that live as long as this object. ``prefix`` starts the name of
    every database made (default ``faa``, or ``test_database_prefix`` in pyproject.toml).
    """

    def __init__(
        self,
        migrations: Migrations,
        server: str | URL,
        *,
        ahead: int = 0,
        recycle: bool = True,
        prefix: str | None = None,
    ) -> None:
        self.migrations = migrations
        self.prefix = prefix or migrations.settings.test_database_prefix or DEFAULT_PREFIX
        problem = prefix_problem(self.prefix)
        if problem is not None:
            raise ConfigError(problem)
        #: On a server, how many copies a background connection keeps ready, so that a test
        #: waits only when tests come faster than the server copies (0: copy when asked).
        self.ahead = ahead
        self.server = parse_url(server)
        self.dialect = for_url(self.server)
        self.store = template_store(self.server)
        #: Whether a copy handed back whose schema is unchanged has its rows reset and is
        #: handed out again instead of being dropped (servers only: a SQLite copy is cheaper).
        self.recycle = recycle and self.store.recycles
        self._pool: list[str] = []  # recycled copies, ready to hand out again
        self.app = app_tag(migrations.directory)
        self.host = host_tag()
        self._template: str | None = None
        self._failure: MigrationsError | None = None
        self._copies: set[str] = set()
        self._worker: _Worker | None = None
        self._swept = False

    def __repr__(self) -> str:
        return f"TemplateDatabases({mask_url(self.server)!r}, {str(self.migrations.directory)!r})"

    def __enter__(self) -> TemplateDatabases:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the template -----------------------------------------------------------------------

    @property
    def template_name(self) -> str:
        return template_name(self.prefix, self.app, migrations_key(self.migrations.directory))

    def template(self) -> str:
        """The template's name, migrating it to head first when it is not there yet.

        A failure is remembered: later calls raise the same error at once instead of
        rebuilding for every test.
        """
        if self._failure is not None:
            raise self._failure
        if self._template is None:
            try:
                self._template = self._ensure_template()
            except MigrationsError as error:
                self._failure = error
                raise
        return self._template

    def _ensure_template(self) -> str:
        name = self.template_name
        self.migrations.script_directory()  # a migration file that does not load: say so now
        with self._clear_errors("check for the template database"):
            if not self._swept:
                self._sweep(keep=name)
            if self.store.exists(name):
                return name
        with self._clear_errors("build the template database"), self.store.lock(name):
            if self.store.exists(name):  # another process built it while we waited
                return name
            target = self.store.build_target(name, self._unique(BUILDING))
            try:
                self.migrations.with_url(target).upgrade("heads", guard_data_loss=False)
                self.store.publish(target, name)
            except BaseException as error:
                self._discard(target)
                if isinstance(error, MigrationFailed):
                    raise self._build_failed(error) from None
                raise
        self._drop_older_templates(keep=name)
        return name

    def _build_failed(self, error: MigrationFailed) -> MigrationFailed:
        what = str(error).rpartition("; ")[0] or str(error).rstrip(".")
        return MigrationFailed(
            f"Building the test template on {mask_url(self.server)} failed: {what}; nothing was "
            "kept, so the next run builds it again once the migration is fixed."
        )

    def _discard(self, target: URL) -> None:
        self._quietly_drop(self.store.name_of(target))  # else the next run's sweep does

    @contextmanager
    def _clear_errors(self, doing: str) -> Iterator[None]:
        """Database errors outside the migrations as one sentence with what to do."""
        try:
            yield
        except DBAPIError as error:
            original = getattr(error, "orig", None) or error
            reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
            reason = mask_text(reason, self.server.password).rstrip(".")
            denied = "denied" in reason.lower()
            hint = self.store.privilege_hint if denied else "check the server and try again"
            raise DatabaseUnreachable(
                f"Cannot {doing} on {mask_url(self.server)}: {reason}; {hint}."
            ) from None

    # -- copies -----------------------------------------------------------------------------

    def _unique(self, kind: str) -> str:
        return unique_name(self.prefix, kind, self.app)

    def create(self, *, start_ahead: bool = True) -> URL:
        """A copy of the template at head. Drop it (or hand it back) with :meth:`drop`.

        With recycling on, it may be a copy handed back earlier and reset: the same schema,
        rows and next id values as a fresh copy, and no session left on it. With
        ``start_ahead=False`` a first copy does not start making copies ahead (a caller
        that needs one copy for the whole run)."""
        template = self.template()
        background = self.ahead > 0 and self.store.drops_in_background
        with self._clear_errors("copy the template database"):
            if self._pool:
                name = self._pool.pop()
            elif background and (start_ahead or self._worker is not None):
                name = self._background().take(template)
            else:
                name = self._unique(COPY)
                self.store.copy(template, name)
                if self.recycle:
                    _learn(self.store, template, name)
        self._copies.add(name)
        return self.store.url_of(name)

    def drop(self, url: str | URL, *, wait: bool = True) -> None:
        """Hand back a copy made by :meth:`create`: recycle it, or drop it.

        With recycling on, a copy whose schema still equals the template's is reset (its
        sessions ended, its rows and counters put back to the template's) and kept for the
        next :meth:`create`; one whose schema changed, or whose reset fails, is dropped.
        With ``wait=False`` a server does this on a background connection while the caller
        goes on (the next test need not wait for it); :meth:`close` waits for it.
        """
        name = self.store.name_of(parse_url(url))
        ours = f"{self.prefix}_{COPY}_{self.app}_{self.host}_{os.getpid()}_"
        if name not in self._copies and name.startswith(ours):
            # One of ours, handed back already: once more would put it in the pool twice
            # (two tests on one database), or drop it from under the pool.
            return
        self._copies.discard(name)
        if not wait and self.store.drops_in_background:
            if self.recycle:
                self._background().hand_back(name)
            else:
                self._background().drop(name)
            return
        template = self._template
        if self.recycle and template is not None and _recycled(self.store, template, name):
            self._pool.append(name)
            return
        with self._clear_errors("drop a test database"):
            self.store.drop(name)

    def _background(self) -> _Worker:
        if self._worker is None:
            store = template_store(self.server)
            self._worker = _Worker(
                store, lambda: self._unique(COPY), self.ahead, recycle=self.recycle
            )
        return self._worker

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh copy's URL (password included: it is for code), handed back afterwards
        (recycled or dropped, see :meth:`drop`)."""
        url = self.create()
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            self.drop(url)

    def close(self) -> None:
        """Drop the copies still out and release connections; the template is kept."""
        try:
            if self._worker is not None:
                self._worker.close()
                self._worker = None
            for name in [*self._copies, *self._pool]:
                self._copies.discard(name)
                self.store.drop(name)
            self._pool.clear()
        finally:
            self.store.close()

    def discard(self) -> None:
        """Drop the copies still out and this app's templates (all states of its migrations)."""
        self.close()
        self._template = None
        with self._clear_errors("drop the template databases"):
            for name in self.store.names(f"{self.prefix}_{TEMPLATE}_{self.app}_"):
                self.store.drop(name)
        self.store.close()

    # -- tidying ----------------------------------------------------------------------------

    def _sweep(self, keep: str) -> None:
        """Drop copies and builds of this app left by processes of this host that died."""
        self._swept = True
        for kind in (COPY, BUILDING):
            for name in self.store.names(f"{self.prefix}_{kind}_{self.app}_{self.host}_"):
                found = parse(self.prefix, name)
                pid = found.pid if found is not None else None
                if pid is not None and pid != os.getpid() and not process_alive(pid):
                    self._quietly_drop(name)

    def _drop_older_templates(self, keep: str) -> None:
        """A new template replaces the app's older ones (best effort: one may be in use)."""
        try:
            older = [
                n for n in self.store.names(f"{self.prefix}_{TEMPLATE}_{self.app}_") if n != keep
            ]
        except (DBAPIError, MigrationsError, OSError):
            return
        for name in older:
            self._quietly_drop(name)

    def _quietly_drop(self, name: str) -> None:
        with suppress(DBAPIError, MigrationsError, OSError):
            self.store.drop(name)

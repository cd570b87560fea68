"""Listing and dropping the databases FastAPI-Alembic made on a server for tests and checks.

Templates stay on a server between runs (that is what makes the next run fast), and a run
that was killed leaves its copies and scratch databases behind. :func:`find_databases` lists
every database whose name is one of ours under a prefix (fastapi_alembic.database_names: the
exact shapes, never just the prefix), and :func:`drop_databases` drops them, except those a
process still running on this machine is using. Used by ``fastapi-alembic test
--list-templates`` / ``--drop-templates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.database_names import (
    TEST_URL_VARIABLE,
    default_sqlite_folder,
    host_tag,
    parse,
    prefix_problem,
    process_alive,
)
from fastapi_alembic.dialects.sqlite import is_file_database
from fastapi_alembic.errors import ConfigError, DatabaseUnreachable
from fastapi_alembic.testing.stores import TemplateStore, template_store
from fastapi_alembic.urls import mask_text, mask_url, parse_url


@dataclass(frozen=True)
class FoundDatabase:
    """One database of ours on the server."""

    name: str
    kind: str  # template, building, copy or scratch
    #: The migrations folder's hash (templates, builds and copies), and whether it is the
    #: project's at hand.
    app: str | None
    this_app: bool
    #: The process that made it, on this machine (None: a template, or another machine).
    pid: int | None
    #: That process still runs here: its test run is using the database.
    in_use: bool

    @property
    def owner(self) -> str:
        if self.pid is None:
            return "" if self.kind == "template" else "made on another machine"
        state = "still running" if self.in_use else "ended"
        return f"made by process {self.pid} on this machine ({state})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "app": self.app,
            "this_project": self.this_app,
            "pid": self.pid,
            "in_use": self.in_use,
        }


@dataclass(frozen=True)
class OurDatabases:
    """What is on a server under a prefix; after a drop, what was dropped and what was kept."""

    server: str
    prefix: str
    databases: tuple[FoundDatabase, ...]
    dropped: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "prefix": self.prefix,
            "databases": [found.to_dict() for found in self.databases],
            "dropped": list(self.dropped),
            "kept": [{"name": name, "reason": reason} for name, reason in self.kept],
        }


def find_databases(server: str | URL, prefix: str, app: str | None = None) -> OurDatabases:
    """Every database of ours under ``prefix`` on ``server`` (``app``: the hash of the
    project at hand, to mark its own)."""
    url = _server(server, prefix)
    with _store(url) as store:
        return OurDatabases(mask_url(url), prefix, _ours(store, prefix, app))


def drop_databases(
    server: str | URL,
    prefix: str,
    app: str | None = None,
    on_drop: Callable[[FoundDatabase, int, int], None] | None = None,
) -> OurDatabases:
    """Drop every database of ours under ``prefix`` on ``server`` except those a process
    still running on this machine uses; ``on_drop(database, number, of)`` is told before
    each drop."""
    url = _server(server, prefix)
    dropped: list[str] = []
    with _store(url) as store:
        found = _ours(store, prefix, app)
        to_drop = [database for database in found if not database.in_use]
        kept = [(d.name, f"in use: {d.owner}") for d in found if d.in_use]
        for number, database in enumerate(to_drop, 1):
            if on_drop is not None:
                on_drop(database, number, len(to_drop))
            with _one_sentence(url, f"drop {database.name}", store):
                store.drop(database.name)
            dropped.append(database.name)
    return OurDatabases(mask_url(url), prefix, found, tuple(dropped), tuple(kept))


def default_server(environ: Mapping[str, str]) -> str:
    """Where the pytest plugin makes templates when not told: $FASTAPI_ALEMBIC_TEST_URL, else
    a SQLite folder in the temporary directory."""
    return environ.get(TEST_URL_VARIABLE) or f"sqlite:///{default_sqlite_folder() / 'server.db'}"


def _server(server: str | URL, prefix: str) -> URL:
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ConfigError(problem)
    return parse_url(server)


@contextmanager
def _store(url: URL) -> Iterator[TemplateStore]:
    if url.get_backend_name() == "sqlite" and is_file_database(url):
        folder = Path(url.database or "").parent
        if not folder.is_dir():
            raise ConfigError(
                f"The folder {folder} does not exist: give the SQLite URL the test databases "
                "were made with (--migrate-url, $FASTAPI_ALEMBIC_TEST_URL), as "
                "sqlite:///folder/any.db."
            )
    store = template_store(url)
    try:
        yield store
    finally:
        store.close()


def _ours(store: TemplateStore, prefix: str, app: str | None) -> tuple[FoundDatabase, ...]:
    if store.server.get_backend_name() == "sqlite" and not is_file_database(store.server):
        return ()  # in memory: nothing outlives the process that made it
    with _one_sentence(store.server, "list the databases", store):
        names = sorted(store.names(f"{prefix}_"))
    here = host_tag()
    found = []
    for name in names:
        parsed = parse(prefix, name)
        if parsed is None:
            continue  # only starts like ours: not ours
        pid = parsed.pid if parsed.host == here else None
        found.append(
            FoundDatabase(
                name=name,
                kind=parsed.described,
                app=parsed.app,
                this_app=app is not None and parsed.app == app,
                pid=pid,
                in_use=pid is not None and process_alive(pid),
            )
        )
    # Templates first, then what runs left behind.
    return tuple(sorted(found, key=lambda f: (f.kind != "template", f.name)))


@contextmanager
def _one_sentence(url: URL, doing: str, store: TemplateStore) -> Iterator[None]:
    try:
        yield
    except DBAPIError as error:
        original = getattr(error, "orig", None) or error
        reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
        reason = mask_text(reason, url.password).rstrip(".")
        hint = store.privilege_hint if "denied" in reason.lower() else "check the server"
        raise DatabaseUnreachable(f"Cannot {doing} on {mask_url(url)}: {reason}; {hint}.") from None

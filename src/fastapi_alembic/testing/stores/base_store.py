"""What every backend's template store does: where test templates live on a server, and how
they are copied, dropped and recycled. One subclass per backend, registered by its name in
this package's __init__."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.dialects.engines import make_engine, run_with_connection, unreachable

T = TypeVar("T")


class TemplateStore:
    """Where one backend keeps test templates and their copies, and how it copies them.

    Names are plain database names (a file stem on SQLite). A store may hold a connection
    open between calls so that a copy costs one statement; ``close`` releases it.
    """

    #: Whether copying and dropping are slow enough to be worth a background connection.
    drops_in_background = False

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        self.dialect = dialect
        self.server = server

    @property
    def privilege_hint(self) -> str:
        """How to get the right to create databases, for the error when it is missing."""
        return self.dialect.privilege_hint

    def url_of(self, name: str) -> URL:
        return self.dialect.database_url(self.server, name)

    def name_of(self, url: URL) -> str:
        """The name of the database ``url`` points at (the reverse of url_of)."""
        return url.database or ""

    def names(self, prefix: str) -> list[str]:
        """Every database on the server whose name starts with ``prefix``."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        """Whether a finished template called ``name`` is there to copy."""
        raise NotImplementedError

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Held while a template is checked, built and published (across processes)."""
        return nullcontext()

    def build_target(self, name: str, building: str) -> URL:
        """An empty database to build template ``name`` in (``building`` is a unique name)."""
        return self.dialect.create_database(self.server, building)

    def publish(self, built: URL, name: str) -> None:
        """Make a completely built database the template ``name``, in one atomic step."""
        raise NotImplementedError

    def copy(self, template: str, name: str) -> URL:
        """A new database ``name`` with the template's schema and rows."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        self.dialect.drop_database(self.url_of(name))

    #: Whether :meth:`recycle` can reset a used copy (a server store: a copy costs more there
    #: than checking a used one and putting its rows back).
    recycles = False

    def learn(self, template: str, name: str) -> None:
        """Read once, from ``name`` (a copy of ``template`` no one has used yet), what
        :meth:`recycle` needs: the schema's fingerprint, the seed rows, the counters."""

    def recycle(self, template: str, name: str) -> bool:
        """Make the used copy ``name`` equal to a fresh copy of ``template`` again, if its
        schema is unchanged: end its sessions, delete every row, put the template's rows and
        counters back. False when it cannot (the schema changed, or nothing was learned):
        the caller drops it instead."""
        return False

    def close(self) -> None:
        """Release what the store holds open."""


class ServerTemplateStore(TemplateStore):
    """A store on a database server: one AUTOCOMMIT connection kept open for every call."""

    drops_in_background = True

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on the maintenance connection (opened on first use)."""
        maintenance = self.dialect.maintenance_url(self.server)
        if self._connection is None:
            engine = make_engine(maintenance, isolation_level="AUTOCOMMIT")
            if not isinstance(engine, Engine):  # an async driver: one connection per call
                return run_with_connection(maintenance, work, autocommit=True)
            try:
                self._connection = engine.connect()
            except DBAPIError as error:
                engine.dispose()
                raise unreachable(maintenance, error) from None
            self._engine = engine
        return work(self._connection)

    def scalars(self, sql: str, **params: Any) -> list[Any]:
        return self.run(lambda c: list(c.execute(text(sql), params).scalars()))

    def execute(self, *statements: str) -> None:
        def work(connection: Connection) -> None:
            for statement in statements:
                connection.exec_driver_sql(statement)

        self.run(work)

    def drop(self, name: str) -> None:
        self.execute(self.dialect.drop_database_sql(name))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

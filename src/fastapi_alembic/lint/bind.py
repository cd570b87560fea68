"""What ``op.get_bind()`` is while a revision is read: a connection that records and answers
with no rows.

Revisions use the bind in many ways: ``execute(text(...)).scalar_one()``, ``fetchall()``,
``sa.Enum(...).create(bind)``, ``table.drop(bind)``, ``metadata.create_all(bind)``, an ORM
``Session(bind=op.get_bind())`` that reads and writes. Each statement is recorded (the caller
turns it into actions); reads come back empty, and a value that must exist (``scalar_one()``,
``one()``) is an :class:`Unknown`, which lets the code go on without inventing data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, pool

Record = Callable[[Any], None]


class ReaderLimit(AttributeError):
    """Revision code asked the recording connection for something it cannot stand in for:
    lint could not read on, which says nothing about the revision itself."""


class Unknown:
    """A value read from the database while there is none: empty, zero, false, NULL in SQL,
    and anything taken from it is unknown too."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<a value read without a database>"

    def __str__(self) -> str:
        return "NULL"  # in an f-string of SQL it stays SQL

    def __format__(self, spec: str) -> str:
        return "NULL"

    def __bool__(self) -> bool:
        return False

    def __int__(self) -> int:
        return 0

    def __index__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __contains__(self, _item: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __eq__(self, _other: object) -> bool:
        return False

    def __ne__(self, _other: object) -> bool:
        return True

    def _false(self, _other: object) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false

    def _unknown(self, *_args: Any, **_kwargs: Any) -> Unknown:
        return UNKNOWN

    __call__ = __getitem__ = __neg__ = __pos__ = __abs__ = _unknown
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unknown
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _unknown

    def __getattr__(self, name: str) -> Unknown:
        if name.startswith("__"):
            raise AttributeError(name)
        return UNKNOWN


UNKNOWN = Unknown()


class EmptyResult:
    """A result with no rows; what must be one row or one value is :data:`UNKNOWN`."""

    rowcount = 0
    lastrowid = None
    returns_rows = True
    inserted_primary_key = UNKNOWN

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __enter__(self) -> EmptyResult:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def _none(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    def _empty(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        return []

    def _self(self, *_args: Any, **_kwargs: Any) -> EmptyResult:
        return self

    def _unknown(self, *_args: Any, **_kwargs: Any) -> Unknown:
        return UNKNOWN

    fetchone = first = scalar = one_or_none = scalar_one_or_none = close = _none
    fetchall = fetchmany = all = keys = _empty
    scalars = mappings = columns = tuples = unique = yield_per = freeze = _self
    partitions = _empty
    one = scalar_one = _unknown

    @property
    def t(self) -> EmptyResult:
        return self


class RecordingConnection:
    """Stands in for ``op.get_bind()``: records statements, returns empty results."""

    def __init__(self, record: Record, dialect: Any) -> None:
        self._record = record
        self.dialect = dialect
        self.engine = self
        self.info: dict[str, Any] = {}
        self.closed = False
        self._orm_engine: sa.Engine | None = None

    def execute(self, statement: Any, *_args: Any, **_kwargs: Any) -> EmptyResult:
        self._record(statement)
        return EmptyResult()

    exec_driver_sql = execute

    def scalar(self, statement: Any, *_args: Any, **_kwargs: Any) -> None:
        self._record(statement)

    def scalars(self, statement: Any, *_args: Any, **_kwargs: Any) -> EmptyResult:
        self._record(statement)
        return EmptyResult()

    def begin(self) -> _NoTransaction:
        return _NoTransaction()

    begin_nested = begin

    def _nothing(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    commit = rollback = close = invalidate = detach = _nothing

    def _false(self) -> bool:
        return False

    in_transaction = in_nested_transaction = _false

    def execution_options(self, **_options: Any) -> RecordingConnection:
        return self

    def get_isolation_level(self) -> str:
        return "READ COMMITTED"

    def __enter__(self) -> RecordingConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def schema_for_object(self, element: Any) -> str | None:
        return getattr(element, "schema", None)

    def _run_ddl_visitor(self, visitor: type[Any], element: Any, **kwargs: Any) -> None:
        """What ``Enum.create(bind)``, ``Table.drop(bind)`` and ``MetaData.create_all(bind)``
        call: the DDL is recorded as if nothing existed yet (``checkfirst`` would ask the
        catalog, and there is none)."""
        kwargs["checkfirst"] = False
        visitor(self.dialect, self, **kwargs).traverse_single(element)

    def connect(self) -> sa.Connection:
        """For an ORM ``Session(bind=op.get_bind())``: a real SQLAlchemy connection over a
        driver that runs nothing, each statement recorded, every read empty."""
        if self._orm_engine is None:
            self._orm_engine = _recording_engine(self._record)
        return self._orm_engine.connect()

    def __getattr__(self, name: str) -> Any:
        raise ReaderLimit(
            f"lint's recording connection has no {name!r}, so it could not read on", name=name
        )


class _NoTransaction:
    def __enter__(self) -> _NoTransaction:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    is_active = True


# -- a SQLAlchemy engine over a driver that runs nothing (for the ORM) -----------------------


class _Cursor:
    def __init__(self, connection: _DriverConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = 0
        self.lastrowid: int | None = None
        self.arraysize = 1

    def execute(self, _sql: str, _parameters: Any = None) -> None:
        self.description, self._connection.description = self._connection.description, None
        self.lastrowid = next(self._connection.ids)  # distinct rows for the ORM's identity map

    def executemany(self, sql: str, _rows: Any) -> None:
        self.execute(sql)

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def fetchmany(self, _size: int | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _DriverConnection:
    def __init__(self) -> None:
        self.description: Any = None  # what the next SELECT's cursor describes
        self.ids = itertools.count(1)

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def _nothing(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    commit = rollback = close = create_function = _nothing


class _Driver:
    """Enough of a DB-API module (shaped as sqlite3) for SQLAlchemy to run statements on."""

    paramstyle = "qmark"
    sqlite_version_info = (3, 30, 0)  # before RETURNING: the ORM takes ids from lastrowid
    sqlite_version = "3.30.0"
    version_info = (2, 6, 0)
    Binary = bytes
    PARSE_DECLTYPES = 1
    PARSE_COLNAMES = 2

    class Warning(Exception):
        pass

    class Error(Exception):
        pass

    class InterfaceError(Error):
        pass

    class DatabaseError(Error):
        pass

    class DataError(DatabaseError):
        pass

    class OperationalError(DatabaseError):
        pass

    class IntegrityError(DatabaseError):
        pass

    class InternalError(DatabaseError):
        pass

    class ProgrammingError(DatabaseError):
        pass

    class NotSupportedError(DatabaseError):
        pass

    @staticmethod
    def connect(*_args: Any, **_kwargs: Any) -> _DriverConnection:
        return _DriverConnection()


def _recording_engine(record: Record) -> sa.Engine:
    engine = sa.create_engine(
        "sqlite://",
        module=_Driver,
        creator=_DriverConnection,
        poolclass=pool.StaticPool,
        _initialize=False,  # it would ask the driver for a server version
    )

    @event.listens_for(engine, "before_execute")
    def _record(_connection: Any, statement: Any, *_args: Any) -> None:
        record(statement)

    @event.listens_for(engine, "before_cursor_execute")
    def _describe(
        _connection: Any, cursor: Any, _sql: str, _parameters: Any, context: Any, _many: bool
    ) -> None:
        # The ORM reads rows by the columns a SELECT names: describe them, return none.
        columns = getattr(getattr(context, "compiled", None), "_result_columns", None)
        if columns and isinstance(cursor, _Cursor):
            described = [(c[0], None, None, None, None, None, None) for c in columns]
            cursor._connection.description = described

    return engine


__all__ = ["UNKNOWN", "EmptyResult", "ReaderLimit", "RecordingConnection", "Unknown"]

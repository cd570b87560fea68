"""Generated rows for the suite's "rows survive" check: made at each revision, looked for
after every later upgrade."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, inspect, select, types
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError, StatementError

from fastapi_alembic.testing.schema import BOOKKEEPING_TABLES
from fastapi_alembic.testing.tables import (
    Row,
    association,
    count_rows,
    new_combinations,
    read_rows,
    same_row,
)

#: The app's own column types by (table, column): a reflected CHAR(32) may be a GUID.
ModelTypes = Mapping[tuple[str, str], types.TypeEngine[Any]]


@dataclass
class _Tracked:
    key: tuple[str, ...]  # primary key columns; empty: rows are counted instead
    rows: dict[tuple[Any, ...], Row] = field(default_factory=dict)
    count: int = 0


def model_types(metadata: MetaData | None) -> dict[tuple[str, str], types.TypeEngine[Any]]:
    """Every column type the models declare, by (table, column)."""
    if metadata is None:
        return {}
    return {
        (table.name, column.name): column.type
        for table in metadata.tables.values()
        for column in table.columns
    }


class RowLedger:
    """Inserts generated rows into every table and checks later that they are still there.

    Values honour each column's type, length and nullability, and the app's own type where
    the models declare one (a ``TypeDecorator`` gets a value its bind processing accepts);
    foreign keys point at rows that exist; unique and primary key values never repeat.

    A row counts as lost when its primary key is gone from a table that still exists and no
    new row carries the same other values (a migration that rewrites keys keeps its rows),
    and a value as lost when a column of the same name that held it is now NULL. A dropped
    or renamed table is not a loss: that is a decision a migration names (and the linter
    flags).
    """

    ROWS_PER_TABLE = 2

    def __init__(self, declared: ModelTypes | None = None, *, track: bool = True) -> None:
        self.declared = dict(declared or {})
        #: whether to remember the rows for verify() (the stairway only needs them there)
        self.track = track
        self._filled: MetaData | None = None  # the tables as the last insert() found them
        self.tracked: dict[str, _Tracked] = {}
        self.skipped: list[str] = []
        self.inserted = 0
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    # -- inserting ----------------------------------------------------------------------------

    def insert(self, connection: Connection) -> None:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING_TABLES:
                continue
            rows, problem = self._rows_for(connection, table)
            if problem is None:
                savepoint = connection.begin_nested()
                try:
                    connection.execute(table.insert(), rows)
                    savepoint.commit()
                except StatementError as error:
                    savepoint.rollback()
                    problem = first_line(error)
            if problem is not None:
                note = f"{table.name}: {problem}"
                if note not in self.skipped:
                    self.skipped.append(note)
                continue
            self.inserted += len(rows)
            if self.track:
                self._track(connection, table)
        self._filled = metadata

    def _track(self, connection: Connection, table: Table) -> None:
        """Remember the table as it is now (our rows and any a migration wrote)."""
        key = tuple(c.name for c in table.primary_key.columns)
        tracked = self.tracked[table.name] = _Tracked(key)
        tracked.rows = read_rows(connection, table, key)
        tracked.count = len(tracked.rows) if key else count_rows(connection, table)

    def clear(self, connection: Connection) -> None:
        """Delete every row of every table (children first) and forget them."""
        present = set(inspect(connection).get_table_names())
        metadata = self._filled
        if metadata is None or not present <= set(metadata.tables):
            metadata = MetaData()  # a table insert() did not see: read them all again
            metadata.reflect(bind=connection)
        for table in reversed(metadata.sorted_tables):
            if table.name in present and table.name not in BOOKKEEPING_TABLES:
                connection.execute(table.delete())
        self.tracked.clear()

    def retrack(self, connection: Connection) -> None:
        """Take every table as it is now: after a revision that changes rows on purpose."""
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for name in list(self.tracked):
            table = metadata.tables.get(name)
            if table is None:
                del self.tracked[name]
            else:
                self._track(connection, table)

    # -- verifying ----------------------------------------------------------------------------

    def verify(self, connection: Connection) -> list[str]:
        """What rows or values the last upgrade lost, one phrase each; tracking follows on."""
        metadata = MetaData()
        metadata.reflect(bind=connection)
        losses: list[str] = []
        for name, tracked in list(self.tracked.items()):
            table = metadata.tables.get(name)
            if table is None:
                del self.tracked[name]  # dropped or renamed: not ours to judge
                continue
            if not tracked.key or any(c not in table.c for c in tracked.key):
                count = count_rows(connection, table)
                if count < tracked.count:
                    losses.append(
                        f"lost {tracked.count - count} of {tracked.count} row(s) in table {name}"
                    )
            else:
                losses += self._compare(connection, table, tracked)
            self._track(connection, table)
        return losses

    def _compare(self, connection: Connection, table: Table, tracked: _Tracked) -> list[str]:
        present = read_rows(connection, table, tracked.key)
        fresh = {k: row for k, row in present.items() if k not in tracked.rows}
        foreign = {fk.parent.name for fk in table.foreign_keys}
        lost = 0
        emptied: dict[str, int] = {}
        for key, before in tracked.rows.items():
            now = present.get(key)
            if now is None:
                now = same_row(before, fresh, set(table.c.keys()) - set(tracked.key) - foreign)
            if now is None:
                lost += 1
                continue
            for column in before:
                if column in table.c and column not in now:
                    emptied[column] = emptied.get(column, 0) + 1
        losses = (
            [f"lost {lost} of {len(tracked.rows)} row(s) in table {table.name}"] if lost else []
        )
        losses += [f"emptied {table.name}.{c} in {n} row(s)" for c, n in sorted(emptied.items())]
        return losses

    # -- values -------------------------------------------------------------------------------

    def _rows_for(self, connection: Connection, table: Table) -> tuple[list[Row], str | None]:
        references: dict[str, list[Any]] = {}
        pairs = association(table)
        # An association table's rows must be distinct pairs: more parents to choose from.
        pool_size = self.ROWS_PER_TABLE * (10 if pairs else 1)
        for fk in table.foreign_keys:
            if fk.parent.name in references:
                continue
            target = fk.column
            newest = select(target).order_by(target.desc()).limit(pool_size)
            values = list(connection.execute(newest).scalars())  # fresh pairs each round
            if fk.column.table is table:  # a self-reference: leave it empty when it may be
                values = []
            if not values and not fk.parent.nullable:
                return [], f"no rows in {target.table.name} for {fk.parent.name} to point at"
            references[fk.parent.name] = values
        chosen: list[tuple[Any, ...]] = []
        if pairs:
            chosen = new_combinations(connection, table, pairs, references, self.ROWS_PER_TABLE)
            if not chosen:
                return [], f"every combination of {', '.join(pairs)} is in {table.name} already"
        rows: list[Row] = []
        for index in range(len(chosen) if pairs else self.ROWS_PER_TABLE):
            row: Row = dict(zip(pairs, chosen[index], strict=True)) if pairs else {}
            for column in table.columns:
                if column.computed is not None or column.name in row:
                    continue
                if column.name in references:
                    pool = references[column.name]
                    row[column.name] = pool[index % len(pool)] if pool else None
                    continue
                kind = self._type_for(table.name, column.name, column.type)
                try:
                    row[column.name] = self._stored_value(kind, column.type, connection.dialect)
                except (NotImplementedError, SQLAlchemyError, TypeError):
                    if not column.nullable:
                        return [], f"cannot make a value of type {kind!r} for {column.name}"
                    row[column.name] = None
            rows.append(row)
        return rows, None

    def _type_for(
        self, table: str, column: str, reflected: types.TypeEngine[Any]
    ) -> types.TypeEngine[Any]:
        """The models' type for the column when it is stored as the reflected one."""
        declared = self.declared.get((table, column))
        if declared is None:
            return reflected
        stored = declared.impl_instance if isinstance(declared, types.TypeDecorator) else declared
        if stored._type_affinity is not reflected._type_affinity:
            return reflected  # the column was another type at this revision
        return declared

    def _stored_value(
        self, kind: types.TypeEngine[Any], reflected: types.TypeEngine[Any], dialect: Dialect
    ) -> Any:
        if not isinstance(kind, types.TypeDecorator):
            return self._value(kind)
        stored = kind.impl_instance
        if type(kind).process_bind_param is types.TypeDecorator.process_bind_param:
            # It hands values to its impl as they are (SQLModel's AutoString): one of those.
            return self._value(stored if _knows(stored) else reflected)
        # The value the app would store: a Python value its own bind processing accepts.
        length = getattr(reflected, "length", None)
        for candidate in self._candidates(kind):
            try:
                bound = kind.process_bind_param(candidate, dialect)
            except Exception:  # the app's own code refused this one: try the next
                continue
            if bound is None or (isinstance(bound, str) and length and len(bound) > length):
                continue
            return bound
        raise NotImplementedError(type(stored))

    def _candidates(self, kind: types.TypeDecorator[Any]) -> list[Any]:
        candidates: list[Any] = []
        if type(kind).python_type is not types.TypeDecorator.python_type:
            with _ignored():
                candidates.append(self._value_of(kind.python_type, kind))
        stored = kind.impl_instance
        if isinstance(stored, types.String | types.LargeBinary | types.Uuid):
            candidates.append(uuid.uuid4())  # GUID types over CHAR(32), BINARY(16), ...
        with _ignored():
            candidates.append(self._value(stored))
        return candidates

    def _value(self, kind: types.TypeEngine[Any]) -> Any:
        if isinstance(kind, types.Enum) and kind.enums:
            return kind.enums[self._next() % len(kind.enums)]
        if isinstance(kind, types.Boolean):
            return self._next() % 2 == 0
        return self._value_of(kind.python_type, kind)

    def _value_of(self, python: type[Any], kind: types.TypeEngine[Any]) -> Any:
        n = self._next()
        if python is bool:
            return n % 2 == 0
        if python is int:
            return n % _INTEGER_LIMITS.get(type(kind).__name__.upper(), 2**31 - 1)
        if python is float:
            return n + 0.5
        if python is decimal.Decimal:
            precision, scale = getattr(kind, "precision", None), getattr(kind, "scale", None) or 0
            return decimal.Decimal(n % 10 ** ((precision or 10) - scale))
        if python is str:
            length = getattr(kind, "length", None) or 40
            text = f"v{n}"
            return text if len(text) <= length else str(n)[-length:]
        if python is bytes:
            return f"b{n}".encode()
        if python is dt.datetime:
            zone = dt.UTC if getattr(kind, "timezone", False) else None
            return dt.datetime(2024, 1, 1, tzinfo=zone) + dt.timedelta(minutes=n)
        if python is dt.date:
            return dt.date(2024, 1, 1) + dt.timedelta(days=n)
        if python is dt.time:
            return dt.time(n % 24, n % 60)
        if python is dt.timedelta:
            return dt.timedelta(seconds=n)
        if python is uuid.UUID:
            return uuid.uuid4()
        if python is dict:
            return {"n": n}
        if python is list:
            return [n]
        raise NotImplementedError(python)


def _knows(kind: types.TypeEngine[Any]) -> bool:
    """Whether a value can be made for ``kind`` from its Python type."""
    try:
        kind.python_type  # noqa: B018 - raises NotImplementedError for a type without one
    except NotImplementedError:
        return False
    return True


_INTEGER_LIMITS = {"TINYINT": 127, "SMALLINT": 32767, "SMALLINTEGER": 32767, "MEDIUMINT": 8388607}


class _ignored:
    """Leave out a candidate value the type cannot describe."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, NotImplementedError | TypeError)


def first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]

"""The migration test suite: six checks of a migration history against scratch databases.

1. one head
2. upgrade from base to head, one revision at a time
3. the stairway: for each revision, up, down, and up again
4. after an upgrade to head, the models match the database
5. each downgrade leaves no trace: the schema after down equals the schema before up
6. rows survive: rows generated at each revision are still there after every later upgrade

Each check runs on a scratch database of its own, made on ``server`` and dropped afterwards.
Each failure names the revision and what differed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from alembic.script import Script
from sqlalchemy import Connection, MetaData, Table, inspect, select, types
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from fastapi_migrate import revisions as graph
from fastapi_migrate.db import run_with_connection
from fastapi_migrate.dialects import for_url
from fastapi_migrate.errors import DatabaseUnreachable, MigrationFailed, MigrationsError
from fastapi_migrate.migrations import Migrations
from fastapi_migrate.reports import CheckItem, CheckReport
from fastapi_migrate.urls import mask_text, mask_url, parse_url

ONE_HEAD = "one head"
STEP_BY_STEP = "upgrade base to head one revision at a time"
STAIRWAY = "stairway: up, down, up again"
MODELS_MATCH = "models match after upgrade to head"
NO_TRACE = "downgrades leave no trace"
ROWS_SURVIVE = "rows survive every upgrade"
CHECKS = (ONE_HEAD, STEP_BY_STEP, STAIRWAY, MODELS_MATCH, NO_TRACE, ROWS_SURVIVE)

VERSION_TABLE = "alembic_version"
CheckCallback = Callable[[CheckItem], None]


def default_server(migrations: Migrations) -> URL:
    """The app's own server (never its database), else a SQLite file in the temporary folder."""
    url = migrations.settings.url or parse_url("sqlite:///scratch.db")
    return for_url(url).scratch_server(url)


def run_suite(
    migrations: Migrations,
    server: str | URL | None = None,
    *,
    checks: tuple[str, ...] = CHECKS,
    on_check: CheckCallback | None = None,
) -> CheckReport:
    """Run the checks (all six by default) and report each; nothing raises for a failed check."""
    suite = _Suite(
        migrations, parse_url(server) if server else default_server(migrations), on_check
    )
    with revision_files_loaded_once():
        return suite.run(checks)


@contextmanager
def revision_files_loaded_once() -> Iterator[None]:
    """Execute each unchanged revision file once while the suite runs.

    Alembic loads every revision file again for each command, and the suite runs a few
    commands per revision: without this its time grows with the square of the history.
    Files are keyed by path, size and modification time; env.py, which does its work when
    loaded, still runs every time.
    """
    from alembic import util as alembic_util

    original = alembic_util.load_python_file
    loaded: dict[tuple[str, int, int], ModuleType] = {}

    def load_python_file(
        dir_: str | os.PathLike[str], filename: str | os.PathLike[str]
    ) -> ModuleType:
        path = os.path.join(dir_, os.path.basename(filename))
        try:
            stat = os.stat(path)
        except OSError:
            stat = None
        if stat is None or os.path.basename(path) == "env.py":
            return original(dir_, filename)
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in loaded:
            loaded[key] = original(dir_, filename)
        return loaded[key]

    alembic_util.load_python_file = load_python_file
    try:
        yield
    finally:
        alembic_util.load_python_file = original


def _named(script: Script) -> str:
    message = (script.doc or "").strip()
    return f"{script.revision} ({message})" if message else script.revision


def _among(requested: tuple[str, ...], *names: str) -> tuple[str, ...]:
    return tuple(name for name in names if name in requested)


def _reason(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, MigrationFailed):  # what the scratch database was left as is no news
        text = text.rpartition("; ")[0] or text
    return text.rstrip(".")


class _Suite:
    def __init__(self, migrations: Migrations, server: URL, on_check: CheckCallback | None) -> None:
        self.migrations = migrations
        self.server = server
        self.dialect = for_url(server)
        self.on_check = on_check
        self.items: list[CheckItem] = []

    def report(self, name: str, ok: bool, detail: str) -> None:
        item = CheckItem(name, ok, mask_text(detail, self.server.password))
        self.items.append(item)
        if self.on_check is not None:
            self.on_check(item)

    @contextmanager
    def scratch(self, purpose: str, checks: tuple[str, ...]) -> Iterator[Migrations]:
        """A scratch database for ``checks``; a database error while they run fails them
        with its first line instead of ending the suite with a traceback."""
        try:
            url = self.dialect.create_database(self.server, self.dialect.scratch_name(purpose))
        except DBAPIError as error:
            reason = mask_text(_first_line(error), self.server.password).rstrip(".")
            hint = self.dialect.template_store(self.server).privilege_hint
            raise DatabaseUnreachable(
                f"Cannot create a scratch database on {mask_url(self.server)}: {reason}; "
                f"{hint if 'denied' in reason.lower() else 'check the server and try again'}."
            ) from None
        try:
            yield self.migrations.with_url(url)
        except SQLAlchemyError as error:
            reported = {item.name for item in self.items}
            for name in checks:
                if name not in reported:
                    self.report(name, False, f"stopped by a database error: {_first_line(error)}")
        finally:
            with suppress(DBAPIError, MigrationsError, OSError):
                self.dialect.drop_database(url)

    def run(self, checks: tuple[str, ...]) -> CheckReport:
        script = self.migrations.script_directory()
        order = graph.ordered(script)
        if ONE_HEAD in checks:
            self.one_head(tuple(script.get_heads()))
        if not order:
            for name in checks:
                if name != ONE_HEAD:
                    self.report(name, True, "there are no migrations yet")
            return CheckReport(tuple(self.items))
        if STEP_BY_STEP in checks or MODELS_MATCH in checks:
            with self.scratch("suite_up", _among(checks, STEP_BY_STEP, MODELS_MATCH)) as scratch:
                climbed = self.step_by_step(scratch, order, report=STEP_BY_STEP in checks)
                if MODELS_MATCH in checks:
                    self.models_match(scratch, climbed)
        if STAIRWAY in checks or NO_TRACE in checks:
            with self.scratch("suite_stairs", _among(checks, STAIRWAY, NO_TRACE)) as scratch:
                self.stairway(scratch, order, checks)
        if ROWS_SURVIVE in checks:
            with self.scratch("suite_rows", _among(checks, ROWS_SURVIVE)) as scratch:
                self.rows_survive(scratch, order)
        return CheckReport(tuple(sorted(self.items, key=lambda item: CHECKS.index(item.name))))

    # -- 1 ------------------------------------------------------------------------------------

    def one_head(self, heads: tuple[str, ...]) -> None:
        if len(heads) == 1:
            self.report(ONE_HEAD, True, f"head is {heads[0]}")
        elif not heads:
            self.report(ONE_HEAD, True, "there are no migrations yet")
        else:
            self.report(
                ONE_HEAD,
                False,
                f"{len(heads)} heads ({', '.join(sorted(heads))}): join them with "
                '`fastapi-migrate merge -m "merge heads"`',
            )

    # -- 2 and 4 ------------------------------------------------------------------------------

    def step_by_step(self, scratch: Migrations, order: list[Script], *, report: bool) -> bool:
        for script in order:
            try:
                scratch.upgrade(script.revision)
            except MigrationsError as error:
                if report:
                    self.report(
                        STEP_BY_STEP,
                        False,
                        f"upgrading to {_named(script)} failed: {_reason(error)}",
                    )
                return False
        if report:
            self.report(STEP_BY_STEP, True, f"{len(order)} revision(s) applied one at a time")
        return True

    def models_match(self, scratch: Migrations, climbed: bool) -> None:
        if not climbed:
            self.report(MODELS_MATCH, False, "not checked: the upgrade to head failed")
            return
        try:
            differences = scratch.differences()
        except MigrationsError as error:
            self.report(MODELS_MATCH, False, _reason(error))
            return
        if differences:
            listed = "; ".join(d.description for d in differences)
            self.report(
                MODELS_MATCH,
                False,
                f"a database at head differs from the models: {listed}. "
                'Write the missing migration with `fastapi-migrate make "..."`',
            )
        else:
            self.report(MODELS_MATCH, True, "a database at head matches the models")

    # -- 3 and 5 ------------------------------------------------------------------------------

    def stairway(self, scratch: Migrations, order: list[Script], checks: tuple[str, ...]) -> None:
        traces: list[str] = []
        done = 0
        failure: str | None = None
        before = schema_of(scratch.url)
        for script in order:
            name = _named(script)
            try:
                scratch.upgrade(script.revision)
            except MigrationsError as error:
                failure = f"up to {name} failed: {_reason(error)}"
                break
            after_up = schema_of(scratch.url)
            try:
                scratch.downgrade(f"{script.revision}-1")
            except MigrationsError as error:
                failure = f"down from {name} failed: {_reason(error)}"
                break
            after_down = schema_of(scratch.url)
            differences = describe_differences(before, after_down)
            if differences:
                traces.append(f"downgrading {name} left {'; '.join(differences)}")
            try:
                scratch.upgrade(script.revision)
            except MigrationsError as error:
                failure = f"up again to {name} failed: {_reason(error)}"
                break
            again = schema_of(scratch.url)
            if not differences and (changed := describe_differences(after_up, again)):
                failure = f"up again to {name} made a different schema: {'; '.join(changed)}"
                break
            before = again
            done += 1
        if STAIRWAY in checks:
            if failure is None:
                self.report(STAIRWAY, True, f"{done} revision(s) went up, down and up again")
            else:
                self.report(STAIRWAY, False, failure)
        if NO_TRACE in checks:
            if traces:
                self.report(NO_TRACE, False, "; ".join(traces))
            elif failure is not None and done == 0:
                self.report(
                    NO_TRACE, False, "not checked: the stairway failed at the first revision"
                )
            else:
                scope = f"{done} of {len(order)}" if failure is not None else f"all {done}"
                self.report(NO_TRACE, True, f"{scope} downgrade(s) restored the schema exactly")

    # -- 6 ------------------------------------------------------------------------------------

    def rows_survive(self, scratch: Migrations, order: list[Script]) -> None:
        ledger = RowLedger()
        losses: list[str] = []
        for script in order:
            name = _named(script)
            try:
                scratch.upgrade(script.revision)
            except MigrationsError as error:
                self.report(
                    ROWS_SURVIVE,
                    False,
                    f"upgrading to {name} with rows in the tables failed: {_reason(error)}",
                )
                return
            losses.extend(
                f"{name} {loss}" for loss in run_with_connection(scratch.url, ledger.verify)
            )
            run_with_connection(scratch.url, ledger.insert)
        skipped = (
            f" (no rows could be made for: {'; '.join(ledger.skipped)})" if ledger.skipped else ""
        )
        if losses:
            self.report(ROWS_SURVIVE, False, "; ".join(losses) + skipped)
        else:
            self.report(
                ROWS_SURVIVE,
                True,
                f"{ledger.inserted} generated row(s) survived every later upgrade{skipped}",
            )


# -- schema snapshots ---------------------------------------------------------------------------

Schema = dict[str, dict[str, Any]]


def schema_of(url: URL) -> Schema:
    """What a downgrade must restore: tables, columns, keys, indexes, constraints, views."""
    return run_with_connection(url, _snapshot)


def _snapshot(connection: Connection) -> Schema:
    inspector = inspect(connection)
    schema: Schema = {}
    for table in inspector.get_table_names():
        if table == VERSION_TABLE:
            continue
        columns = {
            c["name"]: (
                repr(c["type"]),
                "null" if c["nullable"] else "not null",
                f"default {c.get('default')}" if c.get("default") is not None else "no default",
            )
            for c in inspector.get_columns(table)
        }
        pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
        foreign = sorted(
            f"({', '.join(fk['constrained_columns'])}) -> {fk['referred_table']}"
            f"({', '.join(fk['referred_columns'])})"
            for fk in inspector.get_foreign_keys(table)
        )
        indexes = sorted(
            f"{'unique ' if ix.get('unique') else ''}{ix['name']} "
            f"({', '.join(str(c) for c in ix.get('column_names') or [])})"
            for ix in inspector.get_indexes(table)
        )
        uniques = sorted(
            f"({', '.join(u['column_names'])})" for u in inspector.get_unique_constraints(table)
        )
        try:
            checks = sorted(str(c["sqltext"]) for c in inspector.get_check_constraints(table))
        except NotImplementedError:
            checks = []
        schema[f"table {table}"] = {
            "columns": columns,
            "primary key": f"({', '.join(pk)})",
            "foreign keys": foreign,
            "indexes": indexes,
            "unique constraints": uniques,
            "check constraints": checks,
        }
    for view in inspector.get_view_names():
        schema[f"view {view}"] = {}
    for sequence in _sequences(inspector):
        schema[f"sequence {sequence}"] = {}
    for name, definition in for_url(connection.engine.url).schema_extras(connection).items():
        schema[name] = {"definition": definition}
    return schema


def _sequences(inspector: Any) -> list[str]:
    try:
        return list(inspector.get_sequence_names())
    except NotImplementedError:
        return []


def describe_differences(before: Schema, after: Schema) -> list[str]:
    """What ``after`` has that ``before`` lacks and the reverse, one phrase each."""
    found: list[str] = []
    found += [f"{name} behind" for name in sorted(set(after) - set(before))]
    found += [f"{name} missing" for name in sorted(set(before) - set(after))]
    for name in sorted(set(before) & set(after)):
        old, new = before[name], after[name]
        for aspect in old:
            if old[aspect] == new.get(aspect):
                continue
            if aspect == "columns":
                found += _column_differences(name, old[aspect], new[aspect])
            else:
                found.append(
                    f"{name} {aspect} {_shown(new.get(aspect))} instead of {_shown(old[aspect])}"
                )
    return found


def _column_differences(table: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found = [f"{table} column {c} behind" for c in new if c not in old]
    found += [f"{table} column {c} missing" for c in old if c not in new]
    for column in old:
        if column in new and old[column] != new[column]:
            changed = [
                f"{n} instead of {o}"
                for o, n in zip(old[column], new[column], strict=True)
                if o != n
            ]
            found.append(f"{table} column {column} {', '.join(changed)}")
    return found


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]" if value else "none"
    return str(value)


# -- generated rows -----------------------------------------------------------------------------


@dataclass
class _Tracked:
    key: tuple[str, ...]  # primary key columns; empty: rows are counted instead
    rows: dict[tuple[Any, ...], set[str]] = field(default_factory=dict)  # key -> non-null columns
    count: int = 0


class RowLedger:
    """Inserts generated rows into every table and checks later that they are still there.

    Values honour each column's type, length and nullability; foreign keys point at rows
    that exist; unique and primary key values never repeat. A row counts as lost when its
    primary key is gone from a table that still exists, and a value as lost when a column
    of the same name that held it is now NULL. A dropped or renamed table is not a loss:
    that is a decision a migration names (and the linter flags).
    """

    ROWS_PER_TABLE = 2

    def __init__(self) -> None:
        self.tracked: dict[str, _Tracked] = {}
        self.skipped: list[str] = []
        self.inserted = 0
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def insert(self, connection: Connection) -> None:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            if table.name == VERSION_TABLE:
                continue
            rows, problem = self._rows_for(connection, table)
            if problem is None:
                savepoint = connection.begin_nested()
                try:
                    connection.execute(table.insert(), rows)
                    savepoint.commit()
                except DBAPIError as error:
                    savepoint.rollback()
                    problem = _first_line(error)
            if problem is not None:
                note = f"{table.name}: {problem}"
                if note not in self.skipped:
                    self.skipped.append(note)
                continue
            self._track(table, rows)

    def _track(self, table: Table, rows: list[dict[str, Any]]) -> None:
        key = tuple(c.name for c in table.primary_key.columns)
        tracked = self.tracked.get(table.name)
        if tracked is None or tracked.key != key:
            tracked = self.tracked[table.name] = _Tracked(key)
        for row in rows:
            self.inserted += 1
            tracked.count += 1
            if key:
                tracked.rows[tuple(row[c] for c in key)] = {
                    c for c, v in row.items() if v is not None
                }

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
                count = connection.execute(select(table).with_only_columns(*table.c[:1])).all()
                if len(count) < tracked.count:
                    losses.append(
                        f"lost {tracked.count - len(count)} of {tracked.count} row(s) in table {name}"
                    )
                tracked.count = len(count)
                tracked.key, tracked.rows = (), {}
                continue
            losses += self._compare(connection, table, tracked)
        return losses

    def _compare(self, connection: Connection, table: Table, tracked: _Tracked) -> list[str]:
        watched = sorted(
            {c for columns in tracked.rows.values() for c in columns} & set(table.c.keys())
        )
        present: dict[tuple[Any, ...], set[str]] = {}
        for row in connection.execute(select(*[table.c[c] for c in watched])).mappings():
            present[tuple(_comparable(row[c]) for c in tracked.key)] = {
                c for c in watched if row[c] is not None
            }
        losses: list[str] = []
        gone = [k for k in tracked.rows if tuple(_comparable(v) for v in k) not in present]
        if gone:
            losses.append(f"lost {len(gone)} of {len(tracked.rows)} row(s) in table {table.name}")
        emptied: dict[str, int] = {}
        for key, columns in tracked.rows.items():
            now = present.get(tuple(_comparable(v) for v in key))
            if now is None:
                continue
            for column in (columns & set(watched)) - now:
                emptied[column] = emptied.get(column, 0) + 1
        losses += [f"emptied {table.name}.{c} in {n} row(s)" for c, n in sorted(emptied.items())]
        for key in gone:
            del tracked.rows[key]
        for key in tracked.rows:
            tracked.rows[key] = present[tuple(_comparable(v) for v in key)]
        tracked.count = len(tracked.rows)
        return losses

    def _rows_for(
        self, connection: Connection, table: Table
    ) -> tuple[list[dict[str, Any]], str | None]:
        references: dict[str, list[Any]] = {}
        for fk in table.foreign_keys:
            if fk.parent.name in references:
                continue
            target = fk.column
            newest = select(target).order_by(target.desc()).limit(self.ROWS_PER_TABLE)
            values = list(connection.execute(newest).scalars())  # fresh pairs each round
            if fk.column.table is table:  # a self-reference: leave it empty when it may be
                values = []
            if not values and not fk.parent.nullable:
                return [], f"no rows in {target.table.name} for {fk.parent.name} to point at"
            references[fk.parent.name] = values
        rows: list[dict[str, Any]] = []
        for index in range(self.ROWS_PER_TABLE):
            row: dict[str, Any] = {}
            for column in table.columns:
                if column.computed is not None:
                    continue
                if column.name in references:
                    pool = references[column.name]
                    row[column.name] = pool[index % len(pool)] if pool else None
                    continue
                try:
                    row[column.name] = self._value(column.type)
                except (NotImplementedError, SQLAlchemyError, TypeError):
                    if not column.nullable:
                        return [], f"cannot make a value of type {column.type!r} for {column.name}"
                    row[column.name] = None
            rows.append(row)
        return rows, None

    def _value(self, kind: types.TypeEngine[Any]) -> Any:
        n = self._next()
        if isinstance(kind, types.Enum) and kind.enums:
            return kind.enums[n % len(kind.enums)]
        if isinstance(kind, types.Boolean):
            return n % 2 == 0
        python = kind.python_type
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


_INTEGER_LIMITS = {"TINYINT": 127, "SMALLINT": 32767, "SMALLINTEGER": 32767, "MEDIUMINT": 8388607}


def _comparable(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]

"""PostgreSQL's template copies for the test suite: one CREATE DATABASE ... TEMPLATE per
copy, and a used copy recycled (its rows and sequences reset) instead of dropped."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.testing.stores.base_store import ServerTemplateStore
from fastapi_alembic.testing.stores.postgresql_catalog import (
    FINGERPRINT_SQL,
    QUICK_CHECK_SQL,
    USER_SCHEMA,
)

T = TypeVar("T")


class PostgreSQLTemplateStore(ServerTemplateStore):
    """Templates are real PostgreSQL templates: a copy is one CREATE DATABASE ... TEMPLATE.

    A published template refuses connections (ALLOW_CONNECTIONS false), so nothing can hold
    it open and make a copy fail with "source database is being accessed by other users".
    """

    def names(self, prefix: str) -> list[str]:
        found = self.scalars("SELECT datname FROM pg_database")
        return [name for name in found if str(name).startswith(prefix)]

    def exists(self, name: str) -> bool:
        return bool(self.scalars("SELECT 1 FROM pg_database WHERE datname = :name", name=name))

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        self.execute(f"SELECT pg_advisory_lock({number})")
        try:
            yield
        finally:
            self.execute(f"SELECT pg_advisory_unlock({number})")

    def build_target(self, name: str, building: str) -> URL:
        self.execute(f'CREATE DATABASE "{building}"')
        return self.url_of(building)

    def publish(self, built: URL, name: str) -> None:
        building = built.database or ""
        # Migrations leave dead catalog rows behind (every ALTER rewrites some); a copy would
        # copy them too. Compacting once makes every copy smaller and faster (see docs).
        from fastapi_alembic.dialects.engines import run_with_connection

        run_with_connection(built, lambda c: c.exec_driver_sql("VACUUM FULL"), autocommit=True)
        self.execute(
            f'ALTER DATABASE "{building}" RENAME TO "{name}"',
            f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false',
        )

    def copy(self, template: str, name: str) -> URL:
        for attempt in range(50):
            try:
                self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except DBAPIError as error:
                # Another session may still be leaving the template: wait a moment for it.
                if "being accessed by other users" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        return self.url_of(name)

    # -- recycling a used copy -----------------------------------------------------------

    recycles = True

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        #: Per template: what a reset needs, or None when its copies are never recycled.
        self._plans: dict[str, ResetPlan | None] = {}
        #: Per copy, an engine without a pool: each reset opens and closes a connection (no
        #: session stays on the copy), but the dialect's first-connect queries run once.
        self._engines: dict[str, Engine] = {}

    def _in_copy(self, name: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction on a connection to copy ``name``, closed after."""
        from fastapi_alembic.dialects.engines import make_engine, run_with_connection

        engine = self._engines.get(name)
        if engine is None:
            made = make_engine(self.url_of(name))
            if not isinstance(made, Engine):  # an async driver: the generic way
                return run_with_connection(self.url_of(name), work)
            engine = self._engines[name] = made
        with engine.connect() as connection, connection.begin():
            return work(connection)

    def drop(self, name: str) -> None:
        engine = self._engines.pop(name, None)
        if engine is not None:
            engine.dispose()
        super().drop(name)

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().close()

    def learn(self, template: str, name: str) -> None:
        if template in self._plans:
            return
        self._plans[template] = None  # a failure below means: drop copies, as without recycling
        self._plans[template] = self._in_copy(name, _read_reset_plan)

    def recycle(self, template: str, name: str) -> bool:
        plan = self._plans.get(template)
        if plan is None:
            return False
        # Sessions a test left open would see the reset happen, or block it with their locks.
        # A prepared transaction survives them and holds its locks: such a copy is dropped.
        prepared = self.run(
            lambda c: c.execute(
                text(
                    "SELECT (SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()), "
                    "(SELECT count(*) FROM pg_prepared_xacts WHERE database = :name)"
                ),
                {"name": name},
            ).one()[1]
        )
        if prepared:
            return False
        if not self._in_copy(name, lambda c: _reset(c, plan)):
            return False
        # The reset's own session leaves the server a moment after it is closed; the next
        # test must not find it there (a fresh copy has no session on it).
        for _ in range(500):
            if not self.scalars(
                "SELECT 1 FROM pg_stat_activity WHERE datname = :name LIMIT 1", name=name
            ):
                return True
            time.sleep(0.002)
        return False


@dataclass
class ResetPlan:
    """A fresh copy, as read once: its schema's fingerprint, its tables (children before
    parents), its rows as row literals, and where its sequences stand."""

    fingerprint: str
    #: The transaction id from which on a catalog row is newer than the fresh copy, and how
    #: many rows each catalog the fingerprint reads had: the quick check's reference.
    since: int = 0
    counts: str = ""
    tables: list[str] = field(default_factory=list)  # quoted, qualified
    columns: dict[str, str] = field(default_factory=dict)  # table -> its quoted column list
    rows: dict[str, list[str]] = field(default_factory=dict)  # table -> rows as literals
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)  # -> last, is_called


_TABLES_SQL = f"""
SELECT c.oid, format('%I.%I', n.nspname, c.relname),
       (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
       OR EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER_SCHEMA.format(n="n")}
"""

_SEQUENCES_SQL = f"""
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND {USER_SCHEMA.format(n="n")}
"""


def _read_reset_plan(connection: Connection) -> ResetPlan | None:
    """What resetting a copy needs, read from a fresh one; None when its tables cannot be
    reset by deleting and inserting rows alone (triggers or rules would fire, foreign keys
    form a cycle, partitions)."""

    def run(sql: str) -> Any:  # a CursorResult; rows of any shape
        return connection.execute(text(sql))  # text(): the catalog SQL holds % signs

    plan = ResetPlan(fingerprint=str(run(FINGERPRINT_SQL).scalar()))
    # Every transaction from the next one on has an id at least this (modulo 2**32: xid).
    plan.since = int(run("SELECT txid_snapshot_xmax(txid_current_snapshot())").scalar()) % 2**32
    plan.counts = str(connection.execute(text(QUICK_CHECK_SQL), {"since": plan.since}).one()[0])
    oids: dict[int, str] = {}
    for oid, table, columns, fires in run(_TABLES_SQL).all():
        if fires:
            return None
        oids[int(oid)] = str(table)
        plan.columns[str(table)] = str(columns or "")
    if run("SELECT 1 FROM pg_class WHERE relkind = 'p' OR relispartition LIMIT 1").first():
        return None
    references: dict[str, set[str]] = {table: set() for table in oids.values()}
    for child, parent in run(
        "SELECT conrelid::oid, confrelid::oid FROM pg_constraint WHERE contype = 'f'"
    ).all():
        if int(child) in oids and int(parent) in oids and child != parent:
            references[oids[int(child)]].add(oids[int(parent)])
    order = _parents_first(references)
    if order is None:
        return None
    plan.tables = order[::-1]  # deleting: children first
    for table in order:
        found = run(f"SELECT array_agg(t::text) FROM {table} AS t").scalar()
        if found:
            plan.rows[table] = [str(row) for row in found]
    for (sequence,) in run(_SEQUENCES_SQL).all():
        last, called = run(f"SELECT last_value, is_called FROM {sequence}").one()
        plan.sequences[str(sequence)] = (int(last), bool(called))
    return plan


def _parents_first(references: dict[str, set[str]]) -> list[str] | None:
    """The tables ordered so that each comes after those it references; None for a cycle."""
    order: list[str] = []
    placed: set[str] = set()
    waiting = dict(references)
    while waiting:
        ready = sorted(t for t, parents in waiting.items() if parents <= placed)
        if not ready:
            return None
        for table in ready:
            order.append(table)
            placed.add(table)
            del waiting[table]
    return order


def _reset(connection: Connection, plan: ResetPlan) -> bool:
    """Put a used copy back to the state ``plan`` read, in one transaction; False (and
    nothing changed) when its schema is no longer the template's."""

    def run(sql: str) -> Any:  # a CursorResult; rows of any shape
        return connection.execute(text(sql))

    # The commit need not wait for the disk (set in the same round trip as the check): a
    # test database lost in a server crash goes with the run, and on a busy disk a flush
    # costs more than the rest of the reset.
    counts, newer = connection.execute(
        text(
            "SELECT q.* FROM (SELECT set_config('synchronous_commit', 'off', true)) AS s, "
            f"({QUICK_CHECK_SQL}) AS q"
        ),
        {"since": plan.since},
    ).one()
    unchanged = counts == plan.counts and not newer
    if not unchanged and run(FINGERPRINT_SQL).scalar() != plan.fingerprint:
        return False
    # One round trip says which tables hold rows, whether the template's own rows (the
    # version table, seed data) are still as they were (as many rows, none written since
    # the fresh copy was read), and where every sequence stands, so that only what the test
    # touched is written (most tables of most tests stay empty).
    newer_row = f"age(xmin) <= age(CAST('{int(plan.since)}' AS xid))"
    probes = [
        f"(SELECT count(*) = {len(plan.rows[table])} AND NOT coalesce(bool_or({newer_row}), "
        f"false) FROM {table})"
        if table in plan.rows
        else f"EXISTS (SELECT 1 FROM {table})"
        for table in plan.tables
    ]
    for sequence in plan.sequences:
        probes.append(f"(SELECT last_value FROM {sequence})")
        probes.append(f"(SELECT is_called FROM {sequence})")
    found = list(run("SELECT " + ", ".join(probes)).one()) if probes else []
    filled = dict(zip(plan.tables, found[: len(plan.tables)], strict=True))
    positions = found[len(plan.tables) :]
    # The template's rows are put back all together or not at all (one seed table's rows may
    # reference another's).
    seeds_intact = all(filled[table] for table in plan.rows)
    for table in plan.tables:
        if (table in plan.rows and not seeds_intact) or (table not in plan.rows and filled[table]):
            run(f"DELETE FROM {table}")
    for table in reversed(plan.tables):  # parents first
        rows = plan.rows.get(table)
        if rows and not seeds_intact:
            columns = plan.columns[table]
            selected = ", ".join(f"(r).{c}" for c in columns.split(", "))
            connection.execute(
                text(
                    f"INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE "
                    f"SELECT {selected} FROM (SELECT CAST(v AS {table}) AS r "
                    "FROM unnest(CAST(:rows AS text[])) AS u(v)) AS s"
                ),
                {"rows": rows},
            )
    moved = []
    for index, (sequence, (last, called)) in enumerate(plan.sequences.items()):
        if (positions[2 * index], positions[2 * index + 1]) != (last, called):
            moved.append(f"setval('{sequence.replace(chr(39), chr(39) * 2)}', {last}, {called})")
    if moved:
        run("SELECT " + ", ".join(moved))
    return True

"""MySQL's and MariaDB's template copies for the test suite: a copy replays the template's
DDL and copies its few rows; a used copy is recycled (rows reset, in mysql_recycling.py)
instead of dropped."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.errors import DatabaseStateError
from fastapi_alembic.testing.stores.base_store import ServerTemplateStore
from fastapi_alembic.testing.stores.mysql_recycling import (
    ResetPlan,
    quote,
    read_reset,
    reset_copy,
)

#: A table only a finished template has; copies leave it out.
READY_TABLE = "_fastapi_alembic_template"
_DEFINER = re.compile(
    r"\s+DEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+)@(`[^`]*`|'[^']*'|\S+)", re.IGNORECASE
)


@dataclass
class CopyPlan:
    """What a copy executes: the template's DDL (read once) and the tables that hold rows."""

    tables: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    rows: dict[str, list[str]] = field(default_factory=dict)  # table -> its columns, quoted


class MySQLTemplateStore(ServerTemplateStore):
    """MySQL has no CREATE DATABASE ... TEMPLATE and no RENAME DATABASE.

    The fastest correct copy we measured (see docs/testing.md) replays the template's own
    DDL, read once with SHOW CREATE, with foreign key checks off, then copies the few rows
    the template holds (alembic_version, seed data) with INSERT ... SELECT across databases.
    The template is built under its final name while a named lock is held; a table that is
    made last marks it finished, so a half-built one is never copied.
    """

    def __init__(self, dialect: DialectSupport, server: URL) -> None:
        super().__init__(dialect, server)
        self._plans: dict[str, CopyPlan] = {}
        #: Per template: what a reset needs, or None when its copies are never recycled.
        self._resets: dict[str, ResetPlan | None] = {}

    def names(self, prefix: str) -> list[str]:
        return [str(n) for n in self.scalars("SHOW DATABASES") if str(n).startswith(prefix)]

    def exists(self, name: str) -> bool:
        return bool(
            self.scalars(
                "SELECT 1 FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = :name AND TABLE_NAME = :ready",
                name=name,
                ready=READY_TABLE,
            )
        )

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        label = "fastapi_alembic_" + hashlib.sha256(key.encode()).hexdigest()[:32]
        got = self.scalars("SELECT GET_LOCK(:label, 600)", label=label)
        if not got or got[0] != 1:
            raise DatabaseStateError(
                "Waited 10 minutes for another test run to finish building the test template: "
                "is a run stuck? Stop it and try again."
            )
        try:
            yield
        finally:
            self.scalars("SELECT RELEASE_LOCK(:label)", label=label)

    def build_target(self, name: str, building: str) -> URL:
        # Held under the lock: a database of this name that is not finished is a crashed build.
        self.execute(self.dialect.drop_database_sql(name), self.dialect.create_database_sql(name))
        return self.url_of(name)

    def publish(self, built: URL, name: str) -> None:
        self.execute(f"CREATE TABLE `{name}`.`{READY_TABLE}` (ready INT)")

    def drop(self, name: str) -> None:

        # Like PostgreSQL's DROP DATABASE ... WITH (FORCE): a session a test left open (and
        # the metadata locks it holds) would otherwise make the drop wait without end.
        def work(connection: Connection) -> None:
            _end_sessions(connection, name)
            connection.exec_driver_sql(self.dialect.drop_database_sql(name))

        self.run(work)

    # -- recycling a used copy -----------------------------------------------------------

    recycles = True

    def learn(self, template: str, name: str) -> None:
        if template in self._resets:
            return
        self._resets[template] = None  # a failure below means: drop copies, as without it
        plan = self._plans.get(template)
        if plan is None:
            plan = self._plans[template] = self.run(lambda c: _read_plan(c, template))
        if plan.triggers:  # deleting and inserting rows would fire them
            return
        self._resets[template] = self.run(lambda c: read_reset(c, template, name, plan.rows))

    def recycle(self, template: str, name: str) -> bool:
        reset = self._resets.get(template)
        if reset is None:
            return False

        def work(connection: Connection) -> bool:
            _end_sessions(connection, name)
            return reset_copy(connection, template, name, reset) != "schema changed"

        return self.run(work)

    def copy(self, template: str, name: str) -> URL:
        plan = self._plans.get(template)
        if plan is None:
            plan = self._plans[template] = self.run(lambda c: _read_plan(c, template))

        def work(connection: Connection) -> None:
            run = connection.exec_driver_sql
            run(self.dialect.create_database_sql(name))
            run(f"USE `{name}`")
            run("SET @fm_checks = @@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS = 0")
            try:
                for statement in (*plan.tables, *plan.views, *plan.triggers):
                    run(statement)
                for table, names in plan.rows.items():
                    columns = ", ".join(names)
                    run(
                        f"INSERT INTO `{name}`.`{table}` ({columns}) "
                        f"SELECT {columns} FROM `{template}`.`{table}`"
                    )
            finally:
                run("SET FOREIGN_KEY_CHECKS = @fm_checks")
                run("USE information_schema")

        self.run(work)
        return self.url_of(name)


def _read_plan(connection: Connection, template: str) -> CopyPlan:
    run = connection.exec_driver_sql
    plan = CopyPlan()
    for table, kind in run(f"SHOW FULL TABLES FROM {quote(template)}").all():
        if table == READY_TABLE:
            continue
        if kind == "VIEW":
            ddl = run(f"SHOW CREATE VIEW {quote(template)}.{quote(table)}").one()[1]
            ddl = _DEFINER.sub("", ddl).replace(f"{quote(template)}.", "")
            plan.views.append(ddl)
            continue
        if kind == "SEQUENCE":
            ddl = run(f"SHOW CREATE SEQUENCE {quote(template)}.{quote(table)}").one()[1]
            plan.tables.append(ddl)
            continue
        plan.tables.append(run(f"SHOW CREATE TABLE {quote(template)}.{quote(table)}").one()[1])
        has_rows = run(f"SELECT 1 FROM {quote(template)}.{quote(table)} LIMIT 1").first()
        if has_rows:
            columns = run(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s AND EXTRA NOT LIKE %s ORDER BY ORDINAL_POSITION",
                (template, table, "%GENERATED%"),
            ).scalars()
            plan.rows[table] = [quote(c) for c in columns]
    for row in run(f"SHOW TRIGGERS FROM {quote(template)}").all():
        ddl = run(f"SHOW CREATE TRIGGER {quote(template)}.{quote(row[0])}").one()[2]
        plan.triggers.append(_DEFINER.sub("", ddl))
    return plan


def _end_sessions(connection: Connection, name: str) -> None:
    """KILL every other session on database ``name`` (those a test left open), and wait
    until they are gone: a killed session lingers a moment while it rolls back."""
    find = text(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :name AND ID <> CONNECTION_ID()"
    )
    sessions = list(connection.execute(find, {"name": name}).scalars())
    for session in sessions:
        with suppress(DBAPIError):  # it may have ended by itself meanwhile
            connection.exec_driver_sql(f"KILL {int(session)}")
    for _ in range(1000 if sessions else 0):
        if not connection.execute(find, {"name": name}).first():
            return
        time.sleep(0.002)

"""Putting a used MySQL or MariaDB copy back to a fresh copy's state, for the next test.

The check runs on the template store's background connection after every test, so it must
cost little: one statement reads the schema's fingerprint (hashed on the server), which
tables hold rows or no longer hold exactly the template's, and every AUTO_INCREMENT counter.
A copy the test only read needs nothing else; otherwise the touched tables are emptied and
refilled in one transaction (one flush to disk), and the counters that moved are set back.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass
class ResetPlan:
    """A fresh copy, as read once: its schema's fingerprint, its tables, the tables that
    hold the template's rows (and their primary keys), and its AUTO_INCREMENT counters."""

    fingerprint: str
    tables: list[str] = field(default_factory=list)
    rows: dict[str, list[str]] = field(default_factory=dict)  # table -> its columns, quoted
    keys: dict[str, list[str]] = field(default_factory=dict)  # table -> primary key, quoted
    counters: dict[str, int | None] = field(default_factory=dict)
    #: The counters as the state statement reads them: equal means none moved.
    counters_seen: str = ""


#: Every definition a test could change with DDL, one line each, from information_schema
#: (each part filtered on the column the server looks up by, so that it reads one database
#: and not every database on the server).
_DEFINITIONS_SQL = """
SELECT CONCAT_WS(' ', 'table', TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT)
       AS line
FROM information_schema.TABLES WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'column', TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
       IS_NULLABLE, COALESCE(COLUMN_DEFAULT, '-'), EXTRA, COLLATION_NAME,
       GENERATION_EXPRESSION, COLUMN_COMMENT)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'index', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE,
       SUB_PART, INDEX_TYPE)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'key', TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION,
       REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME)
FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'constraint', TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE)
FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'rule', TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE)
FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'check', TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE)
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'view', TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION)
FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'trigger', TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE,
       ACTION_TIMING, ACTION_STATEMENT)
FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'routine', ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION)
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = :name
UNION ALL
SELECT CONCAT_WS(' ', 'event', EVENT_NAME, EVENT_DEFINITION)
FROM information_schema.EVENTS WHERE EVENT_SCHEMA = :name
"""

#: The definitions hashed on the server (one value back, not a row per column), the
#: database's own name replaced so that two copies of one template hash alike; sorted as
#: bytes, so that the order never depends on a collation's ties.
_FINGERPRINT_SQL = f"""
SELECT SHA2(GROUP_CONCAT(line ORDER BY CAST(line AS BINARY) SEPARATOR '\\n'), 256)
FROM (SELECT REPLACE(REPLACE(line, :quoted, '<database>'), :literal, '<database>') AS line
      FROM ({_DEFINITIONS_SQL}) AS definitions) AS named
"""

_COUNTERS_SQL = """
SELECT GROUP_CONCAT(COALESCE(AUTO_INCREMENT, '-') ORDER BY CAST(TABLE_NAME AS BINARY))
FROM information_schema.TABLES WHERE TABLE_SCHEMA = :name AND TABLE_TYPE = 'BASE TABLE'
"""

#: GROUP_CONCAT cuts its result at this session setting (1 MB by default): the fingerprint
#: of a large schema must never be a hash of its first megabyte.
_NO_CUT = "SET SESSION group_concat_max_len = 4294967295"


def _names(name: str) -> dict[str, str]:
    return {"name": name, "quoted": quote(name), "literal": f"'{name}'"}


def _counters(connection: Connection, name: str) -> dict[str, int | None]:
    found = connection.execute(
        text(
            "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = :name AND TABLE_TYPE = 'BASE TABLE'"
        ),
        {"name": name},
    ).all()
    return {str(table): None if value is None else int(value) for table, value in found}


def read_reset(
    connection: Connection, template: str, name: str, rows: dict[str, list[str]]
) -> ResetPlan | None:
    """What resetting a copy needs, read from ``name``, a fresh copy of ``template`` whose
    tables ``rows`` hold rows; None when a reset by rows alone cannot give a fresh copy's
    state (MariaDB sequences keep a position apart)."""
    kinds = connection.execute(
        text(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = :n"
        ),
        {"n": name},
    ).all()
    if any(kind == "SEQUENCE" for _, kind in kinds):
        return None
    keys: dict[str, list[str]] = {}
    for table, column in connection.execute(
        text(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = :n AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"
        ),
        {"n": name},
    ).all():
        if str(table) in rows:
            keys.setdefault(str(table), []).append(quote(str(column)))
    connection.exec_driver_sql(_NO_CUT)
    counters = _counters(connection, name)
    return ResetPlan(
        fingerprint=str(connection.execute(text(_FINGERPRINT_SQL), _names(name)).scalar()),
        tables=sorted(counters),
        rows=dict(rows),
        keys=keys,
        counters=counters,
        counters_seen=str(connection.execute(text(_COUNTERS_SQL), {"name": name}).scalar()),
    )


def _touched_sql(template: str, name: str, index: int, table: str, reset: ResetPlan) -> str:
    """A SELECT of ``index`` when the test may have changed ``table``'s rows: it holds any (a
    table the template leaves empty), or they may differ from the template's.

    A table with a primary key holds the template's rows exactly when it has as many and
    each matches, by its key, a template row equal in every column (compared as bytes: a
    collation would take 'a' for 'A'); without a key, duplicates could hide a change, so it
    counts as touched."""
    copy = f"{quote(name)}.{quote(table)}"
    if table not in reset.rows:
        return f"(SELECT {index} AS i FROM {copy} LIMIT 1)"
    key = reset.keys.get(table)
    if not key:
        return f"(SELECT {index} AS i)"
    source = f"{quote(template)}.{quote(table)}"
    on = " AND ".join(f"a.{c} = b.{c}" for c in key)
    same = " AND ".join(
        f"CAST(a.{c} AS BINARY) <=> CAST(b.{c} AS BINARY)" for c in reset.rows[table]
    )
    wanted = f"(SELECT COUNT(*) FROM {source})"
    return (
        f"(SELECT {index} AS i FROM DUAL WHERE NOT ((SELECT COUNT(*) FROM {copy}) = {wanted} AND "
        f"(SELECT COUNT(*) FROM {copy} AS a JOIN {source} AS b ON {on} WHERE {same}) = {wanted}))"
    )


Outcome = Literal["schema changed", "untouched", "reset"]


def reset_copy(connection: Connection, template: str, name: str, reset: ResetPlan) -> Outcome:
    """Put the used copy ``name`` back to the state ``reset`` read from a fresh one: whether
    its schema changed (then nothing is done: it cannot be reset), it needed nothing, or its
    rows or counters were put back."""
    run = connection.exec_driver_sql
    connection.exec_driver_sql(_NO_CUT)
    touched = " UNION ALL ".join(
        _touched_sql(template, name, i, t, reset) for i, t in enumerate(reset.tables)
    )
    fingerprint, counters, dirty = connection.execute(
        text(
            f"SELECT ({_FINGERPRINT_SQL}), ({_COUNTERS_SQL}), "
            f"(SELECT GROUP_CONCAT(i) FROM ({touched or 'SELECT NULL AS i'}) AS touched)"
        ),
        _names(name),
    ).one()
    if fingerprint != reset.fingerprint:
        return "schema changed"
    tables = [reset.tables[int(i)] for i in str(dirty or "").split(",") if i]
    # Read before the writes: putting the template's rows back cannot move a counter past
    # a fresh copy's (that copy got the same rows), so a counter equal now stays equal.
    moved = {}
    if counters != reset.counters_seen:
        moved = {
            table: wanted
            for table, value in _counters(connection, name).items()
            if (wanted := reset.counters.get(table)) is not None and value != wanted
        }
    if tables:
        run("SET @fm_checks = @@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS = 0")
        try:
            run("START TRANSACTION")
            try:
                for table in tables:
                    run(f"DELETE FROM {quote(name)}.{quote(table)}")
                for table in tables:
                    if table in reset.rows:
                        columns = ", ".join(reset.rows[table])
                        run(
                            f"INSERT INTO {quote(name)}.{quote(table)} ({columns}) "
                            f"SELECT {columns} FROM {quote(template)}.{quote(table)}"
                        )
                run("COMMIT")
            except BaseException:
                with suppress(DBAPIError):
                    run("ROLLBACK")
                raise
        finally:
            run("SET FOREIGN_KEY_CHECKS = @fm_checks")
    for table, wanted in moved.items():
        run(f"ALTER TABLE {quote(name)}.{quote(table)} AUTO_INCREMENT = {int(wanted)}")
    return "reset" if tables or moved else "untouched"

"""Schema snapshots for the suite: what a downgrade must restore, and how two differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import URL

from fastapi_alembic.config import DEFAULT_LEDGER_TABLE
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.runtime.lock_table import LOCK_TABLE

VERSION_TABLE = "alembic_version"
#: Tables the migration machinery keeps for itself: not the app's schema, not for test rows.
BOOKKEEPING_TABLES = frozenset({VERSION_TABLE, DEFAULT_LEDGER_TABLE, LOCK_TABLE})

Schema = dict[str, dict[str, Any]]


def schema_of(url: URL) -> Schema:
    """What a downgrade must restore: tables, columns, keys, indexes, constraints, views."""
    return run_with_connection(url, _snapshot)


def _snapshot(connection: Connection) -> Schema:
    inspector = inspect(connection)
    schema: Schema = {}
    for table in inspector.get_table_names():
        if table in BOOKKEEPING_TABLES:
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
        if sequence.startswith(tuple(f"{table}_" for table in BOOKKEEPING_TABLES)):
            continue  # the ledger's own id counter on PostgreSQL
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

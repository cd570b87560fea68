"""The data-loss guard: before an upgrade drops or narrows anything, count what would be lost.

The revisions about to run are read the way lint reads them (recording, not running); each
drop of a table or column, and each narrowing type change, is measured against the live
database: rows in the table, non-empty values in the column, values too long for the new type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, String, cast, column, func, inspect, select, table

from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import DataLossRefused
from fastapi_alembic.lint.database import backend_of
from fastapi_alembic.lint.model import Action, Kind
from fastapi_alembic.lint.types import TypeFacts, facts, narrowing


@dataclass(frozen=True)
class Loss:
    """What one operation of one revision would delete."""

    revision: str
    table: str
    column: str | None
    count: int
    what: str  # "rows", "non-empty values", "values longer than 20 characters"

    def describe(self) -> str:
        verb = "dropping" if self.what in {"rows", "non-empty values"} else "narrowing"
        target = f"{self.table}.{self.column}" if self.column else self.table
        return f"{verb} {target} would delete {self.count:,} {self.what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "table": self.table,
            "column": self.column,
            "count": self.count,
            "what": self.what,
        }


def planned(
    script: ScriptDirectory,
    current: tuple[str, ...],
    direction: Literal["upgrade", "downgrade"],
    target: str,
) -> list[Script]:
    """The revisions an upgrade or downgrade to ``target`` runs, in the order it runs them.

    Alembic's own resolution, so relative targets (+2, -1, ae10-1) mean what they mean when
    it runs; a target it cannot resolve plans nothing here and fails there, with its message.
    """
    try:
        if direction == "upgrade":
            found = script.iterate_revisions(target, current, implicit_base=True)
            return list(reversed([s for s in found if s is not None]))
        found = script.iterate_revisions(current, target, select_for_downgrade=True)
        return [s for s in found if s is not None]
    except (CommandError, RevisionError):
        return []


_LOSSY = {Kind.DROP_TABLE, Kind.DROP_COLUMN, Kind.ALTER_COLUMN}


def measure_losses(
    connection: Connection, steps: list[Script], direction: Literal["upgrade", "downgrade"]
) -> list[Loss]:
    """What running ``steps`` would delete from the database ``connection`` is on."""
    # Here, not at the top: the reader brings the SQL parser, which start-up should not load.
    from fastapi_alembic.lint.reader import read_function

    url = connection.engine.url
    backend = backend_of(url) or "postgresql"
    candidates = []
    for step in steps:
        created: dict[str, TypeFacts] = {}  # enum types the revision creates, by name
        reading = read_function(getattr(step.module, direction, None), backend, str(step.path))
        for action in reading.actions:
            created.update(_created_enum(action.sql))
            if action.kind in _LOSSY and action.table:
                candidates.append((step.revision, _with_created_type(action, created)))
    if not candidates:
        return []  # the common case costs no query at all
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    columns: dict[str, dict[str, Any]] = {}
    losses: list[Loss] = []
    for revision, action in candidates:
        if action.table not in existing:
            continue
        if action.table not in columns:
            columns[action.table] = {
                c["name"]: c["type"] for c in inspector.get_columns(action.table)
            }
        loss = _loss(connection, revision, action, columns[action.table], url)
        if loss is not None and loss.count:
            losses.append(loss)
    return losses


_CREATE_ENUM = re.compile(
    r"^\s*CREATE\s+TYPE\s+(?P<name>[^\s(]+)\s+AS\s+ENUM\s*\((?P<values>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


def _type_name(sql_name: str) -> str:
    """A type's name as written in SQL, without schema and quotes, for matching."""
    return sql_name.rsplit(".", 1)[-1].strip('"').lower()


def _created_enum(sql: str | None) -> dict[str, TypeFacts]:
    """The enum type a ``CREATE TYPE ... AS ENUM`` statement makes, by name (PostgreSQL)."""
    found = _CREATE_ENUM.match(sql or "")
    if found is None:
        return {}
    values = tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(found["values"]))
    return {_type_name(found["name"]): TypeFacts("enum", enum_values=values, text=found["name"])}


def _with_created_type(action: Action, created: dict[str, TypeFacts]) -> Action:
    """The action, its new type resolved when it names an enum type the revision created.

    A PostgreSQL enum rebuild casts the column to a type made a few statements earlier: knowing
    that type's values is what tells a cast that loses nothing from one that does.
    """
    new = action.new_type
    if not isinstance(new, TypeFacts) or new.family == "enum" or not created:
        return action
    resolved = created.get(_type_name(new.text or new.family))
    return replace(action, new_type=resolved) if resolved is not None else action


def _loss(
    connection: Connection, revision: str, action: Action, known: dict[str, Any], url: Any
) -> Loss | None:
    name = action.table or ""
    if action.kind is Kind.DROP_TABLE:
        return Loss(revision, name, None, _count(connection, name), "rows")
    if action.kind is Kind.DROP_COLUMN and action.column in known:
        counted = _count(connection, name, action.column)
        return Loss(revision, name, action.column, counted, "non-empty values")
    if action.kind is Kind.ALTER_COLUMN and action.new_type and action.column in known:
        old = facts(known[action.column])
        if not narrowing(old, action.new_type):
            return None
        new = action.new_type
        if new.family == "enum" and new.enum_values is not None:
            # Only the rows holding a value the new type lacks lose anything; the rest convert.
            kept = new.enum_values
            counted = _count(connection, name, action.column, not_in=kept)
            removed = [v for v in (old.enum_values if old else None) or () if v not in kept]
            lacking = f" ({', '.join(removed)})" if removed else ""
            return Loss(
                revision,
                name,
                action.column,
                counted,
                f"values the new type no longer holds{lacking}",
            )
        if old and old.family in {"string", "text"} and new.family == "string" and new.length:
            length = getattr(func, for_url(url).char_length_function)
            counted = _count(connection, name, action.column, (length, new.length))
            return Loss(
                revision,
                name,
                action.column,
                counted,
                f"values longer than {new.length} characters",
            )
        counted = _count(connection, name, action.column)
        return Loss(revision, name, action.column, counted, f"values converted to {new}")
    return None


def _count(
    connection: Connection,
    table_name: str,
    column_name: str | None = None,
    longer_than: tuple[Any, int] | None = None,
    not_in: tuple[str, ...] | None = None,
) -> int:
    source = table(table_name, *([column(column_name)] if column_name else []))
    query = select(func.count()).select_from(source)
    if column_name is not None:
        query = query.where(source.c[column_name].is_not(None))
        if longer_than is not None:
            length, limit = longer_than
            query = query.where(length(source.c[column_name]) > limit)
        if not_in is not None:
            query = query.where(cast(source.c[column_name], String).not_in(not_in))
    return int(connection.execute(query).scalar_one())


@dataclass(frozen=True)
class DataLossPlan:
    """What an upgrade or downgrade is about to delete, and the backup made first (SQLite)."""

    direction: str
    losses: tuple[Loss, ...]
    backup: str | None = None

    def describe(self) -> str:
        return " and ".join(f"{loss.describe()} (revision {loss.revision})" for loss in self.losses)


class DataLossGuard:
    """Refuses an upgrade that would delete data unless accepted; says what a downgrade deletes."""

    def __init__(
        self,
        direction: Literal["upgrade", "downgrade"],
        accept: bool,
        report: Callable[[DataLossPlan], None] | None,
    ) -> None:
        self.direction = direction
        self.accept = accept
        self.report = report

    def __call__(
        self, connection: Connection, script: ScriptDirectory, current: tuple[str, ...], target: str
    ) -> None:
        steps = planned(script, current, self.direction, target)
        losses = measure_losses(connection, steps, self.direction) if steps else []
        if not losses:
            return
        plan = DataLossPlan(self.direction, tuple(losses))
        if self.direction == "upgrade":
            if not self.accept:
                raise DataLossRefused(
                    f"The upgrade refuses to run: {plan.describe()}; pass --accept-data-loss "
                    "(accept_data_loss=True) to go on, or change the revision."
                )
            url = connection.engine.url
            backup = for_url(url).backup_before_loss(url, steps[-1].revision)
            plan = DataLossPlan(self.direction, plan.losses, str(backup) if backup else None)
        if self.report is not None:
            self.report(plan)

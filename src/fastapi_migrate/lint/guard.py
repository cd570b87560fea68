"""The data-loss guard: before an upgrade drops or narrows anything, count what would be lost.

The revisions about to run are read the way lint reads them (recording, not running); each
drop of a table or column, and each narrowing type change, is measured against the live
database: rows in the table, non-empty values in the column, values too long for the new type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, column, func, inspect, select, table

from fastapi_migrate.dialects import for_url
from fastapi_migrate.errors import DataLossRefused
from fastapi_migrate.lint.database import backend_of
from fastapi_migrate.lint.model import Action, Kind
from fastapi_migrate.lint.types import facts, narrowing


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
    from fastapi_migrate.lint.reader import read_function

    url = connection.engine.url
    backend = backend_of(url) or "postgresql"
    candidates = [
        (step.revision, action)
        for step in steps
        for action in read_function(
            getattr(step.module, direction, None), backend, str(step.path)
        ).actions
        if action.kind in _LOSSY and action.table
    ]
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
) -> int:
    source = table(table_name, *([column(column_name)] if column_name else []))
    query = select(func.count()).select_from(source)
    if column_name is not None:
        query = query.where(source.c[column_name].is_not(None))
        if longer_than is not None:
            length, limit = longer_than
            query = query.where(length(source.c[column_name]) > limit)
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

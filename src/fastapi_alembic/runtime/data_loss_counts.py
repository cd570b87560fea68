"""Counting what one operation would delete, and following names through an upgrade.

Shared by both ways the data-loss guard works (data_loss.py): reading the revisions before
they run, and checking each operation as it is about to run. A drop of a table or column, a
narrowing type change, a ``postgresql_using`` expression that does not read the column, a
``TRUNCATE`` or a ``DELETE`` without ``WHERE``: each is measured in the live database, under
the names the database has at that moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, String, cast, column, func, inspect, select, table

from fastapi_alembic.dialects import for_url
from fastapi_alembic.lint.model import Action, Kind
from fastapi_alembic.lint.types import TypeFacts, facts, narrowing

#: A table as the guard names it: (schema or None, name).
TableKey = tuple[str | None, str]


@dataclass(frozen=True)
class Loss:
    """What one operation of one revision would delete."""

    revision: str
    table: str
    column: str | None
    count: int
    what: str  # "rows", "non-empty values", "values longer than 20 characters"
    schema: str | None = None
    verb: str = ""  # "dropping", "truncating", ...: from ``what`` when not given
    renamed_from: str | None = None  # the name the table or column had before the upgrade
    effect: str = "delete"

    def describe(self) -> str:
        verb = self.verb or (
            "dropping" if self.what in {"rows", "non-empty values"} else "narrowing"
        )
        target = f"{self.table}.{self.column}" if self.column else self.table
        if self.schema:
            target = f"{self.schema}.{target}"
        origin = f" (renamed from {self.renamed_from} in this upgrade)" if self.renamed_from else ""
        return f"{verb} {target}{origin} would {self.effect} {self.count:,} {self.what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "schema": self.schema,
            "table": self.table,
            "column": self.column,
            "count": self.count,
            "what": self.what,
            "renamed_from": self.renamed_from,
            "description": self.describe(),
        }


LOSSY = frozenset({Kind.DROP_TABLE, Kind.DROP_COLUMN, Kind.ALTER_COLUMN, Kind.DELETE})


def may_lose(action: Action) -> bool:
    """Whether ``action`` is of a kind that can delete data (then it is measured)."""
    if action.kind not in LOSSY or not action.table:
        return False
    return action.kind is not Kind.DELETE or action.whole_table


@dataclass
class Names:
    """Where each table and column an upgrade touched came from: its name before the upgrade,
    or None when the upgrade made it (dropping it loses nothing that was there before)."""

    tables: dict[TableKey, TableKey | None] = field(default_factory=dict)
    columns: dict[TableKey, dict[str, str | None]] = field(default_factory=dict)

    def table_origin(self, key: TableKey) -> TableKey | None:
        return self.tables.get(key, key)

    def column_origin(self, key: TableKey, name: str) -> str | None:
        if self.table_origin(key) is None:
            return None
        return self.columns.get(key, {}).get(name, name)

    def see(self, action: Action) -> None:
        """Follow ``action`` (it ran, or is taken to have run)."""
        if not action.table:
            return
        key: TableKey = (action.schema, action.table)
        if action.kind is Kind.CREATE_TABLE:
            self.tables[key] = None
            self.columns.pop(key, None)
        elif action.kind is Kind.RENAME_TABLE and action.new_name:
            new: TableKey = (action.schema, action.new_name)
            self.tables[new] = self.table_origin(key)
            self.tables[key] = None
            self.columns[new] = self.columns.pop(key, {})
        elif action.kind is Kind.DROP_TABLE:
            self.tables[key] = None
            self.columns.pop(key, None)
        elif (action.kind is Kind.ADD_COLUMN and action.column) or (
            action.kind is Kind.DROP_COLUMN and action.column
        ):
            self.columns.setdefault(key, {})[action.column] = None
        elif action.kind is Kind.ALTER_COLUMN and action.column and action.new_name:
            known = self.columns.setdefault(key, {})
            known[action.new_name] = known.get(action.column, action.column)
            known[action.column] = None


_CREATE_ENUM = re.compile(
    r"^\s*CREATE\s+TYPE\s+(?P<name>[^\s(]+)\s+AS\s+ENUM\s*\((?P<values>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


def _type_name(sql_name: str) -> str:
    """A type's name as written in SQL, without schema and quotes, for matching."""
    return sql_name.rsplit(".", 1)[-1].strip('"').lower()


def created_enum(sql: str | None) -> dict[str, TypeFacts]:
    """The enum type a ``CREATE TYPE ... AS ENUM`` statement makes, by name (PostgreSQL)."""
    found = _CREATE_ENUM.match(sql or "")
    if found is None:
        return {}
    values = tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(found["values"]))
    return {_type_name(found["name"]): TypeFacts("enum", enum_values=values, text=found["name"])}


def with_created_type(action: Action, created: dict[str, TypeFacts]) -> Action:
    """The action, its new type resolved when it names an enum type the upgrade created.

    A PostgreSQL enum rebuild casts the column to a type made a few statements earlier: knowing
    that type's values is what tells a cast that loses nothing from one that does.
    """
    new = action.new_type
    if not isinstance(new, TypeFacts) or new.family == "enum" or not created:
        return action
    resolved = created.get(_type_name(new.text or new.family))
    return replace(action, new_type=resolved) if resolved is not None else action


def reads_column(expression: str, name: str) -> bool:
    """Whether a SQL expression (a ``USING`` clause) reads the column ``name``."""
    import sqlglot  # here: the parser costs a quarter of a second to import
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        parsed = sqlglot.parse_one(expression, read="postgres")
    except SqlglotError:
        # Not understood: say it reads the column when its name appears as a word.
        return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", expression, re.I) is not None
    return any(c.name.lower() == name.lower() for c in parsed.find_all(exp.Column))


class Meter:
    """Counts, on ``connection``, what an action would delete from the database as it is."""

    def __init__(self, connection: Connection, backend: str) -> None:
        self.connection = connection
        self.backend = backend
        self.url = connection.engine.url

    def measure(
        self,
        action: Action,
        where: TableKey,
        column_name: str | None,
        revision: str,
        renamed_from: str | None = None,
    ) -> Loss | None:
        """The loss ``action`` would cause, counted in the table ``where`` and the column
        ``column_name`` (their names in the database now); None when it loses nothing."""
        schema, name = where
        inspector = inspect(self.connection)
        if not inspector.has_table(name, schema=schema):
            return None  # the operation fails by itself, or the table is not ours to count
        loss = Loss(
            revision,
            action.table or name,
            action.column,
            0,
            "rows",
            schema=action.schema,
            renamed_from=renamed_from,
        )
        if action.kind is Kind.DROP_TABLE:
            return replace(loss, count=self._count(where))
        if action.kind is Kind.DELETE:
            truncate = (action.sql or "").lstrip().upper().startswith("TRUNCATE")
            return replace(
                loss,
                count=self._count(where),
                verb="truncating" if truncate else "a DELETE without WHERE on",
            )
        known = {c["name"]: c["type"] for c in inspector.get_columns(name, schema=schema)}
        if column_name not in known:
            return None
        if action.kind is Kind.DROP_COLUMN:
            counted = self._count(where, column_name)
            return replace(loss, count=counted, what="non-empty values")
        if action.kind is Kind.ALTER_COLUMN:
            return self._altered(action, loss, where, column_name, facts(known[column_name]))
        return None

    def _altered(
        self, action: Action, loss: Loss, where: TableKey, column_name: str, old: TypeFacts | None
    ) -> Loss | None:
        using = action.using if self.backend == "postgresql" else None
        if using and not reads_column(using, column_name):
            return replace(
                loss,
                count=self._count(where, column_name),
                verb="converting",
                effect="overwrite",
                what=f"non-empty values (USING {using} does not read the column)",
            )
        new = action.new_type
        if not isinstance(new, TypeFacts) or not narrowing(old, new):
            return None
        if new.family == "enum" and new.enum_values is not None:
            # Only the rows holding a value the new type lacks lose anything; the rest convert.
            kept = new.enum_values
            removed = [v for v in (old.enum_values if old else None) or () if v not in kept]
            lacking = f" ({', '.join(removed)})" if removed else ""
            return replace(
                loss,
                count=self._count(where, column_name, not_in=kept),
                what=f"values the new type no longer holds{lacking}",
            )
        if old and old.family in {"string", "text"} and new.family == "string" and new.length:
            length = getattr(func, for_url(self.url).char_length_function)
            return replace(
                loss,
                count=self._count(where, column_name, (length, new.length)),
                what=f"values longer than {new.length} characters",
            )
        counted = self._count(where, column_name)
        return replace(loss, count=counted, what=f"values converted to {new}")

    def _count(
        self,
        where: TableKey,
        column_name: str | None = None,
        longer_than: tuple[Any, int] | None = None,
        not_in: tuple[str, ...] | None = None,
    ) -> int:
        schema, name = where
        source = table(name, *([column(column_name)] if column_name else []), schema=schema)
        query = select(func.count()).select_from(source)
        if column_name is not None:
            query = query.where(source.c[column_name].is_not(None))
            if longer_than is not None:
                length, limit = longer_than
                query = query.where(length(source.c[column_name]) > limit)
            if not_in is not None:
                query = query.where(cast(source.c[column_name], String).not_in(not_in))
        return int(self.connection.execute(query).scalar_one())


__all__ = ["Loss", "Meter", "Names", "created_enum", "may_lose", "with_created_type"]

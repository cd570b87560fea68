"""Reading a table's rows for the suite's row checks, comparably, and choosing the parents an
association table's new rows point at."""

from __future__ import annotations

import decimal
import itertools
import uuid
from typing import Any

from sqlalchemy import Connection, Table, select

Row = dict[str, Any]  # column -> comparable value, NULLs left out


def association(table: Table) -> tuple[str, ...]:
    """The foreign key columns whose values together name a row: an association table's
    (its primary key is made of them, or it has none); empty for any other table."""
    references = tuple(dict.fromkeys(fk.parent.name for fk in table.foreign_keys))
    if len(references) < 2:
        return ()
    key = {c.name for c in table.primary_key.columns}
    return references if not key or key <= set(references) else ()


def new_combinations(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    pools: dict[str, list[Any]],
    wanted: int,
) -> list[tuple[Any, ...]]:
    """Up to ``wanted`` combinations of the pools' values the table does not hold yet."""
    present = {
        tuple(comparable(v) for v in row)
        for row in connection.execute(select(*(table.c[c] for c in columns)))
    }
    chosen: list[tuple[Any, ...]] = []
    for combination in itertools.product(*(pools[c] or [None] for c in columns)):
        key = tuple(comparable(v) for v in combination)
        if key not in present:
            present.add(key)
            chosen.append(combination)
            if len(chosen) == wanted:
                break
    return chosen


def read_rows(
    connection: Connection, table: Table, key: tuple[str, ...]
) -> dict[tuple[Any, ...], Row]:
    """Every row of ``table`` by primary key, values made comparable, NULLs left out.

    Read by position, never by label: a column named like a key word, or a result row that
    does not carry a label, must not stop the check.
    """
    if not key:
        return {}
    names = list(table.c.keys())
    rows: dict[tuple[Any, ...], Row] = {}
    for values in connection.execute(select(*table.c)):
        row = {n: comparable(v) for n, v in zip(names, values, strict=True) if v is not None}
        rows[tuple(row.get(c) for c in key)] = row
    return rows


def count_rows(connection: Connection, table: Table) -> int:
    return len(connection.execute(select(*table.c[:1])).all())


def same_row(before: Row, candidates: dict[tuple[Any, ...], Row], columns: set[str]) -> Row | None:
    """The new row holding the same values in ``columns`` as ``before``, which it replaces."""
    compared = [c for c in before if c in columns]
    if not compared:
        return None
    for key, row in candidates.items():
        if all(row.get(c) == before[c] for c in compared):
            del candidates[key]
            return row
    return None


def comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | decimal.Decimal):
        return decimal.Decimal(str(value)).normalize()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, dict | list):
        return repr(value)
    return value

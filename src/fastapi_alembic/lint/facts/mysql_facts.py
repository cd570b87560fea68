"""MySQL and MariaDB facts the linter needs: which ALTERs run online, enum order, table sizes."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fastapi_alembic.lint.facts.backend_facts import BackendFacts
from fastapi_alembic.lint.model import Action, Kind
from fastapi_alembic.lint.types import TypeFacts

#: utf8mb4 stores up to 4 bytes a character; a VARCHAR's length prefix grows past 255 bytes.
_BYTES_PER_CHARACTER = 4


def online_ddl_blocker(action: Action, old: TypeFacts | None) -> str | None:
    """Why ``action`` cannot run with ALGORITHM=INSTANT/INPLACE, LOCK=NONE, or None if it can.

    Adding or dropping a column, an index or NOT NULL runs in place without blocking writes on
    MySQL 5.6+ and MariaDB 10.0+ (instantly on MySQL 8.0.12+/MariaDB 10.3+ for most of them).
    """
    if action.kind is Kind.ADD_COLUMN and action.columns and action.columns[0].autoincrement:
        return "adding an AUTO_INCREMENT column copies the table (ALGORITHM=COPY, LOCK=SHARED)"
    if action.kind is Kind.ALTER_COLUMN and action.new_type is not None:
        new = action.new_type
        if new.family == "enum" or (old is not None and old.family == "enum"):
            return None  # mysql-enum-order says this one
        if _varchar_extension(old, new):
            return None
        return f"changing the type to {new} copies the table with writes blocked (ALGORITHM=COPY)"
    if action.kind is Kind.ADD_CONSTRAINT and action.constraint == "foreign_key":
        return "adding a foreign key with foreign_key_checks on copies the table (ALGORITHM=COPY)"
    if action.kind is Kind.ADD_CONSTRAINT and action.constraint == "check":
        return "adding a check constraint copies the table to validate it (ALGORITHM=COPY)"
    if action.kind is Kind.DROP_CONSTRAINT and action.constraint == "primary":
        return "dropping the primary key without adding one copies the table (ALGORITHM=COPY)"
    return None


def _varchar_extension(old: TypeFacts | None, new: TypeFacts) -> bool:
    if old is None or old.family != "string" or new.family != "string":
        return False
    before, after = old.length or 0, new.length or 0
    prefix = 255 // _BYTES_PER_CHARACTER
    return after >= before and (before > prefix or after <= prefix)


def enum_reordered(old: TypeFacts | None, new: TypeFacts | None) -> bool:
    """Whether an ENUM change does more than append values at the end (a table copy)."""
    if old is None or new is None or old.family != "enum" or new.family != "enum":
        return False
    before, after = old.enum_values or (), new.enum_values or ()
    return tuple(after[: len(before)]) != tuple(before) or (len(before) <= 255 < len(after))


def table_rows(connection: Connection) -> dict[str, int]:
    """Estimated rows per table (information_schema; InnoDB's figure is approximate)."""
    rows = connection.execute(
        text(
            "SELECT table_name, table_rows FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        )
    )
    return {str(name): int(estimate or 0) for name, estimate in rows}


#: MySQL 8.0 and MariaDB 10.6: the oldest releases still supported upstream.
FACTS = BackendFacts(
    oldest_version=(8, 0), table_rows=table_rows, oldest_versions_of={"mariadb": (10, 6)}
)

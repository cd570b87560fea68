"""PostgreSQL facts the linter needs: which type changes rewrite the table, how big tables are."""

from __future__ import annotations

from sqlalchemy import Connection, text

from fastapi_alembic.lint.facts.backend_facts import BackendFacts
from fastapi_alembic.lint.types import TypeFacts


def rewrites_on_type_change(old: TypeFacts | None, new: TypeFacts) -> bool:
    """Whether ALTER COLUMN ... TYPE rewrites the table (only a few widenings are free)."""
    if old is None:  # unknown: a string change is most often a widening; anything else rewrites
        return new.family not in {"string", "text"}
    if old.text == new.text and old.family == new.family:
        return False
    if old.family in {"string", "text"} and new.family in {"string", "text"}:
        return new.family == "string" and (
            old.family == "text" or (new.length or 0) < (old.length or 0)
        )
    if old.family == "numeric" and new.family == "numeric":
        same_scale = (old.scale or 0) == (new.scale or 0)
        return not (
            same_scale and (new.precision is None or (new.precision or 0) >= (old.precision or 0))
        )
    return True


def table_rows(connection: Connection) -> dict[str, int]:
    """Estimated rows per table in the current schema (reltuples; -1 when never analyzed)."""
    rows = connection.execute(
        text(
            "SELECT c.relname, c.reltuples FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
    )
    return {str(name): int(estimate) for name, estimate in rows}


#: PostgreSQL 13: the oldest release still supported upstream.
FACTS = BackendFacts(oldest_version=(13,), table_rows=table_rows)

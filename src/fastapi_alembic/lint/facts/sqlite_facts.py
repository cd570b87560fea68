"""SQLite facts the linter needs: which batch operations copy the whole table."""

from __future__ import annotations

from fastapi_alembic.lint.facts.backend_facts import BackendFacts
from fastapi_alembic.lint.model import Action, Kind


def batch_recreates(action: Action) -> bool:
    """Whether Alembic's batch mode copies the whole table for ``action`` on SQLite.

    SQLite's ALTER TABLE can add a plain column and rename; indexes are separate statements;
    everything else in a batch makes Alembic create a new table, copy the rows and swap.
    """
    if not action.batch:
        return False
    if action.kind in {Kind.CREATE_INDEX, Kind.DROP_INDEX, Kind.RENAME_TABLE}:
        return False
    if action.kind is Kind.ADD_COLUMN:
        column = action.columns[0] if action.columns else None
        return column is not None and (column.primary_key or column.autoincrement)
    if action.kind is Kind.ALTER_COLUMN and action.new_name and _renames_only(action):
        return False  # ALTER TABLE ... RENAME COLUMN (SQLite 3.25+): no copy
    return action.kind in {
        Kind.DROP_COLUMN,
        Kind.ALTER_COLUMN,
        Kind.ADD_CONSTRAINT,
        Kind.DROP_CONSTRAINT,
    }


def _renames_only(action: Action) -> bool:
    return action.new_type is None and action.nullable is None and not action.server_default_changed


#: SQLite 3.35 assumed; its tables have no size statistics (their rows are counted).
FACTS = BackendFacts(oldest_version=(3, 35))

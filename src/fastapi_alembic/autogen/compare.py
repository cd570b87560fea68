"""Comparison hooks that spare users false differences Alembic would otherwise report."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Numeric

# Spellings of "the current timestamp" that backends reflect for the same default.
_CURRENT_TIMESTAMP = {"now", "current_timestamp", "localtimestamp", "transaction_timestamp"}


def _normalise(default: str | None) -> str | None:
    if default is None:
        return None
    text = default.strip().lower()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    text = text.split("::", 1)[0]  # PostgreSQL casts: now()::timestamp
    return text.removesuffix("()")


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip("'"))
    except InvalidOperation:
        return None


# How backends spell a boolean default: PostgreSQL false, MariaDB 0, SQLite '0'.
_BOOLEAN_SPELLINGS = {"0": False, "false": False, "1": True, "true": True}


def compare_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Decide the cases Alembic gets wrong across backends: two spellings of "now", and
    two spellings of one boolean. None hands every other case back to Alembic."""
    inspected = _normalise(inspected_default)
    rendered = _normalise(rendered_metadata_default)
    if inspected in _CURRENT_TIMESTAMP and rendered in _CURRENT_TIMESTAMP:
        return False
    column_type = getattr(metadata_column, "type", None)
    if isinstance(column_type, Numeric) and inspected is not None and rendered is not None:
        # MySQL reflects a default of 0 on DECIMAL(10, 2) as '0.00'.
        old_number, new_number = _number(inspected), _number(rendered)
        if old_number is not None and new_number is not None:
            return old_number != new_number
    if isinstance(column_type, Boolean) and inspected is not None and rendered is not None:
        old, new = inspected.strip("'"), rendered.strip("'")
        if old in _BOOLEAN_SPELLINGS and new in _BOOLEAN_SPELLINGS:
            return _BOOLEAN_SPELLINGS[old] != _BOOLEAN_SPELLINGS[new]
    return None

"""Comparison hooks that spare users false differences Alembic would otherwise report."""

from __future__ import annotations

from typing import Any

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


def compare_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """False when both defaults mean "now"; None hands the decision back to Alembic."""
    inspected = _normalise(inspected_default)
    rendered = _normalise(rendered_metadata_default)
    if inspected in _CURRENT_TIMESTAMP and rendered in _CURRENT_TIMESTAMP:
        return False
    return None

"""Server defaults (autogen/compare.py, autogen/render.py): spellings of one value compare
equal, and defaults render as calls valid on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import String

from fastapi_alembic.autogen import compare_server_default


@pytest.mark.parametrize(
    ("inspected", "rendered", "expected"),
    [
        ("now()", "CURRENT_TIMESTAMP", False),
        ("current_timestamp()", "now()", False),
        ("(CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP", False),
        ("now()::timestamp without time zone", "now()", False),
        ("'0'", "now()", None),
        ("'a'", "'b'", None),
        (None, "now()", None),
    ],
)
def test_current_timestamp_spellings_compare_equal(
    inspected: str | None, rendered: str, expected: bool | None
) -> None:
    assert compare_server_default(None, None, None, inspected, None, rendered) is expected


@pytest.mark.parametrize(
    ("inspected", "rendered", "expected"),
    [
        ("'0'", "false", False),
        ("0", "'0'", False),
        ("false", "0", False),
        ("1", "true", False),
        ("true", "'0'", True),
        ("'1'", "false", True),
    ],
)
def test_boolean_spellings_compare_by_value(inspected: str, rendered: str, expected: bool) -> None:
    from sqlalchemy import Boolean, Column

    column = Column("flag", Boolean)
    assert compare_server_default(None, None, column, inspected, None, rendered) is expected


def test_a_string_default_is_not_taken_for_a_function() -> None:
    assert compare_server_default(None, None, None, "'now'", None, "now()") is None


def test_server_defaults_render_as_calls_valid_on_every_backend() -> None:
    from types import SimpleNamespace

    from sqlalchemy import DefaultClause, false, func, text, true

    from fastapi_alembic.autogen import render_item

    context = SimpleNamespace(opts={})
    assert render_item("server_default", DefaultClause(func.now()), context) == "sa.func.now()"
    assert render_item("server_default", DefaultClause(false()), context) == "sa.false()"
    assert render_item("server_default", DefaultClause(true()), context) == "sa.true()"
    assert render_item("server_default", DefaultClause(text("42")), context) is False
    assert render_item("type", String(20), context) is False

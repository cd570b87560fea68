"""Small pieces with many cases: masking, type narrowing, default comparison, the graph."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Float, Integer, Numeric, SmallInteger, String, Text

from fastapi_alembic.autogen import compare_server_default, describe_operations, is_narrowing
from fastapi_alembic.cli.graph import draw
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.revisions import RevisionInfo
from fastapi_alembic.urls import mask_text, mask_url, parse_url


def test_mask_url_hides_the_password() -> None:
    assert mask_url("postgresql://bob:hunter2@db/app") == "postgresql://bob:***@db/app"
    assert mask_url("sqlite:///app.db") == "sqlite:///app.db"


def test_mask_text_hides_urls_and_literal_secrets_in_free_text() -> None:
    text = "failed for mysql+pymysql://root:pa55@host/db and again pa55"
    assert mask_text(text, "pa55") == "failed for mysql+pymysql://root:***@host/db and again ***"


def test_bare_dialect_names_get_an_installed_driver() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("mysql://u@h/db").drivername == "mysql+pymysql"
    assert parse_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"


def test_malformed_url() -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        parse_url("just some words")


@pytest.mark.parametrize(
    ("old", "new", "narrowing"),
    [
        (String(100), String(50), True),
        (String(50), String(100), False),
        (Text(), String(20), True),
        (String(20), Text(), False),
        (BigInteger(), Integer(), True),
        (SmallInteger(), BigInteger(), False),
        (Numeric(10, 2), Numeric(8, 2), True),
        (Numeric(10, 2), Numeric(12, 4), False),
        (Float(), Numeric(10, 2), True),
        (Integer(), String(20), False),
        (String(20), Integer(), True),
    ],
)
def test_is_narrowing(old: object, new: object, narrowing: bool) -> None:
    assert is_narrowing(old, new) is narrowing  # type: ignore[arg-type]


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


def test_destructive_operations_come_first() -> None:
    from alembic.operations import ops
    from sqlalchemy import Column

    upgrade = ops.UpgradeOps(
        ops=[
            ops.AddColumnOp("users", Column("phone", String(20))),
            ops.ModifyTableOps("posts", [ops.DropColumnOp("posts", "body")]),
            ops.DropTableOp("legacy"),
        ]
    )
    described = describe_operations([upgrade])
    assert [d.destructive for d in described] == [True, True, False]
    assert described[0].description == "drop column posts.body"
    assert described[1].description == "drop table legacy"


def _rev(revision: str, *parents: str, head: bool = False) -> RevisionInfo:
    return RevisionInfo(
        revision, f"msg {revision}", parents, "", is_head=head, is_merge=len(parents) > 1
    )


def test_graph_draws_a_branch_and_its_merge() -> None:
    lines = draw(
        [
            _rev("m", "b", "c", head=True),
            _rev("c", "a"),
            _rev("b", "a"),
            _rev("a"),
        ]
    )
    assert lines == [
        "*  m (head, merge) msg m",
        "| \\",
        "| *  c msg c",
        "* |  b msg b",
        "| /",
        "*  a msg a",
    ]


def test_graph_of_a_straight_line() -> None:
    assert draw([_rev("b", "a", head=True), _rev("a")]) == ["*  b (head) msg b", "*  a msg a"]


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


def test_the_package_loads_its_public_names_on_first_use() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, fastapi_alembic.testing.plugin\n"
        "assert 'alembic' not in sys.modules, 'the pytest plugin imported Alembic'\n"
        "import fastapi_alembic\n"
        "assert sorted(fastapi_alembic.__all__) == sorted(fastapi_alembic._HOME)\n"
        "from fastapi_alembic import Migrations, MigrationsError\n"
        "assert 'alembic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)

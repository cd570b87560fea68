"""The suite with rows: down-steps meet generated rows, a check that could make none is
partial, the app's own column types get values, association rows are distinct, and a long
history's report stays one line per check with its details below."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from fastapi_alembic.cli.output import DETAIL_WIDTH, show_checks
from fastapi_alembic.reports import CheckItem, CheckReport
from fastapi_alembic.testing import suite
from tests.support.histories import ADD_AGE, CREATE_POSTS, CREATE_USERS, new_history, server_for


def item(report: CheckReport, name: str) -> CheckItem:
    return next(i for i in report.items if i.name == name)


# A revision that drops a required column; its downgrade puts it back NOT NULL with no default:
# fine on an empty table, an error on PostgreSQL for a table with rows.
DROP_REQUIRED = (
    'op.drop_column("users", "nickname")',
    'op.add_column("users", sa.Column("nickname", sa.String(30), nullable=False))',
)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_stairway_runs_each_down_step_on_tables_with_rows(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add(
        "add users.nickname",
        'op.add_column("users", sa.Column("nickname", sa.String(30), nullable=True))',
        'op.drop_column("users", "nickname")',
    )
    broken = history.add("drop users.nickname", *DROP_REQUIRED)
    report = suite.run_suite(
        history.migrations(), server_for(backend, tmp_path), checks=(suite.STAIRWAY,)
    )
    stairway = item(report, suite.STAIRWAY)
    assert stairway.status == "failed", report.to_dict()
    assert stairway.detail.startswith(
        f"down from {broken} (drop users.nickname) failed with rows in its tables:"
    ), stairway.detail
    assert "nickname" in stairway.detail


UNFILLABLE = (
    """op.create_table(
        "codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(10), nullable=False),
        sa.CheckConstraint("code = 'only-this'", name="ck_codes_code"),
    )""",
    'op.drop_table("codes")',
)
CODES_MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Code(Base):
    __tablename__ = "codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
"""


def test_a_check_that_could_make_no_rows_is_partial_with_the_reason(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(CODES_MODELS)
    history.add("create codes", *UNFILLABLE)
    history.add(
        "index codes",
        'op.create_index("ix_codes_code", "codes", ["code"])',
        'op.drop_index("ix_codes_code", table_name="codes")',
    )
    report = suite.run_suite(
        history.migrations(),
        server_for("sqlite", tmp_path),
        checks=(suite.STAIRWAY, suite.ROWS_SURVIVE),
    )
    for name in (suite.STAIRWAY, suite.ROWS_SURVIVE):
        found = item(report, name)
        assert found.status == "partial", report.to_dict()
        assert "no rows could be made for any table" in found.detail
        assert any(line.startswith("no rows could be made for codes:") for line in found.details)
    assert not report.ok


SQLMODEL_MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    __tablename__ = "TABLE"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    secret_name: str = Field(max_length=40)
    age: int | None = None

Base = SQLModel
"""
CREATE_HERO = (
    """import sqlmodel
    op.create_table(
        "hero",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("secret_name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )""",
    'op.drop_table("hero")',
)


def test_sqlmodel_autostring_columns_get_generated_rows(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path)
    # SQLModel keeps one MetaData for the process: a table name of this test's own.
    table = f"hero_{history.module[-6:]}"
    history.write_models(SQLMODEL_MODELS.replace("TABLE", table))
    history.add(f"create {table}", *(s.replace('"hero"', repr(table)) for s in CREATE_HERO))
    history.add(
        "index hero names",
        f'op.create_index("ix_{table}_name", "{table}", ["name"])',
        f'op.drop_index("ix_{table}_name", table_name="{table}")',
    )
    report = suite.run_suite(
        history.migrations(), server_for(backend, tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    rows = item(report, suite.ROWS_SURVIVE)
    assert rows.status == "passed", report.to_dict()
    assert rows.detail == "4 generated row(s) survived every later upgrade", rows.detail
    assert not rows.details


# Both parents hold only the rows a migration seeds (the generator's values break their
# checks), so every round of generated rows points at the same few parents.
SEEDED_PARENTS = (
    """for name in ("users_", "groups_"):
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("kind", sa.String(10), nullable=False),
            sa.CheckConstraint("kind = 'seeded'", name=f"ck_{name}kind"),
        )
        op.execute(f"INSERT INTO {name} (id, kind) VALUES (1, 'seeded'), (2, 'seeded')")
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users_.id"), nullable=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups_.id"), nullable=False),
    )""",
    """op.drop_table("memberships")
    op.drop_table("groups_")
    op.drop_table("users_")""",
)
DEDUPLICATE = (
    """op.execute(
        "DELETE FROM memberships WHERE rowid NOT IN "
        "(SELECT min(rowid) FROM memberships GROUP BY user_id, group_id)"
    )
    with op.batch_alter_table("memberships") as batch:
        batch.create_unique_constraint("uq_memberships", ["user_id", "group_id"])""",
    """with op.batch_alter_table("memberships") as batch:
        batch.drop_constraint("uq_memberships", type_="unique")""",
)


def test_association_rows_are_distinct_so_a_deduplication_loses_none(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(
        "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
    )
    history.add("parents and memberships", *SEEDED_PARENTS)
    for number in range(4):
        history.add(f"unrelated {number}", "pass")
    history.add("deduplicate memberships", *DEDUPLICATE)
    report = suite.run_suite(
        history.migrations(), server_for("sqlite", tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    rows = item(report, suite.ROWS_SURVIVE)
    assert rows.status == "passed", report.to_dict()
    assert "lost" not in rows.detail + " ".join(rows.details)


def test_the_report_is_one_line_per_check_with_its_details_below(
    capsys: pytest.CaptureFixture[str],
) -> None:
    losses = tuple(
        f"{n:012x} (rework table_{n}) lost 2 of 2 row(s) in table table_{n}; emptied "
        f"table_{n}.value in 2 row(s) " + "x" * 300
        for n in range(200)
    )
    report = CheckReport(
        (
            CheckItem(suite.ONE_HEAD, True, "head is 0000000000c7"),
            CheckItem(suite.ROWS_SURVIVE, False, "400 loss(es) in 200 revision(s)", details=losses),
        )
    )
    show_checks(report)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "✓ one head: head is 0000000000c7"
    assert lines[1] == "✗ rows survive every upgrade: 400 loss(es) in 200 revision(s)"
    assert all(line.startswith("    ") for line in lines[2:])
    assert len(lines) <= 16
    assert max(len(line) for line in lines) <= DETAIL_WIDTH + 4
    assert "… and 188 more (--json lists every one)" in lines[-1]


def test_a_long_history_with_many_losses_reads_line_by_line(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    for number in range(30):
        history.add(f"clean up posts {number}", 'op.execute("DELETE FROM posts")')
    history.add("add users.age", *ADD_AGE)
    cwd = Path.cwd()
    os.chdir(history.root)
    try:
        result = CliRunner().invoke(
            app, ["test", "--url", server_for("sqlite", tmp_path)], env={"DATABASE_URL": ""}
        )
    finally:
        os.chdir(cwd)
    lines = result.stdout.splitlines()
    rows = next(line for line in lines if line.startswith("✗ rows survive every upgrade"))
    assert (
        rows
        == "✗ rows survive every upgrade: 30 loss(es) of generated rows or values in 30 revision(s)"
    )
    assert max(len(line) for line in lines) <= DETAIL_WIDTH + 4, max(lines, key=len)
    assert sum(not line.startswith("    ") for line in lines) == len(suite.CHECKS) + 1

"""The migration test suite: passes a sound history, and fails each check on a history built to
break it, naming the revision and what differed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from testing.histories import (
    ADD_AGE,
    CREATE_POSTS,
    CREATE_USERS,
    MODELS,
    History,
    new_history,
    restricted_user,
    server_for,
)
from typer.testing import CliRunner

from fastapi_migrate.cli import app
from fastapi_migrate.reports import CheckReport
from fastapi_migrate.testing import suite


def detail(report: CheckReport, name: str) -> str:
    return next(item.detail for item in report.items if item.name == name)


def failed(report: CheckReport) -> set[str]:
    return {item.name for item in report.items if not item.ok}


def test_a_sound_history_passes_every_check(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    report = suite.run_suite(history.migrations(), server_for(backend, tmp_path))
    assert [item.name for item in report.items] == list(suite.CHECKS)
    assert report.ok, report.to_dict()
    assert "survived" in detail(report, suite.ROWS_SURVIVE)


def sqlite_server(tmp_path: Path) -> str:
    return server_for("sqlite", tmp_path)


def test_two_heads_fail_the_one_head_check(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    root = history.revisions[0]
    branch = history.add("side branch", "pass", parent=root)
    report = suite.run_suite(
        history.migrations(), sqlite_server(tmp_path), checks=(suite.ONE_HEAD,)
    )
    assert failed(report) == {suite.ONE_HEAD}
    assert "2 heads" in detail(report, suite.ONE_HEAD)
    assert branch in detail(report, suite.ONE_HEAD)


def test_a_failing_upgrade_fails_step_by_step_naming_it(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    broken = history.add("rename column", 'op.alter_column("no_table", "a", new_column_name="b")')
    report = suite.run_suite(history.migrations(), sqlite_server(tmp_path))
    assert suite.STEP_BY_STEP in failed(report)
    message = detail(report, suite.STEP_BY_STEP)
    assert f"upgrading to {broken} (rename column) failed" in message
    assert "no_table" in message


def test_a_broken_downgrade_fails_the_stairway(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    broken = history.add("add users.age", ADD_AGE[0], 'op.drop_table("no_such_table")')
    report = suite.run_suite(history.migrations(), sqlite_server(tmp_path))
    assert failed(report) == {suite.STAIRWAY}
    message = detail(report, suite.STAIRWAY)
    assert message.startswith(f"down from {broken} (add users.age) failed")
    assert "no_such_table" in message


def test_models_that_differ_fail_models_match(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    history.write_models(
        MODELS.replace("# END", "").replace(
            "    age: Mapped[int | None] = mapped_column(Integer)\n",
            "    age: Mapped[int | None] = mapped_column(Integer)\n"
            "    nickname: Mapped[str | None] = mapped_column(String(30))\n",
        )
    )
    report = suite.run_suite(history.migrations(), sqlite_server(tmp_path))
    assert failed(report) == {suite.MODELS_MATCH}
    assert "users.nickname" in detail(report, suite.MODELS_MATCH)


def test_a_downgrade_that_leaves_a_trace_fails_no_trace(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    history.add("add users.age", *ADD_AGE)
    # The downgrade forgets to undo the NOT NULL: up again still works, the schema differs.
    broken = history.add(
        "names are required",
        """with op.batch_alter_table("users") as batch:
        batch.alter_column("name", existing_type=sa.String(50), nullable=False)""",
    )
    history.write_models(
        MODELS.replace(
            "name: Mapped[str | None] = mapped_column(String(50))",
            "name: Mapped[str] = mapped_column(String(50))",
        )
    )
    report = suite.run_suite(history.migrations(), sqlite_server(tmp_path))
    assert failed(report) == {suite.NO_TRACE}, report.to_dict()
    message = detail(report, suite.NO_TRACE)
    assert f"downgrading {broken} (names are required) left" in message
    assert "table users column name not null instead of null" in message


def test_a_migration_that_loses_rows_fails_rows_survive(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    broken = history.add("clean up posts", 'op.execute("DELETE FROM posts")')
    history.add("add users.age", *ADD_AGE)
    report = suite.run_suite(history.migrations(), sqlite_server(tmp_path))
    assert failed(report) == {suite.ROWS_SURVIVE}
    message = detail(report, suite.ROWS_SURVIVE)
    assert message.startswith(f"{broken} (clean up posts) lost 2 of 2 row(s) in table posts")


def test_a_migration_that_empties_a_column_fails_rows_survive(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    history.add("add users.age", *ADD_AGE)
    broken = history.add(
        "retype users.age",
        """with op.batch_alter_table("users") as batch:
        batch.drop_column("age")
    op.add_column("users", sa.Column("age", sa.Integer(), nullable=True))""",
        """pass""",
    )
    report = suite.run_suite(
        history.migrations(), sqlite_server(tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    assert failed(report) == {suite.ROWS_SURVIVE}
    assert f"{broken} (retype users.age) emptied users.age in" in detail(report, suite.ROWS_SURVIVE)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_enum_type_left_behind_fails_no_trace_on_postgresql(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path).add_good()
    broken = history.add(
        "add users.role",
        """role = sa.Enum("admin", "member", name="role")
    role.create(op.get_bind(), checkfirst=True)
    op.add_column("users", sa.Column("role", role, nullable=True))""",
        'op.drop_column("users", "role")',
    )
    history.write_models(
        MODELS.replace(
            "    age: Mapped[int | None] = mapped_column(Integer)\n",
            "    age: Mapped[int | None] = mapped_column(Integer)\n"
            '    role: Mapped[str | None] = mapped_column(Enum("admin", "member", name="role"))\n',
        ).replace("from sqlalchemy import Boolean,", "from sqlalchemy import Boolean, Enum,")
    )
    report = suite.run_suite(history.migrations(), server_for(backend, tmp_path))
    assert suite.NO_TRACE in failed(report), report.to_dict()
    assert f"downgrading {broken} (add users.role) left enum type role behind" in detail(
        report, suite.NO_TRACE
    )


def run_cli(history: History, *args: str) -> tuple[int, str]:
    cwd = Path.cwd()
    os.chdir(history.root)
    try:
        result = CliRunner().invoke(app, ["test", *args], env={"DATABASE_URL": ""})
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout + result.stderr


def test_cli_reports_each_check_and_exits_by_the_outcome(tmp_path: Path) -> None:
    good = new_history(tmp_path).add_good()
    code, output = run_cli(good, "--url", sqlite_server(tmp_path))
    assert code == 0, output
    assert output.count("✓") == 6
    assert "All checks passed." in output

    bad = new_history(tmp_path)
    bad.add("create users", *CREATE_USERS)
    bad.add("create posts", *CREATE_POSTS)
    broken = bad.add("clean up posts", 'op.execute("DELETE FROM posts")')
    bad.add("add users.age", *ADD_AGE)
    code, output = run_cli(bad, "--url", sqlite_server(tmp_path))
    assert code == 1
    assert f"✗ rows survive every upgrade: {broken} (clean up posts) lost 2 of 2 row(s)" in output
    assert "1 check(s) failed." in output

    code, output = run_cli(bad, "--json", "--url", sqlite_server(tmp_path))
    assert code == 1
    document = json.loads(output)
    assert document["ok"] is False
    assert [c["name"] for c in document["checks"] if not c["ok"]] == [suite.ROWS_SURVIVE]


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_cli_tells_a_user_without_the_right_to_create_databases(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path).add_good()
    with restricted_user(backend, tmp_path) as server:
        code, output = run_cli(history, "--url", server)
    assert code == 3, output
    assert "Cannot create a scratch database on" in output
    assert "denied" in output
    assert "needs" in output
    assert "Traceback" not in output


def test_cli_masks_the_password_of_an_unreachable_server(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    code, output = run_cli(history, "--url", "postgresql+psycopg://me:s3cret@127.0.0.1:1/x")
    assert code == 3
    assert "s3cret" not in output
    assert "Cannot connect to the database at postgresql+psycopg://me:***@127.0.0.1:1/" in output

"""The migration test suite: passes a sound history, and fails each check on a history built to
break it, naming the revision and what differed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from fastapi_alembic.reports import CheckReport
from fastapi_alembic.testing import suite
from tests.support.histories import (
    ADD_AGE,
    CREATE_POSTS,
    CREATE_USERS,
    MODELS,
    History,
    new_history,
    restricted_user,
    server_for,
)


def detail(report: CheckReport, name: str) -> str:
    return next(item.detail for item in report.items if item.name == name)


def failed(report: CheckReport) -> set[str]:
    return {item.name for item in report.items if item.status == "failed"}


def partial(report: CheckReport) -> set[str]:
    return {item.name for item in report.items if item.status == "partial"}


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
    # Two of three downgrades were checked: partial, never a pass, and it says what it left out.
    assert partial(report) == {suite.NO_TRACE}
    assert not report.ok
    assert detail(report, suite.NO_TRACE) == (
        "partial: 2 of 3 downgrade(s) restored the schema exactly; "
        f"not checked: {broken}: the stairway stopped at {broken}"
    )
    item = next(i for i in report.items if i.name == suite.NO_TRACE)
    assert item.to_dict()["status"] == "partial"
    assert item.to_dict()["skipped"] == [
        {"revision": broken, "reason": f"the stairway stopped at {broken}"}
    ]


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


# -- histories as real projects write them ---------------------------------------------------

GUID_MODELS = """
import uuid

from sqlalchemy import CHAR, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class GUID(TypeDecorator):
    \"\"\"A UUID stored as 32 hexadecimal characters.\"\"\"

    impl = CHAR(32)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, uuid.UUID):
            value = uuid.UUID(value)
        return value.hex

    def process_result_value(self, value, dialect):
        return None if value is None else uuid.UUID(value)


class Base(DeclarativeBase):
    pass


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(GUID())
    label: Mapped[str] = mapped_column(String(50))
"""


def test_generated_values_are_valid_for_the_apps_own_column_type(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(GUID_MODELS)
    history.add(
        "create tokens",
        """op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_id", sa.CHAR(32), nullable=False),
        sa.Column("label", sa.String(50), nullable=False),
    )""",
        'op.drop_table("tokens")',
    )
    # A data migration that trusts the stored values to be what the app wrote: hex UUIDs.
    history.add(
        "labels from public ids",
        """import uuid
    connection = op.get_bind()
    for row_id, public_id in connection.execute(sa.text("SELECT id, public_id FROM tokens")):
        label = "token-" + str(uuid.UUID(hex=public_id))[:8]
        connection.execute(
            sa.text("UPDATE tokens SET label = :label WHERE id = :id"),
            {"label": label, "id": row_id},
        )""",
    )
    report = suite.run_suite(
        history.migrations(), sqlite_server(tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    assert report.ok, report.to_dict()
    assert "4 generated row(s) survived" in detail(report, suite.ROWS_SURVIVE)


THINGS_MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""
CREATE_THINGS = (
    """op.create_table(
        "things",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )""",
    'op.drop_table("things")',
)
# Integer ids become UUIDs: a new table, every row copied with a new key, the old one dropped.
IDS_TO_UUIDS = (
    """import uuid
    op.create_table(
        "things_new",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    connection = op.get_bind()
    for (name,) in connection.execute(sa.text("SELECT name FROM things")).all():
        connection.execute(
            sa.text("INSERT INTO things_new (id, name) VALUES (:id, :name)"),
            {"id": uuid.uuid4().hex, "name": name},
        )
    op.drop_table("things")
    op.rename_table("things_new", "things")""",
    """op.create_table(
        "things_old",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    connection = op.get_bind()
    for (name,) in connection.execute(sa.text("SELECT name FROM things")).all():
        connection.execute(sa.text("INSERT INTO things_old (name) VALUES (:name)"), {"name": name})
    op.drop_table("things")
    op.rename_table("things_old", "things")""",
)


def test_rows_whose_keys_a_migration_rewrites_are_not_lost(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(THINGS_MODELS)
    history.add("create things", *CREATE_THINGS)
    history.add("integer ids to uuids", *IDS_TO_UUIDS)
    report = suite.run_suite(
        history.migrations(), server_for(backend, tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    assert report.ok, report.to_dict()
    assert "survived every later upgrade" in detail(report, suite.ROWS_SURVIVE)


def test_a_revision_that_declares_it_changes_rows_passes_and_is_named(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    purge = history.add(
        "purge posts",
        '# fastapi-alembic: rows-change posts moved to the archive service\n    op.execute("DELETE FROM posts")',
    )
    history.add("add users.age", *ADD_AGE)
    report = suite.run_suite(
        history.migrations(), sqlite_server(tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    assert report.ok, report.to_dict()
    item = next(i for i in report.items if i.name == suite.ROWS_SURVIVE)
    assert (
        f"{purge} (purge posts) changes rows on purpose (posts moved to the archive service): "
        "lost 2 of 2 row(s) in table posts"
    ) in item.details


def test_a_database_error_in_the_row_comparison_names_the_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import NoSuchColumnError

    from fastapi_alembic.testing.rows import RowLedger

    history = new_history(tmp_path)
    first = history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)

    def broken_verify(self: RowLedger, connection: object) -> list[str]:
        raise NoSuchColumnError("Could not locate column in row for column 'users.id'")

    monkeypatch.setattr(RowLedger, "verify", broken_verify)
    report = suite.run_suite(
        history.migrations(), sqlite_server(tmp_path), checks=(suite.ROWS_SURVIVE,)
    )
    assert detail(report, suite.ROWS_SURVIVE) == (
        f"checking the rows after upgrading to {first} (create users) failed: "
        "Could not locate column in row for column 'users.id'"
    )


POSTGRES_ONLY = (
    'op.execute("CREATE EXTENSION IF NOT EXISTS citext")',
    'op.execute("DROP EXTENSION IF EXISTS citext")',
)


def test_a_history_written_for_another_backend_is_said_once(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    foreign = history.add("case-insensitive emails", *POSTGRES_ONLY)
    history.add("create posts", *CREATE_POSTS)
    history.add("add users.age", *ADD_AGE)
    code, output = run_cli(history, "--url", sqlite_server(tmp_path))
    assert code == 1, output
    lines = output.splitlines()
    assert [line for line in lines if line.startswith("✗")] == [
        f"✗ {suite.STEP_BY_STEP}: the history does not run on sqlite: upgrading to {foreign} "
        '(case-insensitive emails) failed: OperationalError: near "EXTENSION": syntax error. '
        "Run the suite on a server of the backend it was written for: "
        "`fastapi-alembic test --url <server URL>`"
    ]
    assert sum(line.startswith("✗") for line in lines) == 1
    partly = [line for line in lines if line.startswith("◐")]
    assert len(partly) == 4, output
    assert all(f"the history does not run on sqlite from {foreign}" in line for line in partly)
    assert "1 check(s) failed, 4 check(s) only partly ran." in output
    assert "All checks passed" not in output

    code, output = run_cli(history, "--json", "--url", sqlite_server(tmp_path))
    document = json.loads(output)
    statuses = {c["name"]: c["status"] for c in document["checks"]}
    assert statuses == {
        suite.ONE_HEAD: "passed",
        suite.STEP_BY_STEP: "failed",
        suite.STAIRWAY: "partial",
        suite.MODELS_MATCH: "partial",
        suite.NO_TRACE: "partial",
        suite.ROWS_SURVIVE: "partial",
    }
    rows = next(c for c in document["checks"] if c["name"] == suite.ROWS_SURVIVE)
    assert [s["revision"] for s in rows["skipped"]] == history.revisions[1:]

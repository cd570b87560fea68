"""The start-up gate on real databases: `current --check`, is_up_to_date(), a no-op upgrade,
and each revision file executed at most once per command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from fastapi_alembic import Migrations
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseStateError
from fastapi_alembic.gate import head_check
from fastapi_alembic.gate.probe import current_if_at_head
from fastapi_alembic.urls import mask_url
from tests.support.helpers import Project, assert_clean_failure, head_of, snapshot, write_revision

SECOND = "5ec0nd000001"


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    """Two revisions written; the database at the first."""
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    write_revision(made, SECOND, head_of(made), body="op.execute('DELETE FROM votes')")
    assert made.cli("upgrade", head_of_first(made)).exit_code == 0
    return made


def head_of_first(project: Project) -> str:
    history = json.loads(project.cli("history", "--json").stdout)
    return str(history[-1]["revision"])


def set_version(url: str, revision: str) -> None:
    run_with_connection(
        make_url(url),
        lambda c: c.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision}),
    )


def test_current_check_exit_codes_in_process_and_on_the_fast_path(project: Project) -> None:
    first = head_of_first(project)
    for run in (project.cli, project.run):
        behind = run("current", "--check")
        assert behind.exit_code == 1, behind.output
        assert behind.stdout.strip().endswith(
            f"is 1 revision(s) behind head (at {first}): run `fastapi-alembic upgrade`."
        )
    report = json.loads(project.run("current", "--check", "--json").stdout)
    assert report["position"] == "behind" and report["pending"] == 1 and report["static"] is True

    assert project.cli("upgrade").exit_code == 0
    for run in (project.cli, project.run):
        at_head = run("current", "--check")
        assert at_head.exit_code == 0, at_head.output
        assert at_head.stdout.strip().endswith(f"is at head ({SECOND}).")

    set_version(project.url, "feedfacecafe")
    for run in (project.cli, project.run):
        ahead = run("current", "--check")
        assert ahead.exit_code == 3, ahead.output
        assert "at revision feedfacecafe, which is not among the migration files" in ahead.stdout


def test_is_up_to_date_and_the_alembic_fallback_agree(project: Project) -> None:
    migrations = Migrations(url=project.url, root=project.root)
    check = migrations.head_check()
    assert (check.static, check.at_head, check.pending) == (True, False, 1)
    assert migrations.is_up_to_date() is False
    # An env.py the gate cannot read statically: the same answers come from Alembic.
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text().replace("run_migrations()", "run_migrations(**{})"))
    slow = migrations.head_check()
    assert (slow.static, slow.at_head, slow.pending, slow.current) == (
        False,
        False,
        1,
        check.current,
    )
    assert project.cli("current", "--check").exit_code == 1
    assert project.run("current", "--check").exit_code == 1  # the fast path steps aside
    migrations.upgrade()
    assert migrations.is_up_to_date() is True
    assert migrations.head_check().static is False


def test_the_gate_reads_the_database_with_the_driver_alone(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual questions never need SQLAlchemy's connection: at head, behind, and tables
    not made yet (the one-statement read fails, each table is looked up)."""
    migrations = Migrations(url=project.url, root=project.root)
    assert migrations.upgrade().steps  # at head, with a ledger

    def through_sqlalchemy(*_arguments: object) -> None:
        raise AssertionError("the gate fell back to SQLAlchemy")

    def gate_says() -> tuple[str, tuple[str, ...], int]:
        with monkeypatch.context() as patched:
            patched.setattr(head_check, "_run_read", through_sqlalchemy)
            check = migrations.head_check()
        return check.position.value, check.current, check.pending

    assert gate_says() == ("at head", (SECOND,), 0)
    set_version(project.url, head_of_first(project))
    assert gate_says() == ("behind", (head_of_first(project),), 1)
    run_with_connection(
        make_url(project.url), lambda c: c.execute(text("DROP TABLE alembic_version"))
    )
    assert gate_says() == ("behind", (), 2)  # the ledger is there, the version table is not
    run_with_connection(
        make_url(project.url), lambda c: c.execute(text("DROP TABLE fastapi_alembic_ledger"))
    )
    assert gate_says() == ("behind", (), 2)


ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def test_the_gate_asks_on_the_callers_connection(project: Project, tmp_path: Path) -> None:
    """A readiness endpoint borrows from the app's pool: the answer is about that connection's
    database, whatever the settings' URL, and the connection is left as it was found."""
    elsewhere = Migrations(url=f"sqlite:///{tmp_path / 'other.db'}", root=project.root)
    engine = create_engine(project.url)
    try:
        with engine.connect() as connection:
            check = elsewhere.head_check(connection)
            assert (check.position.value, check.pending) == ("behind", 1)
            assert check.url == mask_url(make_url(project.url))
            assert not connection.in_transaction()

            connection.execute(text("INSERT INTO users (email, password) VALUES ('kept', 'x')"))
            assert elsewhere.is_up_to_date(connection) is False
            assert connection.in_transaction()  # the caller's transaction, untouched
            assert connection.execute(text("SELECT COUNT(*) FROM users")).scalar() == 1
            connection.rollback()

        assert project.cli("upgrade").exit_code == 0
        with engine.connect() as connection:
            assert elsewhere.is_up_to_date(connection) is True
            # An env.py the gate cannot read: Alembic answers, still about this database.
            env = project.root / "migrations" / "env.py"
            env.write_text(env.read_text().replace("run_migrations()", "run_migrations(**{})"))
            slow = elsewhere.head_check(connection)
            assert (slow.static, slow.at_head, slow.url) == (False, True, check.url)
    finally:
        engine.dispose()
    assert not (tmp_path / "other.db").exists()  # the settings' database was never opened


def test_a_lent_connection_is_read_in_one_statement_when_it_can(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a transaction one statement answers (a failure there is rolled back); inside
    the caller's transaction, or when a table is missing, each table is looked up."""
    migrations = Migrations(url=project.url, root=project.root)
    looked_up: list[str] = []
    read_current = head_check.read_current

    def looking_up(connection: Any, version_table: str, schema: str | None) -> tuple[str, ...]:
        looked_up.append(version_table)
        return read_current(connection, version_table, schema)

    monkeypatch.setattr(head_check, "read_current", looking_up)
    engine = create_engine(project.url)
    try:
        with engine.connect() as connection:
            assert migrations.head_check(connection).pending == 1
            assert looked_up == []
            connection.execute(text("SELECT 1"))  # the caller's transaction
            assert migrations.head_check(connection).pending == 1
            assert looked_up == ["alembic_version"] and connection.in_transaction()
            connection.rollback()
            run_with_connection(
                make_url(project.url), lambda c: c.execute(text("DROP TABLE alembic_version"))
            )
            check = migrations.head_check(connection)
            assert (check.current, check.pending) == ((), 2)
            assert looked_up == ["alembic_version"] * 2 and not connection.in_transaction()
    finally:
        engine.dispose()


def test_a_refused_read_leaves_the_callers_transaction_usable(project: Project) -> None:
    """Inside the caller's transaction the gate reads in a savepoint: a statement refused
    there does not abort the caller's work (PostgreSQL would)."""
    run_with_connection(
        make_url(project.url),
        lambda c: c.execute(text("ALTER TABLE alembic_version RENAME COLUMN version_num TO gone")),
    )
    migrations = Migrations(url=project.url, root=project.root)
    engine = create_engine(project.url)
    try:
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO users (email, password) VALUES ('kept', 'x')"))
            with pytest.raises(DatabaseStateError, match="refused a statement"):
                migrations.head_check(connection)
            assert connection.execute(text("SELECT COUNT(*) FROM users")).scalar() == 1
            connection.commit()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM users")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_alembic_can_answer_and_it_reads_the_lent_connection(project: Project) -> None:
    """An in-memory database exists on its connection alone: when env.py cannot be read
    statically, Alembic's answer (through env.py) is read on the lent connection too."""
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text().replace("run_migrations()", "run_migrations(**{})"))
    migrations = Migrations(url=project.url, root=project.root)
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            connection.execute(text(f"INSERT INTO alembic_version VALUES ('{SECOND}')"))
            connection.commit()
            check = migrations.head_check(connection)
            assert (check.static, check.position.value, check.current) == (
                False,
                "at head",
                (SECOND,),
            )
            assert not connection.in_transaction()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])  # the async drivers installed
def test_the_gate_on_an_async_engines_connection(project: Project) -> None:
    url = make_url(project.url)
    assert project.cli("upgrade").exit_code == 0
    migrations = Migrations(url=project.url, root=project.root)

    async def ask() -> head_check.HeadCheck:
        engine = create_async_engine(url.set(drivername=ASYNC_DRIVERS[url.get_backend_name()]))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(migrations.head_check)
        finally:
            await engine.dispose()

    check = asyncio.run(ask())
    assert (check.static, check.at_head, check.current) == (True, True, (SECOND,))


def test_a_no_op_upgrade_returns_from_the_gate(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    before = snapshot(project.url)
    # A revision file that fails when executed: a no-op upgrade must not execute it.
    path = project.versions / f"{SECOND}_hand_written.py"
    path.write_text(path.read_text() + "\nraise RuntimeError('executed')\n")
    for run in (project.cli, project.run):
        result = run("upgrade")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"Nothing to upgrade: the database is at {SECOND}."
    assert Migrations(url=project.url, root=project.root).upgrade().steps == ()
    assert snapshot(project.url) == before


def test_the_probe_without_sqlalchemy_answers_only_at_head(project: Project) -> None:
    options = {"--url": project.url, "--config": str(project.root / "pyproject.toml")}
    assert current_if_at_head(options) is None  # behind: the full path's to do
    assert project.cli("upgrade").exit_code == 0
    assert current_if_at_head(options) == (SECOND,)
    assert current_if_at_head({**options, "--url": project.url + "?x=1"}) is None
    set_version(project.url, "feedfacecafe")
    assert current_if_at_head(options) is None


COUNTING = 'import pathlib; pathlib.Path({marker!r}).open("a").write({revision!r} + " ")'


@pytest.mark.sqlite
def test_each_revision_file_executes_once_per_command(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    marker = tmp_path / "executions.txt"
    parent = None
    for number in range(3):
        revision = f"c0un7{number:07d}"
        write_revision(
            project, revision, parent, header=COUNTING.format(marker=str(marker), revision=revision)
        )
        parent = revision

    def executions() -> list[str]:
        found = marker.read_text().split() if marker.exists() else []
        marker.unlink(missing_ok=True)
        return sorted(found)

    every = sorted(f"c0un7{n:07d}" for n in range(3))
    assert project.cli("upgrade", "c0un70000001").exit_code == 0
    assert executions() == every
    assert project.cli("upgrade").exit_code == 0
    assert executions() == every
    assert project.cli("upgrade").exit_code == 0  # at head: the gate, no file executed
    assert executions() == []
    assert project.cli("downgrade", "-1").exit_code == 0
    assert executions() == every
    assert project.cli("stamp", "heads").exit_code == 0
    assert executions() == every
    assert project.cli("make", "create tables").exit_code == 0
    assert executions() == every


def test_the_gate_honours_the_version_table_setting(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    env = project.root / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace("run_migrations()", 'run_migrations(version_table="app_versions")')
    )
    assert project.cli("make", "create tables").exit_code == 0
    assert project.run("current", "--check").exit_code == 1
    assert project.cli("upgrade").exit_code == 0
    tables = snapshot(fresh_url)[0]
    assert "app_versions" in tables and "alembic_version" not in tables
    assert Migrations(url=fresh_url, root=tmp_path).head_check().static is True
    assert project.run("current", "--check").exit_code == 0
    run_with_connection(
        make_url(fresh_url),
        lambda c: c.execute(text("UPDATE app_versions SET version_num = 'feedfacecafe'")),
    )
    assert project.run("current", "--check").exit_code == 3


def test_an_unreachable_database_is_one_sentence_on_the_fast_path(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    assert project.cli("init").exit_code == 0
    result = project.run("current", "--check")
    assert_clean_failure(result, 3, "Cannot connect to the database")
    assert "secret" not in result.output

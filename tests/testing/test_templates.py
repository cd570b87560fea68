"""Template databases without pytest fixtures: copies at head, reuse, rebuilds, bad input."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseUnreachable, MigrationFailed
from fastapi_alembic.testing.templates import TemplateDatabases
from tests.support.histories import (
    ADD_AGE,
    CREATE_POSTS,
    CREATE_USERS,
    dead_pid,
    new_history,
    restricted_user,
    server_for,
)


def scalar(url: str, sql: str) -> object:
    return run_with_connection(make_url(url), lambda c: c.execute(text(sql)).scalar())


def schema_of_tables(connection: Connection) -> dict[str, dict[str, object]]:
    inspector = inspect(connection)
    return {
        table: {
            "foreign keys": [
                (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                for fk in inspector.get_foreign_keys(table)
            ],
            "unique": [u["column_names"] for u in inspector.get_unique_constraints(table)]
            or [i["column_names"] for i in inspector.get_indexes(table) if i["unique"]],
        }
        for table in inspector.get_table_names()
    }


@pytest.mark.parametrize("ahead", [0, 1], ids=["on-demand", "made-ahead"])
def test_copies_are_at_head_and_independent(backend: str, tmp_path: Path, ahead: int) -> None:
    history = new_history(tmp_path).add_good()
    history.add(
        "a view and a seed row",
        """op.execute("CREATE VIEW user_emails AS SELECT id, email FROM users")
    op.execute("INSERT INTO users (id, email) VALUES (7, 'seed@example.com')")""",
        'op.execute("DROP VIEW user_emails")',
    )
    server = server_for(backend, tmp_path)
    dbs = TemplateDatabases(history.migrations(), server, ahead=ahead)
    try:
        with dbs:
            with dbs.database() as first, dbs.database() as second:
                assert first != second
                head = history.revisions[-1]
                assert scalar(first, "SELECT version_num FROM alembic_version") == head
                run_with_connection(
                    make_url(first),
                    lambda c: c.execute(text("INSERT INTO users (id, email) VALUES (1, 'a@b.c')")),
                )
                assert scalar(first, "SELECT COUNT(*) FROM users") == 2
                assert scalar(second, "SELECT COUNT(*) FROM users") == 1  # the seed row
                assert scalar(second, "SELECT email FROM user_emails") == "seed@example.com"
                shape = run_with_connection(make_url(second), lambda c: schema_of_tables(c))
                assert shape["posts"]["foreign keys"] == [(["user_id"], "users", ["id"])]
                assert shape["users"]["unique"] == [["email"]]
                made = dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_")
                assert {make_url(first).database, make_url(second).database} <= {
                    make_url(dbs.store.url_of(n)).database for n in made
                }
            with dbs.database() as third:  # after the others were handed back
                assert scalar(third, "SELECT COUNT(*) FROM users") == 1
        # Closed: nothing is left, not even a copy made ahead and never used.
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
    finally:
        dbs.discard()


def test_template_is_reused_until_a_migration_changes(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    server = server_for(backend, tmp_path)
    builds = history.root / "builds.txt"
    counting = f'open({str(builds)!r}, "a").write("built\\n")'
    history.add("count builds", counting)
    migrations = history.migrations()
    first = TemplateDatabases(migrations, server)
    try:
        with first.database():
            pass
        first.close()
        with TemplateDatabases(migrations, server) as again, again.database():
            pass
        assert builds.read_text().count("built") == 1  # the second run reused the template

        old_name = first.template_name
        latest = sorted((history.root / "migrations" / "versions").glob("*.py"))[-1]
        latest.write_text(latest.read_text() + "\n# edited\n")
        with TemplateDatabases(migrations, server) as changed, changed.database():
            assert changed.template_name != old_name
            assert changed.store.names(f"{changed.prefix}_t_{changed.app}_") == [
                changed.template_name
            ]
        assert builds.read_text().count("built") == 2
    finally:
        first.discard()


def test_failing_migration_names_it_and_keeps_no_template(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path)
    server = server_for(backend, tmp_path)
    history.add("create users", *CREATE_USERS)
    broken = history.add("backfill names", 'op.execute("UPDATE no_such_table SET x = 1")')
    with TemplateDatabases(history.migrations(), server) as dbs:
        with pytest.raises(MigrationFailed) as raised:
            dbs.create()
        message = str(raised.value)
        assert f"Migration {broken} (backfill names) failed" in message
        assert "Building the test template" in message
        assert "\n" not in message
        assert dbs.store.names(f"{dbs.prefix}_t_{dbs.app}_") == []
        assert dbs.store.names(f"{dbs.prefix}_b_{dbs.app}_") == []
        with pytest.raises(MigrationFailed):  # remembered, not rebuilt for every test
            dbs.create()


def test_leftovers_of_a_crashed_run_are_dropped(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    server = server_for(backend, tmp_path)
    crashed = TemplateDatabases(history.migrations(), server)
    try:
        template = crashed.template()
        leftover = f"{crashed.prefix}_c_{crashed.app}_{crashed.host}_{dead_pid()}_deadbeef"
        crashed.store.copy(template, leftover)
        crashed.store.close()  # the process "dies" without dropping its copy
        with TemplateDatabases(history.migrations(), server) as next_run, next_run.database():
            assert leftover not in next_run.store.names(f"{next_run.prefix}_c_{next_run.app}_")
    finally:
        crashed.discard()


def test_a_connection_left_open_does_not_stop_the_drop(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    server = server_for(backend, tmp_path)
    with TemplateDatabases(history.migrations(), server, recycle=False) as dbs:
        try:
            url = dbs.create()
            engine = create_engine(url)
            leaked = engine.connect()  # a test that forgot to close, inside a transaction
            leaked.execute(text("INSERT INTO users (id, email) VALUES (1, 'a@b.c')"))
            dbs.drop(url)
            assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
            with suppress(Exception):
                leaked.close()
            engine.dispose()
        finally:
            dbs.discard()


BUILD_IN_A_CHILD = """
import sys
from fastapi_alembic import Migrations
from fastapi_alembic.testing.templates import TemplateDatabases

TemplateDatabases(Migrations(root=sys.argv[1]), sys.argv[2]).template()
"""


def test_a_build_killed_halfway_is_never_used_and_is_cleaned_up(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    # Dies (as if killed) after the first migration made its table, in the middle of the build.
    history.add(
        "maybe die",
        'import os, signal\n    if os.environ.get("DIE_NOW"):\n'
        "        os.kill(os.getpid(), signal.SIGKILL)",
    )
    history.add("create posts", *CREATE_POSTS)
    history.add("add users.age", *ADD_AGE)
    server = server_for(backend, tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", BUILD_IN_A_CHILD, str(history.root), server],
        env={**os.environ, "DIE_NOW": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        with dbs, dbs.database() as url:  # the same migration files: the same template name
            assert scalar(url, "SELECT version_num FROM alembic_version") == history.revisions[-1]
            assert scalar(url, "SELECT COUNT(*) FROM posts") == 0
            assert dbs.store.names(f"{dbs.prefix}_b_{dbs.app}_") == []
    finally:
        dbs.discard()


def test_in_memory_sqlite_copies_with_the_backup_api(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    with TemplateDatabases(history.migrations(), "sqlite://") as dbs:
        with dbs.database() as first, dbs.database() as second:
            assert "mode=memory" in first
            run_with_connection(
                make_url(first),
                lambda c: c.execute(text("INSERT INTO users (id, email) VALUES (1, 'a@b.c')")),
            )
            assert scalar(first, "SELECT COUNT(*) FROM users") == 1
            assert scalar(second, "SELECT COUNT(*) FROM users") == 0
            assert (
                scalar(second, "SELECT version_num FROM alembic_version") == history.revisions[-1]
            )
        assert dbs.store.names(f"{dbs.prefix}_c_") == []


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_unreachable_server_is_one_sentence_without_the_password(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path).add_good()
    driver = {"postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}[backend]
    with (
        TemplateDatabases(
            history.migrations(), f"{driver}://someone:s3cret@127.0.0.1:1/test"
        ) as dbs,
        pytest.raises(DatabaseUnreachable) as raised,
    ):
        dbs.create()
    message = str(raised.value)
    assert "s3cret" not in message
    assert "Cannot connect to the database at" in message
    assert "***" in message


@pytest.fixture
def user_without_create_rights(backend: str, tmp_path: Path) -> Iterator[str]:
    with restricted_user(backend, tmp_path) as server:
        yield server


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_user_without_the_right_to_create_databases_is_told_so(
    tmp_path: Path, user_without_create_rights: str
) -> None:
    history = new_history(tmp_path).add_good()
    dbs = TemplateDatabases(history.migrations(), user_without_create_rights)
    with dbs, pytest.raises(DatabaseUnreachable) as raised:
        dbs.create()
    message = str(raised.value)
    assert re.search(r"Cannot build the template database on .*: .*denied", message), message
    assert "needs" in message
    assert "\n" not in message

"""On the real servers: the dangers the rules name are real, the safe ways are safe, and lint
with a database follows the real tables' sizes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from fastapi_alembic.dialects import for_url
from tests.support.backends import require_server
from tests.support.helpers import Project, write_revision


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server = make_url(require_server("postgres"))
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("lint"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


@pytest.fixture
def mysql_url() -> Iterator[str]:
    server = make_url(require_server("mysql"))
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("lint"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


def _wait_until_waiting(watcher: Connection, pid: int) -> None:
    for _ in range(200):
        state = watcher.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()
        if state == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the index build never waited for its lock")


def _insert_while_index_is_built(url: str, create_index: str) -> str | None:
    """An open writer holds the table; the index build starts; can another session insert?

    Returns None when the insert went through, else the error it got.
    """
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as setup:
            setup.execute(text("CREATE TABLE items (id serial PRIMARY KEY, name text)"))
            setup.execute(
                text("INSERT INTO items (name) SELECT 'n' || i FROM generate_series(1, 2000) i")
            )
        with engine.connect() as writer, engine.connect() as builder, engine.connect() as other:
            writer.execute(text("BEGIN"))
            writer.execute(text("INSERT INTO items (name) VALUES ('open transaction')"))
            pid = builder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            thread = threading.Thread(target=lambda: builder.execute(text(create_index)))
            thread.start()
            try:
                _wait_until_waiting(other, pid)
                other.execute(text("SET lock_timeout = '300ms'"))
                try:
                    other.execute(text("INSERT INTO items (name) VALUES ('from the app')"))
                    outcome = None
                except OperationalError as error:
                    outcome = str(error.orig)
            finally:
                writer.execute(text("COMMIT"))
                thread.join(timeout=30)
        return outcome
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_plain_create_index_blocks_inserts_and_concurrently_does_not(
    postgres_url: str,
) -> None:
    blocked = _insert_while_index_is_built(
        postgres_url, "CREATE INDEX ix_items_name ON items (name)"
    )
    assert blocked is not None and "lock timeout" in blocked
    with create_engine(postgres_url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("DROP TABLE items"))
    concurrent = _insert_while_index_is_built(
        postgres_url, "CREATE INDEX CONCURRENTLY ix_items_name ON items (name)"
    )
    assert concurrent is None


@pytest.mark.postgres
def test_postgres_concurrently_inside_a_transaction_fails_at_deploy(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE items (id integer)"))
        failing = pytest.raises(DBAPIError, match="cannot run inside a transaction block")
        with failing, engine.begin() as connection:
            connection.execute(text("CREATE INDEX CONCURRENTLY ix ON items (id)"))
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_mariadb_refuses_online_type_changes_lint_calls_blocking(mysql_url: str) -> None:
    """The facts behind mysql-online-ddl and mysql-enum-order, asked of the server itself."""
    engine = create_engine(mysql_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE items (id INT PRIMARY KEY, n INT, name VARCHAR(50), "
                    "status ENUM('new', 'paid'))"
                )
            )

        def alter(statement: str) -> str | None:
            try:
                with engine.begin() as connection:
                    connection.execute(text(statement))
            except DBAPIError as error:
                return str(error.orig)
            return None

        assert alter("ALTER TABLE items MODIFY n BIGINT, ALGORITHM=INPLACE, LOCK=NONE")
        assert (
            alter("ALTER TABLE items MODIFY name VARCHAR(60), ALGORITHM=INPLACE, LOCK=NONE") is None
        )
        assert (
            alter("ALTER TABLE items MODIFY status ENUM('new', 'paid', 'sent'), ALGORITHM=INSTANT")
            is None
        )
        assert alter(
            "ALTER TABLE items MODIFY status ENUM('new', 'held', 'paid', 'sent'), ALGORITHM=INSTANT"
        )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_lint_with_a_database_follows_the_real_table_sizes(
    postgres_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, postgres_url)
    assert project.cli("init").exit_code == 0
    write_revision(
        project,
        "aaaa00000001",
        None,
        body='op.create_table("big", sa.Column("id", sa.Integer(), primary_key=True)); '
        'op.create_table("small", sa.Column("id", sa.Integer(), primary_key=True))',
    )
    assert project.cli("upgrade").exit_code == 0
    with create_engine(postgres_url).begin() as connection:
        connection.execute(text("INSERT INTO big (id) SELECT generate_series(1, 30)"))
        connection.execute(text("INSERT INTO small (id) VALUES (1)"))
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.create_index("ix_big", "big", ["id"]); op.create_index("ix_small", "small", ["id"])',
    )
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.fastapi-alembic.lint]\nlarge-table-rows = 20\n"
    )
    result = project.cli("lint", "--json")
    report = json.loads(result.stdout)
    assert report["database"] and "postgresql" in report["database"]
    indexes = [f for f in report["findings"] if f["rule"] == "create-index-not-concurrently"]
    assert [f["table"] for f in indexes] == ["big"]
    assert "(more than 20 rows)" in indexes[0]["message"]
    assert result.exit_code == 1
    without = json.loads(project.cli("lint", "--no-database", "--json").stdout)
    tables = {
        f["table"] for f in without["findings"] if f["rule"] == "create-index-not-concurrently"
    }
    assert tables == {"big", "small"}  # without a database every existing table counts as large


@pytest.mark.mysql
def test_lint_with_a_mysql_database_reads_information_schema(
    mysql_url: str, tmp_path: Path
) -> None:
    project = Project.create(tmp_path, mysql_url)
    assert project.cli("init").exit_code == 0
    write_revision(
        project,
        "aaaa00000001",
        None,
        body='op.create_table("big", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("n", sa.Integer())); op.create_table("empty", sa.Column("id", sa.Integer(), '
        'primary_key=True), sa.Column("n", sa.Integer()))',
    )
    assert project.cli("upgrade").exit_code == 0
    with create_engine(mysql_url).begin() as connection:
        connection.execute(text("INSERT INTO big (id, n) VALUES (1, 1), (2, 2), (3, 3)"))
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.drop_column("big", "n"); op.drop_column("empty", "n")',
    )
    report = json.loads(project.cli("lint", "--json", "bbbb").stdout)
    drops = [f for f in report["findings"] if f["rule"] == "drop-column"]
    assert [(f["table"], f["rows"]) for f in drops] == [("big", 3)]


def _add_plan_column(url: str, column: object) -> str | None:
    """Add ``column`` to a table with a row, then insert as the old code does (without it).

    Returns None when both worked, else the first error.
    """
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(20))")
            )
            connection.execute(text("INSERT INTO accounts (id, name) VALUES (1, 'ada')"))
        try:
            with engine.begin() as connection:
                Operations(MigrationContext.configure(connection)).add_column("accounts", column)  # type: ignore[arg-type]
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO accounts (id, name) VALUES (2, 'old code')"))
        except DBAPIError as error:
            return str(error.orig)
        return None
    finally:
        engine.dispose()


def test_a_not_null_column_without_default_breaks_on_every_backend(fresh_url: str) -> None:
    """PostgreSQL and SQLite refuse the ALTER on a table with rows; MariaDB adds it and then
    rejects the old code's inserts. The safe way, a server default, works everywhere."""
    import sqlalchemy as sa

    assert _add_plan_column(fresh_url, sa.Column("plan", sa.String(20), nullable=False))
    with create_engine(fresh_url).begin() as connection:
        connection.execute(text("DROP TABLE accounts"))
    safe = sa.Column("plan", sa.String(20), nullable=False, server_default="free")
    assert _add_plan_column(fresh_url, safe) is None

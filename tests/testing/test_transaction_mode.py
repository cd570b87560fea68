"""The plugin's transaction-per-test mode as a user's project meets it, on every backend: one
database per process, each test rolled back, the app's dependency inside the test's
transaction, sync and async."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fastapi_alembic.testing.templates import TemplateDatabases
from fastapi_alembic.testing.transactions import ESCAPED
from tests.support.histories import SQLMODEL_MODELS, History, new_history, pytest_in, server_for

TRANSACTION_TESTS = """
import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from {module} import User

COUNT = select(func.count()).select_from(User)


def get_db() -> Session:
    raise RuntimeError("the real database must not be used in tests")


async def get_async_db() -> AsyncSession:
    raise RuntimeError("the real database must not be used in tests")


app = FastAPI()


@app.post("/users/{{email}}")
def create_user(email: str, db: Session = Depends(get_db)) -> dict[str, int]:
    db.add(User(email=email))
    db.commit()
    return {{"users": db.scalar(COUNT)}}


@app.get("/users")
def count_users(db: Session = Depends(get_db)) -> dict[str, int]:
    return {{"users": db.scalar(COUNT)}}


@app.post("/async-users/{{email}}")
async def create_user_async(email: str, db: AsyncSession = Depends(get_async_db)) -> dict[str, int]:
    db.add(User(email=email))
    await db.commit()
    return {{"users": await db.scalar(COUNT)}}


def remember(connection) -> None:
    with open("databases.txt", "a") as seen:
        seen.write(f"{{connection.engine.url.database}}\\n")


@pytest.mark.parametrize("n", range(3))
def test_rows_committed_in_a_test_are_gone_in_the_next(migrated_session: Session, n: int) -> None:
    remember(migrated_session.connection())
    assert migrated_session.scalar(COUNT) == 0
    migrated_session.add(User(email=f"user{{n}}@example.com"))
    migrated_session.commit()
    assert migrated_session.scalar(COUNT) == 1


def test_the_connection_and_the_session_share_the_transaction(
    migrated_session: Session, migrated_connection
) -> None:
    remember(migrated_connection)
    migrated_session.add(User(email="a@example.com"))
    migrated_session.commit()
    assert migrated_connection.scalar(text("SELECT count(*) FROM users")) == 1
    migrated_connection.execute(text("INSERT INTO users (email) VALUES ('b@example.com')"))
    assert migrated_session.scalar(COUNT) == 2


def test_the_app_and_the_test_see_each_others_rows(
    migrated_session: Session, override_database
) -> None:
    migrated_session.add(User(email="a@example.com"))
    migrated_session.commit()
    override_database(app, get_db)
    with TestClient(app) as client:
        assert client.get("/users").json() == {{"users": 1}}
        assert client.post("/users/b@example.com").json() == {{"users": 2}}
    assert migrated_session.scalar(COUNT) == 2


def test_a_rolled_back_session_goes_on(migrated_session: Session) -> None:
    migrated_session.add(User(email="kept@example.com"))
    migrated_session.commit()
    migrated_session.add(User(email="dropped@example.com"))
    migrated_session.rollback()
    assert migrated_session.scalars(select(User.email)).all() == ["kept@example.com"]


@pytest.mark.parametrize("n", range(2))
@pytest.mark.anyio
async def test_async_sessions_are_rolled_back_too(migrated_async_session: AsyncSession, n: int) -> None:
    assert await migrated_async_session.scalar(COUNT) == 0
    migrated_async_session.add(User(email=f"async{{n}}@example.com"))
    await migrated_async_session.commit()
    assert await migrated_async_session.scalar(COUNT) == 1


@pytest.mark.anyio
async def test_the_async_app_sees_the_tests_rows(
    migrated_async_session: AsyncSession, override_database
) -> None:
    migrated_async_session.add(User(email="a@example.com"))
    await migrated_async_session.commit()
    override_database(app, get_async_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/async-users/b@example.com")).json() == {{"users": 2}}
    assert await migrated_async_session.scalar(COUNT) == 2


def test_in_the_end_every_table_is_empty(migrated_connection) -> None:
    remember(migrated_connection)
    assert migrated_connection.scalar(text("SELECT count(*) FROM users")) == 0
"""


def write_suite(history: History, ini: str = "") -> None:
    pyproject = history.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n{ini}'
    )
    (history.root / "test_in_transactions.py").write_text(
        textwrap.dedent(TRANSACTION_TESTS.format(module=history.module))
    )


def run_in_transactions(history: History, server: str, *args: str) -> str:
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        done = pytest_in(history.root, f"--migrate-url={server}", *args, timeout=240)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert "10 passed" in output, output
        # No copy is left behind; the template stays for the next run.
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
    finally:
        dbs.discard()
    return output


def test_each_test_is_rolled_back_in_one_shared_database(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    write_suite(history)
    run_in_transactions(
        history, server_for(backend, tmp_path), "-p", "no:xdist", "--migrate-isolation=transaction"
    )
    seen = (history.root / "databases.txt").read_text().split()
    assert len(seen) == 5 and len(set(seen)) == 1, seen  # one database for every test


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_workers_get_one_database_each(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    write_suite(history, ini='migrate_isolation = "transaction"\n')
    run_in_transactions(history, server_for(backend, tmp_path), "-n", "2")
    seen = set((history.root / "databases.txt").read_text().split())
    assert 1 <= len(seen) <= 2, seen


ESCAPING_TESTS = """
import pytest
from sqlalchemy import text


def test_a_commit_of_the_shared_transaction(migrated_connection) -> None:
    migrated_connection.execute(text("INSERT INTO users (email) VALUES ('escaped@example.com')"))
    migrated_connection.commit()


def test_the_next_test_finds_no_row(migrated_connection) -> None:
    assert migrated_connection.scalar(text("SELECT count(*) FROM users")) == 0


@pytest.mark.fastapi_alembic(isolation="database")
def test_a_marker_gives_a_database_of_its_own(migrated_connection, migrate_isolation) -> None:
    assert migrate_isolation == "database"
    migrated_connection.execute(text("INSERT INTO users (email) VALUES ('own@example.com')"))
    migrated_connection.commit()


@pytest.mark.fastapi_alembic(isolation="transaction")
def test_a_url_of_its_own_is_refused_in_a_transaction(migrated_url) -> None:
    pass


def test_a_url_of_its_own_means_a_copy(migrated_engine, migrate_isolation) -> None:
    assert migrate_isolation == "database"
"""


def test_a_commit_that_escapes_fails_its_test_and_the_next_starts_clean(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path).add_good()
    write_suite(history)
    (history.root / "test_in_transactions.py").write_text(ESCAPING_TESTS)
    server = server_for(backend, tmp_path)
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        done = pytest_in(
            history.root,
            f"--migrate-url={server}",
            "--migrate-isolation=transaction",
            "-p",
            "no:xdist",
            "-rA",
        )
    finally:
        dbs.discard()
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "4 passed, 2 errors" in output, output
    assert "ERROR at teardown of test_a_commit_of_the_shared_transaction" in output, output
    assert ESCAPED in output, output
    assert "ERROR at setup of test_a_url_of_its_own_is_refused_in_a_transaction" in output
    assert (
        "migrated_url gives the test a database of its own, but the test is marked "
        'isolation="transaction": use migrated_connection or migrated_session' in output
    ), output
    assert "Traceback" not in output


SQLMODEL_TESTS = """
import pytest
from sqlmodel import Session, select

from {module} import Hero


@pytest.mark.parametrize("n", range(2))
def test_sqlmodel_sessions_are_rolled_back(migrated_session, n) -> None:
    assert type(migrated_session) is Session
    assert migrated_session.exec(select(Hero)).all() == []
    migrated_session.add(Hero(name=f"Rusty{{n}}"))
    migrated_session.commit()
    assert [h.name for h in migrated_session.exec(select(Hero))] == [f"Rusty{{n}}"]
"""


def test_a_sqlmodel_app_in_transactions(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(SQLMODEL_MODELS)
    pyproject = history.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(":Base", ":SQLModel")
        + '\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
        + 'migrate_isolation = "transaction"\n'
    )
    history.add(
        "create heroes",
        """op.create_table(
        "heroes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )""",
        'op.drop_table("heroes")',
    )
    (history.root / "test_heroes.py").write_text(
        textwrap.dedent(SQLMODEL_TESTS.format(module=history.module))
    )
    done = pytest_in(history.root, f"--migrate-url={server_for('sqlite', tmp_path)}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "2 passed" in output, output


def test_an_unknown_isolation_is_one_sentence(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    write_suite(history, ini='migrate_isolation = "savepoint"\n')
    (history.root / "test_in_transactions.py").write_text(
        "def test_a(migrated_session):\n    pass\n"
    )
    done = pytest_in(history.root, f"--migrate-url={server_for('sqlite', tmp_path)}")
    assert done.returncode == 1, done.stdout
    assert (
        'The isolation in the migrate_isolation ini setting must be "database" or '
        "\"transaction\", not 'savepoint'." in done.stdout
    ), done.stdout


ONE_COPY_TESTS = """
import time

import pytest


@pytest.mark.parametrize("n", range(3))
def test_one_copy_serves_the_run(migrated_connection, migrate_templates, n) -> None:
    time.sleep(0.5)  # time enough for copies made ahead, had any been started
    dbs = migrate_templates
    assert len(dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_")) == 1
"""


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_run_in_transactions_makes_one_copy(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    write_suite(history)
    (history.root / "test_in_transactions.py").write_text(ONE_COPY_TESTS)
    server = server_for(backend, tmp_path)
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        done = pytest_in(
            history.root,
            f"--migrate-url={server}",
            "--migrate-isolation=transaction",
            "-p",
            "no:xdist",
        )
    finally:
        dbs.discard()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout

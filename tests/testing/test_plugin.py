"""The pytest plugin as users meet it: a project's own test run, two xdist workers, each backend."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from fastapi_alembic.testing.templates import TemplateDatabases
from tests.support.histories import (
    ADD_AGE,
    CREATE_POSTS,
    CREATE_USERS,
    SQLMODEL_MODELS,
    History,
    new_history,
    pytest_in,
    server_for,
)

USER_TESTS = """
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from {module} import User


def get_db() -> Session:
    raise RuntimeError("the real database must not be used in tests")


app = FastAPI()


@app.post("/users/{{email}}")
def create_user(email: str, db: Session = Depends(get_db)) -> dict[str, int]:
    db.add(User(email=email))
    db.commit()
    return {{"users": db.scalar(select(func.count()).select_from(User))}}


@pytest.mark.parametrize("n", range(6))
def test_each_test_starts_from_an_empty_database_at_head(migrated_session: Session, n: int) -> None:
    assert migrated_session.scalar(select(func.count()).select_from(User)) == 0
    migrated_session.add(User(email=f"user{{n}}@example.com"))
    migrated_session.commit()


def test_the_url_is_at_head(migrated_url: str, migrations) -> None:
    heads = tuple(info.revision for info in migrations.heads())
    assert migrations.with_url(migrated_url).current() == heads


def test_the_engine_sees_the_migrated_tables(migrated_engine) -> None:
    assert {{"users", "posts", "alembic_version"}} <= set(inspect(migrated_engine).get_table_names())


def test_the_app_dependency_points_at_the_fresh_database(override_database) -> None:
    override_database(app, get_db)
    with TestClient(app) as client:
        assert client.post("/users/a@example.com").json() == {{"users": 1}}
        assert client.post("/users/b@example.com").json() == {{"users": 2}}


def test_the_override_is_gone_after_its_test(override_database) -> None:
    assert get_db not in app.dependency_overrides
"""


def run_user_suite(
    history: History, *args: str, env: dict[str, str] | None = None, passed: int = 10
) -> str:
    pyproject = history.root / "pyproject.toml"
    if "[tool.pytest.ini_options]" not in pyproject.read_text():
        pyproject.write_text(
            pyproject.read_text() + '\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
        )
    (history.root / "test_user_app.py").write_text(
        textwrap.dedent(USER_TESTS.format(module=history.module))
    )
    done = pytest_in(history.root, "-n", "2", *args, env=env, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"{passed} passed" in output, output
    return output


def test_fixtures_under_two_workers(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    server = server_for(backend, tmp_path)
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        if backend == "mysql":  # the URL from the environment rather than the option
            run_user_suite(history, env={"FASTAPI_ALEMBIC_TEST_URL": server})
        else:
            run_user_suite(history, f"--migrate-url={server}")
        # Every copy was dropped; the template stays for the next run.
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
        assert dbs.store.names(f"{dbs.prefix}_t_{dbs.app}_") == [dbs.template_name]
    finally:
        dbs.discard()


def test_without_a_url_copies_come_from_sqlite_files(tmp_path: Path) -> None:
    from fastapi_alembic.testing.plugin import default_sqlite_folder

    history = new_history(tmp_path).add_good()
    # Also opt in to the migration test suite as six tests.
    (history.root / "test_migrations.py").write_text(
        "from fastapi_alembic.testing.checks import *  # noqa: F403\n"
    )
    output = run_user_suite(history, passed=16)
    assert "16 passed" in output
    dbs = TemplateDatabases(
        history.migrations(), f"sqlite:///{default_sqlite_folder() / 'server.db'}"
    )
    try:
        assert dbs.store.names(f"{dbs.prefix}_t_{dbs.app}_") == [dbs.template_name]
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
    finally:
        dbs.discard()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_opt_in_checks_name_a_failing_revision(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.add("create users", *CREATE_USERS)
    history.add("create posts", *CREATE_POSTS)
    broken = history.add("clean up posts", 'op.execute("DELETE FROM posts")')
    history.add("add users.age", *ADD_AGE)
    (history.root / "test_migrations.py").write_text(
        "from fastapi_alembic.testing.checks import *  # noqa: F403\n"
    )
    done = pytest_in(
        history.root, "-p", "no:cacheprovider", f"--migrate-url={server_for(backend, tmp_path)}"
    )
    assert done.returncode == 1, done.stdout
    assert "1 failed, 5 passed" in done.stdout
    assert (
        f"rows survive every upgrade: {broken} (clean up posts) lost 2 of 2 row(s) in table posts"
        in done.stdout
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_failing_migration_fails_the_tests_with_one_sentence(
    backend: str, tmp_path: Path
) -> None:
    history = new_history(tmp_path).add_good()
    broken = history.add("seed", 'op.execute("INSERT INTO nowhere VALUES (1)")')
    (history.root / "test_one.py").write_text("def test_one(migrated_url):\n    pass\n")
    done = pytest_in(
        history.root, "-p", "no:cacheprovider", f"--migrate-url={server_for(backend, tmp_path)}"
    )
    assert done.returncode == 1
    assert f"Migration {broken} (seed) failed" in done.stdout
    assert "Traceback" not in done.stdout


SQLMODEL_TESTS = """
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from {module} import Hero


def get_session() -> Session:
    raise RuntimeError("the real database must not be used in tests")


app = FastAPI()


@app.post("/heroes/{{name}}")
def create_hero(name: str, session: Session = Depends(get_session)) -> dict[str, object]:
    session.add(Hero(name=name))
    session.commit()
    names = [hero.name for hero in session.exec(select(Hero).order_by(Hero.name))]
    return {{"class": type(session).__name__, "names": names}}


def test_migrated_session_is_sqlmodels(migrated_session) -> None:
    assert type(migrated_session) is Session
    migrated_session.add(Hero(name="Rusty"))
    migrated_session.commit()
    assert [h.name for h in migrated_session.exec(select(Hero))] == ["Rusty"]


def test_the_override_gives_sqlmodels_session(override_database) -> None:
    override_database(app, get_session)
    with TestClient(app) as client:
        assert client.post("/heroes/b").json() == {{"class": "Session", "names": ["b"]}}
        assert client.post("/heroes/a").json() == {{"class": "Session", "names": ["a", "b"]}}


class AuditedSession(Session):
    pass


def test_a_session_class_of_the_apps_own(override_database) -> None:
    override_database(app, get_session, session_class=AuditedSession)
    with TestClient(app) as client:
        assert client.post("/heroes/c").json() == {{"class": "AuditedSession", "names": ["c"]}}
"""


def test_a_sqlmodel_app_gets_sqlmodel_sessions(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    history.write_models(SQLMODEL_MODELS)
    pyproject = history.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(":Base", ":SQLModel")
        + '\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
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
    assert "3 passed" in output, output


def _run_with_prefix(history: History, server: str, prefix: str, *args: str) -> None:
    dbs = TemplateDatabases(history.migrations(), server, prefix=prefix)
    default = TemplateDatabases(history.migrations(), server)
    try:
        run_user_suite(history, f"--migrate-url={server}", *args)
        assert dbs.store.names(f"{prefix}_t_{dbs.app}_") == [dbs.template_name]
        assert default.store.names(f"faa_t_{dbs.app}_") == []  # the default prefix unused
    finally:
        dbs.discard()
        default.close()


def test_the_database_names_take_the_prefix_option(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    prefix = f"plugin{os.getpid()}"
    _run_with_prefix(history, server_for(backend, tmp_path), prefix, f"--migrate-prefix={prefix}")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_database_names_take_the_prefix_ini_setting(backend: str, tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    prefix = f"pluginini{os.getpid()}"
    pyproject = history.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\nmigrate_prefix = "{prefix}"\n'
    )
    _run_with_prefix(history, server_for(backend, tmp_path), prefix)


def test_a_bad_prefix_fails_the_tests_that_need_a_database(tmp_path: Path) -> None:
    history = new_history(tmp_path).add_good()
    (history.root / "test_user_app.py").write_text("def test_a(migrated_url):\n    pass\n")
    done = pytest_in(history.root, "--migrate-prefix=Bad-Prefix", "-p", "no:cacheprovider")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "The test database prefix 'Bad-Prefix' (--migrate-prefix or migrate_prefix) is not valid"
        in (done.stdout)
    )
    assert "Traceback" not in done.stdout

"""The migration history: it goes down to nothing and back, rows survive every step, and the
data migration rescales priorities and reverts them. On SQLite, PostgreSQL and MariaDB."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL

from fastapi_alembic import Migrations

CREATE_TASKS = "056fd48ebb77"
ADD_CREATED_AT = "513cd05587c5"
RESCALE_PRIORITY = "0fe1658a7cf2"


@pytest.fixture
def empty_database(migrations: Migrations, fresh_url: str) -> Migrations:
    """The app's migrations aimed at a new, empty database."""
    return migrations.with_url(fresh_url)


def run_sql(url: URL, statement: str, **parameters: Any) -> list[tuple[Any, ...]]:
    """Raw SQL, as the schema stands at that revision (the models describe only the head)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), parameters)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def tasks_by_name(url: URL) -> dict[str, int]:
    return {name: priority for name, priority in run_sql(url, "SELECT name, priority FROM tasks")}


def table_names(url: URL) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_history_is_linear_with_the_three_revisions(migrations: Migrations) -> None:
    revisions = [revision.revision for revision in migrations.history()]

    assert revisions == [RESCALE_PRIORITY, ADD_CREATED_AT, CREATE_TASKS]


def test_check_passes(empty_database: Migrations) -> None:
    """What `fastapi-alembic check` runs in CI: one head, the migrations build the models."""
    empty_database.upgrade()

    report = empty_database.check()

    assert report.ok, report.to_dict()


def test_downgrade_to_base_then_upgrade_to_head(empty_database: Migrations) -> None:
    empty_database.upgrade()
    empty_database.downgrade("base")

    assert empty_database.current() == ()
    assert table_names(empty_database.url) <= {
        "alembic_version",
        "fastapi_alembic_ledger",
        "fastapi_alembic_lock",
    }

    empty_database.upgrade()

    assert empty_database.current() == (RESCALE_PRIORITY,)
    assert empty_database.differences() == []


def test_rows_survive_each_step_and_priorities_are_rescaled(empty_database: Migrations) -> None:
    url = empty_database.url
    empty_database.upgrade(CREATE_TASKS)
    for name, priority in [("urgent task", 1), ("normal task", 2), ("someday task", 3)]:
        run_sql(
            url,
            "INSERT INTO tasks (name, priority, due_date) VALUES (:name, :priority, :due_date)",
            name=name,
            priority=priority,
            due_date=date(2030, 1, 1),
        )

    empty_database.upgrade(ADD_CREATED_AT)
    assert tasks_by_name(url) == {"urgent task": 1, "normal task": 2, "someday task": 3}
    assert run_sql(url, "SELECT COUNT(*) FROM tasks WHERE created_at IS NOT NULL") == [(3,)]

    empty_database.upgrade(RESCALE_PRIORITY)
    assert tasks_by_name(url) == {"urgent task": 1, "normal task": 5, "someday task": 9}

    empty_database.downgrade(ADD_CREATED_AT)
    assert tasks_by_name(url) == {"urgent task": 1, "normal task": 2, "someday task": 3}

    empty_database.upgrade()
    assert tasks_by_name(url) == {"urgent task": 1, "normal task": 5, "someday task": 9}


def test_downgrading_the_name_limit_shortens_long_names(empty_database: Migrations) -> None:
    url = empty_database.url
    empty_database.upgrade()
    long_name = "n" * 80
    run_sql(
        url,
        "INSERT INTO tasks (name, priority, due_date) VALUES (:name, 4, :due_date)",
        name=long_name,
        due_date=date(2030, 1, 1),
    )

    empty_database.downgrade(CREATE_TASKS)

    assert run_sql(url, "SELECT name, priority FROM tasks") == [(long_name[:50], 2)]


def test_done_defaults_to_false_in_the_database(empty_database: Migrations) -> None:
    empty_database.upgrade()
    run_sql(
        empty_database.url,
        "INSERT INTO tasks (name, priority, due_date) VALUES ('task', 1, :due_date)",
        due_date=date(2030, 1, 1),
    )

    [(done,)] = run_sql(empty_database.url, "SELECT done FROM tasks")

    assert not done

"""The migration history retells how the schema grew. Rows written at every revision survive
every later upgrade; the whole history goes down to nothing and back. On SQLite, PostgreSQL
and MariaDB."""

from typing import Any

import pytest
from sqlalchemy import inspect, text

from fastapi_alembic import Migrations
from social.database import create_database_engine

CREATE_POSTS = "755e0d2d242b"
ADD_CONTENT = "bd1c492bd439"
CREATE_USERS = "6119239c0eec"
ADD_OWNER = "2eff823f0e64"
ADD_PUBLISHED_AND_CREATED_AT = "442943efc5a7"
CREATE_VOTES = "90fa79692763"
ADD_PHONE_NUMBER = "be8b70038a55"


@pytest.fixture
def empty_database(migrations: Migrations, fresh_url: str) -> Migrations:
    """The app's migrations aimed at a new, empty database."""
    return migrations.with_url(fresh_url)


def run_sql(url: str, statement: str, **parameters: Any) -> list[tuple[Any, ...]]:
    """Raw SQL, as the schema stands at that revision (the models describe only the head)."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), parameters)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_history_retells_the_tutorial(migrations: Migrations) -> None:
    messages = [revision.message for revision in reversed(migrations.history())]

    assert messages == [
        "create posts",
        "add posts.content",
        "create users",
        "add posts.owner_id",
        "add posts.published and posts.created_at",
        "create votes",
        "add users.phone_number",
    ]


def test_check_passes(empty_database: Migrations) -> None:
    """What `fastapi-alembic check` runs in CI: one head, the migrations build the models."""
    empty_database.upgrade()

    report = empty_database.check()

    assert report.ok, report.to_dict()


def test_downgrade_to_base_then_upgrade_to_head(empty_database: Migrations, fresh_url: str) -> None:
    empty_database.upgrade()
    empty_database.downgrade("base")

    assert empty_database.current() == ()
    engine = create_database_engine(fresh_url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {
            "alembic_version",
            "fastapi_alembic_ledger",
            "fastapi_alembic_lock",
        }
    engine.dispose()

    empty_database.upgrade()

    assert empty_database.current() == (ADD_PHONE_NUMBER,)
    assert empty_database.differences() == []


def test_rows_written_at_each_revision_survive_later_upgrades(
    empty_database: Migrations, fresh_url: str
) -> None:
    empty_database.upgrade(CREATE_POSTS)
    run_sql(fresh_url, "INSERT INTO posts (title) VALUES ('written before content')")

    empty_database.upgrade(ADD_CONTENT)
    assert run_sql(fresh_url, "SELECT id, title, content FROM posts") == [
        (1, "written before content", "")
    ]
    run_sql(fresh_url, "INSERT INTO posts (title, content) VALUES ('with content', 'words')")

    empty_database.upgrade(CREATE_USERS)
    run_sql(fresh_url, "INSERT INTO users (email, password_hash) VALUES ('first@example.com', 'x')")

    empty_database.upgrade(ADD_OWNER)
    # Posts from before users existed now belong to the oldest account.
    assert run_sql(fresh_url, "SELECT id, owner_id FROM posts ORDER BY id") == [(1, 1), (2, 1)]
    run_sql(
        fresh_url, "INSERT INTO users (email, password_hash) VALUES ('second@example.com', 'x')"
    )
    run_sql(
        fresh_url,
        "INSERT INTO posts (title, content, owner_id) VALUES ('by the second user', '', 2)",
    )

    empty_database.upgrade(ADD_PUBLISHED_AND_CREATED_AT)
    assert run_sql(
        fresh_url,
        "SELECT COUNT(*) FROM posts WHERE published = :yes AND created_at IS NOT NULL",
        yes=True,
    ) == [(3,)]
    run_sql(
        fresh_url,
        "INSERT INTO posts (title, content, owner_id, published) VALUES ('draft', '', 1, :no)",
        no=False,
    )

    empty_database.upgrade(CREATE_VOTES)
    run_sql(fresh_url, "INSERT INTO votes (user_id, post_id) VALUES (1, 3), (2, 3)")

    empty_database.upgrade(ADD_PHONE_NUMBER)
    run_sql(
        fresh_url,
        "INSERT INTO users (email, password_hash, phone_number) "
        "VALUES ('third@example.com', 'x', '+1 555 0100')",
    )

    assert run_sql(fresh_url, "SELECT id, title, owner_id FROM posts ORDER BY id") == [
        (1, "written before content", 1),
        (2, "with content", 1),
        (3, "by the second user", 2),
        (4, "draft", 1),
    ]
    assert run_sql(fresh_url, "SELECT email, phone_number FROM users ORDER BY id") == [
        ("first@example.com", None),
        ("second@example.com", None),
        ("third@example.com", "+1 555 0100"),
    ]
    assert run_sql(fresh_url, "SELECT user_id, post_id FROM votes ORDER BY user_id") == [
        (1, 3),
        (2, 3),
    ]


def test_deleting_a_user_deletes_their_posts_and_votes(
    empty_database: Migrations, fresh_url: str
) -> None:
    empty_database.upgrade()
    run_sql(fresh_url, "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')")
    run_sql(fresh_url, "INSERT INTO users (email, password_hash) VALUES ('b@example.com', 'x')")
    run_sql(fresh_url, "INSERT INTO posts (title, content, owner_id) VALUES ('by a', '', 1)")
    run_sql(fresh_url, "INSERT INTO posts (title, content, owner_id) VALUES ('by b', '', 2)")
    run_sql(fresh_url, "INSERT INTO votes (user_id, post_id) VALUES (1, 2), (2, 1), (2, 2)")

    run_sql(fresh_url, "DELETE FROM users WHERE id = 1")

    assert run_sql(fresh_url, "SELECT title FROM posts") == [("by b",)]
    assert run_sql(fresh_url, "SELECT user_id, post_id FROM votes") == [(2, 2)]

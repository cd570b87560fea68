"""Enum changes that must stop or warn: what the user sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DataLossRefused, MigrationFailed
from tests.support.model_changes import _mood, _profiles, _users


def _migrations(build, url: str, folder: Path) -> Migrations:  # type: ignore[no-untyped-def]
    metadata = MetaData()
    build(metadata)
    return Migrations(metadata=metadata, url=url, directory=folder / "migrations", root=folder)


def _scalar(url: str, sql: str) -> object:
    return run_with_connection(make_url(url), lambda c: c.execute(text(sql)).scalar())


@pytest.mark.parametrize("backend", ["postgres"])
def test_removing_a_value_rows_still_hold_stops_the_upgrade(fresh_url: str, tmp_path: Path) -> None:
    before = _migrations(_mood(("happy", "sad", "angry")), fresh_url, tmp_path)
    before.init()
    before.make("moods")
    before.upgrade()
    run_with_connection(
        make_url(fresh_url),
        lambda c: (
            c.execute(text("INSERT INTO users (id, email, mood) VALUES (1, 'a', 'angry')")),
            c.commit(),
        ),
    )
    after = _migrations(_mood(("happy", "sad")), fresh_url, tmp_path)
    made = after.make("no more anger")
    assert [o.description for o in made.destructive] == ["rebuild type mood without angry"]

    # The revision's own check runs first (before the cast the data-loss guard would count),
    # accepted or not, as plain alembic runs it.
    for accept in (False, True):
        with pytest.raises(MigrationFailed) as failed:
            after.upgrade(accept_data_loss=accept)
        assert (
            "Rows of users.mood still hold a value the type mood no longer has (angry): "
            "update or delete them, then upgrade again." in str(failed.value)
        )
        assert "the whole upgrade was rolled back" in str(failed.value)
    labels = _scalar(
        fresh_url,
        "SELECT string_agg(enumlabel, ',') FROM pg_enum e "
        "JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'mood'",
    )
    assert labels == "happy,sad,angry"
    assert _scalar(fresh_url, "SELECT mood::text FROM users") == "angry"

    run_with_connection(
        make_url(fresh_url),
        lambda c: (c.execute(text("UPDATE users SET mood = 'sad'")), c.commit()),
    )
    after.upgrade()  # no row holds the removed value: the guard has nothing to refuse
    assert _scalar(fresh_url, "SELECT mood::text FROM users") == "sad"


def _insert_mood(url: str, mood: str) -> None:
    run_with_connection(
        make_url(url),
        lambda c: (
            c.execute(text(f"INSERT INTO users (id, email, mood) VALUES (1, 'a', '{mood}')")),
            c.commit(),
        ),
    )


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_the_guard_counts_only_rows_holding_a_removed_value(
    fresh_url: str, tmp_path: Path, backend: str
) -> None:
    """PostgreSQL rebuilds the type and casts; MariaDB modifies the ENUM column in place."""
    before = _migrations(_mood(("happy", "sad", "angry")), fresh_url, tmp_path)
    before.init()
    before.make("moods")
    before.upgrade()
    _insert_mood(fresh_url, "angry")
    after = _migrations(_mood(("happy", "sad")), fresh_url, tmp_path)
    made = after.make("no more anger")
    at = before.current()

    if backend == "postgres":  # the rebuild's own check comes before the cast
        with pytest.raises(MigrationFailed, match=r"Rows of users\.mood still hold"):
            after.upgrade()
    else:
        with pytest.raises(DataLossRefused) as refused:
            after.upgrade()
        assert refused.value.exit_code == 3
        assert str(refused.value).startswith(
            "The upgrade refuses to run: narrowing users.mood would delete 1 values the new "
            f"type no longer holds (angry) (revision {made.revision}); pass --accept-data-loss"
        )
    assert before.current() == at
    assert str(_scalar(fresh_url, "SELECT CAST(mood AS CHAR(10)) FROM users")).strip() == "angry"

    run_with_connection(
        make_url(fresh_url),
        lambda c: (c.execute(text("UPDATE users SET mood = 'sad'")), c.commit()),
    )
    after.upgrade()  # the cast keeps every value a row holds: nothing to accept
    assert before.current() != at
    assert str(_scalar(fresh_url, "SELECT CAST(mood AS CHAR(10)) FROM users")).strip() == "sad"


def test_a_moved_column_is_a_manual_step_with_one_sentence(fresh_url: str, tmp_path: Path) -> None:
    before = _migrations(_users, fresh_url, tmp_path)
    before.init()
    before.make("users")
    before.upgrade()

    made = _migrations(_profiles, fresh_url, tmp_path).make("profiles")

    assert made.warnings == (
        "users.phone looks moved to the new table profiles, which cannot be written safely: the "
        "revision keeps the old column and marks a MANUAL STEP where you copy the data and drop it.",
    )
    upgrade = Path(made.path).read_text().split("def downgrade")[0]
    assert "# MANUAL STEP: users.phone looks moved to profiles.phone." in upgrade
    assert "\n    op.drop_column" not in upgrade and "batch_op.drop_column" not in upgrade


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_check_enum_losing_a_value_stops_at_the_check(fresh_url: str, tmp_path: Path) -> None:
    """SQLite's enum is a CHECK constraint: the guard has no cast to count, the batch copy
    meets the new CHECK and the whole upgrade is rolled back; without such a row it passes."""
    before = _migrations(_mood(("happy", "sad", "angry"), native=False), fresh_url, tmp_path)
    before.init()
    before.make("moods")
    before.upgrade()
    _insert_mood(fresh_url, "angry")
    after = _migrations(_mood(("happy", "sad"), native=False), fresh_url, tmp_path)
    after.make("no more anger")
    at = before.current()

    with pytest.raises(MigrationFailed) as failed:
        after.upgrade()
    assert failed.value.exit_code == 3
    assert "CHECK constraint failed: mood" in str(failed.value)
    assert "the whole upgrade was rolled back and the database is unchanged" in str(failed.value)
    assert before.current() == at
    assert _scalar(fresh_url, "SELECT mood FROM users") == "angry"

    run_with_connection(
        make_url(fresh_url),
        lambda c: (c.execute(text("UPDATE users SET mood = 'sad'")), c.commit()),
    )
    after.upgrade()
    assert before.current() != at
    assert _scalar(fresh_url, "SELECT mood FROM users") == "sad"

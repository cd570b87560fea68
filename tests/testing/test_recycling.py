"""Recycled copies on servers: a copy handed back with its schema unchanged is reset and
handed out again, and must be indistinguishable from a fresh copy; any other is dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.testing.templates import TemplateDatabases
from tests.support.histories import History, new_history, server_for

SERVERS = pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)


def seeded_history(tmp_path: Path) -> History:
    """users/posts/age, an index, and seed rows that move users' id counter to 2."""
    history = new_history(tmp_path).add_good()
    history.add(
        "seed and index",
        """op.create_index("ix_users_name", "users", ["name"])
    op.execute("INSERT INTO users (email, name) VALUES ('seed@example.com', 'Seed')")
    op.execute("INSERT INTO users (email, name) VALUES ('gone@example.com', 'Gone')")
    op.execute("DELETE FROM users WHERE email = 'gone@example.com'")""",
    )
    return history


def run(url: URL | str, *statements: str) -> list[Any]:
    """Execute the statements in one transaction; the rows of the last one, if it has any."""

    def work(connection: Connection) -> list[Any]:
        result = None
        for statement in statements:
            result = connection.execute(text(statement))
        return (
            [tuple(r) for r in result.all()] if result is not None and result.returns_rows else []
        )

    return run_with_connection(make_url(url), work)


def state(url: URL | str) -> dict[str, Any]:
    """What a test sees of a copy: rows, version, and the ids the next inserts get (this
    uses the copy up: compare states taken the same way)."""
    seen = {
        "users": run(url, "SELECT id, email, name, age FROM users ORDER BY id"),
        "posts": run(url, "SELECT COUNT(*) FROM posts"),
        "version": run(url, "SELECT version_num FROM alembic_version"),
    }
    run(url, "INSERT INTO users (email) VALUES ('probe@example.com')")
    seen["next user id"] = run(url, "SELECT id FROM users WHERE email = 'probe@example.com'")
    run(url, "INSERT INTO posts (title, published, user_id) VALUES ('p', true, 1)")
    seen["next post id"] = run(url, "SELECT MAX(id) FROM posts")
    return seen


def sessions_on(dbs: TemplateDatabases, name: str) -> int:
    if dbs.dialect.name == "postgresql":
        sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :name"
    else:
        sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = :name"
    return int(dbs.store.scalars(sql, name=name)[0])  # type: ignore[attr-defined]


@pytest.fixture
def templates(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[TemplateDatabases]:
    ahead = getattr(request, "param", 0)
    history = seeded_history(tmp_path)
    dbs = TemplateDatabases(history.migrations(), server_for(backend, tmp_path), ahead=ahead)
    try:
        yield dbs
    finally:
        dbs.discard()


def hand_back(dbs: TemplateDatabases, url: URL) -> None:
    dbs.drop(url, wait=dbs.ahead == 0)
    if dbs._worker is not None:  # wait until the background connection has dealt with it
        with dbs._worker.changed:
            while dbs._worker.returns or dbs._worker.drops:
                dbs._worker.changed.wait(0.05)


@SERVERS
@pytest.mark.parametrize("templates", [0, 1], ids=["in-line", "background"], indirect=True)
def test_a_used_copy_comes_back_as_a_fresh_one(templates: TemplateDatabases) -> None:
    dbs = templates
    first = dbs.create()
    fresh = state(first)
    assert fresh["users"] == [(1, "seed@example.com", "Seed", None)]
    assert fresh["next user id"] == [(3,)]  # the migrations used ids 1 and 2
    # A test that writes everywhere, moves every counter, changes the seed row.
    run(
        first,
        "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')",
        "INSERT INTO posts (title, published, user_id) VALUES ('t', false, 1)",
        "UPDATE users SET name = 'Changed' WHERE id = 1",
        "DELETE FROM alembic_version",
    )
    hand_back(dbs, first)
    # In the background a copy is also made ahead: the recycled one is one of the next two.
    taken = [dbs.create() for _ in range(1 + dbs.ahead)]
    again = next(url for url in taken if url.database == first.database)  # not copied again
    assert state(again) == fresh


@SERVERS
@pytest.mark.parametrize(
    "change",
    ["add a column", "create a table", "drop an index", "change a default"],
)
def test_a_copy_whose_schema_changed_is_dropped(
    templates: TemplateDatabases, backend: str, change: str
) -> None:
    dbs = templates
    ddl = {
        "add a column": "ALTER TABLE users ADD COLUMN extra INTEGER",
        "create a table": "CREATE TABLE scratch (id INTEGER PRIMARY KEY)",
        "drop an index": (
            "DROP INDEX ix_users_name"
            if backend == "postgres"
            else "DROP INDEX ix_users_name ON users"
        ),
        "change a default": "ALTER TABLE users ALTER COLUMN age SET DEFAULT 3",
    }[change]
    used = dbs.create()
    fresh = state(used)
    run(used, ddl)
    hand_back(dbs, used)
    assert used.database not in dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_")
    another = dbs.create()
    assert another.database != used.database
    assert state(another) == fresh


@SERVERS
def test_sessions_left_open_are_ended_before_the_reset(templates: TemplateDatabases) -> None:
    dbs = templates
    url = dbs.create()
    fresh = state(url)
    engine = create_engine(url)
    idle = engine.connect()  # committed, then left open
    idle.execute(text("INSERT INTO users (email) VALUES ('idle@example.com')"))
    idle.commit()
    busy = engine.connect()  # inside a transaction that holds row locks
    busy.execute(text("INSERT INTO users (email) VALUES ('busy@example.com')"))
    busy.execute(text("UPDATE users SET name = 'Locked' WHERE id = 1"))
    try:
        hand_back(dbs, url)
        again = dbs.create()
        assert again.database == url.database
        assert sessions_on(dbs, url.database or "") == 0
        assert state(again) == fresh
    finally:
        for connection in (idle, busy):
            with suppress(Exception):  # the server ended them
                connection.close()
        engine.dispose()


@SERVERS
def test_without_recycling_every_copy_is_dropped(backend: str, tmp_path: Path) -> None:
    history = seeded_history(tmp_path)
    with TemplateDatabases(
        history.migrations(), server_for(backend, tmp_path), recycle=False
    ) as dbs:
        try:
            first = dbs.create()
            dbs.drop(first)
            assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
            assert dbs.create().database != first.database
        finally:
            dbs.discard()


@SERVERS
def test_copies_kept_for_recycling_are_dropped_at_close(backend: str, tmp_path: Path) -> None:
    history = seeded_history(tmp_path)
    dbs = TemplateDatabases(history.migrations(), server_for(backend, tmp_path), ahead=1)
    try:
        urls = [dbs.create() for _ in range(3)]
        for url in urls:
            dbs.drop(url, wait=False)
        dbs.close()
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []
    finally:
        dbs.discard()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_copies_are_never_recycled(backend: str, tmp_path: Path) -> None:
    history = seeded_history(tmp_path)
    with TemplateDatabases(history.migrations(), server_for(backend, tmp_path)) as dbs:
        assert not dbs.recycle  # a file copy costs less than a reset
        first = dbs.create()
        dbs.drop(first)
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []


@SERVERS
def test_a_comment_is_a_schema_change_too(templates: TemplateDatabases, backend: str) -> None:
    dbs = templates
    used = dbs.create()
    if backend == "postgres":
        run(used, "COMMENT ON TABLE users IS 'changed by a test'")
    else:
        run(used, "ALTER TABLE users COMMENT = 'changed by a test'")
    hand_back(dbs, used)
    assert used.database not in dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_")


PLUGIN_TEST = """
def test_the_option_reaches_the_templates(migrate_templates, migrated_url):
    assert migrate_templates.recycle is {expected}
"""


@SERVERS
@pytest.mark.parametrize("option", [[], ["--migrate-no-recycle"]], ids=["default", "off"])
def test_the_plugin_recycles_unless_told_not_to(
    backend: str, tmp_path: Path, option: list[str]
) -> None:
    history = seeded_history(tmp_path)
    server = server_for(backend, tmp_path)
    (history.root / "test_option.py").write_text(PLUGIN_TEST.format(expected=not option))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *option],
        cwd=history.root,
        env={**os.environ, "FASTAPI_ALEMBIC_TEST_URL": server},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dbs = TemplateDatabases(history.migrations(), server)
    try:
        assert dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_") == []  # recycled or not, none is left
    finally:
        dbs.discard()


@SERVERS
def test_handing_a_copy_back_twice_does_not_hand_it_out_twice(
    templates: TemplateDatabases,
) -> None:
    dbs = templates
    url = dbs.create()
    dbs.drop(url)
    dbs.drop(url)  # a test that handed it back itself, then the fixture's teardown
    first, second = dbs.create(), dbs.create()
    assert first.database != second.database
    assert url.database in {first.database, second.database}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    "ddl",
    [
        "ALTER TABLE users ADD COLUMN extra INTEGER",
        "DROP INDEX ix_users_name",
        "COMMENT ON TABLE posts IS 'changed'",
        "ALTER TABLE users ALTER COLUMN age SET DEFAULT 3",
    ],
)
def test_the_quick_catalog_check_sees_every_change(templates: TemplateDatabases, ddl: str) -> None:
    from fastapi_alembic.testing.stores.postgresql_catalog import QUICK_CHECK_SQL

    dbs = templates
    url = dbs.create()
    plan = dbs.store._plans[dbs.template()]  # type: ignore[attr-defined]
    assert plan is not None

    def quick() -> tuple[str, bool]:
        found = run(
            url, f"SELECT * FROM ({QUICK_CHECK_SQL}) AS q".replace(":since", str(plan.since))
        )
        return found[0][0], found[0][1]

    # Rows written and sequences moved are no schema change: the full fingerprint is skipped.
    run(url, "INSERT INTO users (email) VALUES ('a@example.com')")
    assert quick() == (plan.counts, False)
    run(url, ddl)
    assert quick() != (plan.counts, False)
    hand_back(dbs, url)
    assert url.database not in dbs.store.names(f"{dbs.prefix}_c_{dbs.app}_")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_seed_rows_a_test_left_alone_are_not_written_again(templates: TemplateDatabases) -> None:
    dbs = templates
    used = dbs.create()
    seeds = "SELECT xmin::text, * FROM users ORDER BY id"
    before = run(used, seeds)
    run(used, "INSERT INTO posts (title, published, user_id) VALUES ('t', false, 1)")
    hand_back(dbs, used)
    again = dbs.create()
    assert again.database == used.database
    assert run(again, "SELECT count(*) FROM posts") == [(0,)]
    assert run(again, seeds) == before  # the same row versions: not deleted and inserted
    # A seed row the test changed is put back (as a new row version).
    run(again, "UPDATE users SET name = 'Changed' WHERE id = 1")
    hand_back(dbs, again)
    third = dbs.create()
    assert [row[1:] for row in run(third, seeds)] == [row[1:] for row in before]


ENGINE_TESTS = """
import pytest
from sqlalchemy import text


@pytest.mark.parametrize("n", range(8))
def test_a_recycled_copy_comes_with_its_engine(migrated_engine, n):
    migrated_engine.uses = getattr(migrated_engine, "uses", 0) + 1
    with migrated_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM posts")) == 0
        connection.execute(text("INSERT INTO posts (title, published, user_id) VALUES ('t', false, 1)"))
        connection.commit()
    with open("engines.txt", "a") as seen:
        seen.write(f"{{migrated_engine.url.database}} {{migrated_engine.uses}}\\n")
"""


@SERVERS
def test_the_plugin_keeps_an_engine_per_recycled_copy(backend: str, tmp_path: Path) -> None:
    history = seeded_history(tmp_path)
    server = server_for(backend, tmp_path)
    (history.root / "test_engines.py").write_text(ENGINE_TESTS.format())
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=history.root,
        env={**os.environ, "FASTAPI_ALEMBIC_TEST_URL": server},
        capture_output=True,
        text=True,
        timeout=180,
    )
    dbs = TemplateDatabases(history.migrations(), server)
    dbs.discard()
    assert done.returncode == 0, done.stdout + done.stderr
    seen = [line.split() for line in (history.root / "engines.txt").read_text().splitlines()]
    # Every copy handed out again came with the engine of its earlier tests.
    uses: dict[str, int] = {}
    for name, count in seen:
        uses[name] = uses.get(name, 0) + 1
        assert int(count) == uses[name], seen
    assert max(uses.values()) >= 2, seen  # eight tests on a few copies: some came back

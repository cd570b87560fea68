"""On SQLite every wait for another writer ends within a second of lock_wait: the reads a verb
makes before it holds the migration lock wait for a writer's lock too, and their busy waits
count against the same lock_wait instead of adding up (5 s each by sqlite3's default)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.helpers import Project, assert_clean_failure, head_of, snapshot, write_revision

pytestmark = pytest.mark.sqlite

#: Another process writing to the database: it takes SQLite's exclusive lock (as a migration
#: rewriting a large table does once its changes outgrow the cache) and, as a migrator, the
#: migration lock's file too.
WRITER = """
    import fcntl, sqlite3, sys, time
    database, lock_file = sys.argv[1], sys.argv[2]
    if lock_file:
        held = open(lock_file, "a+")
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        held.write("a migrator in another process")
        held.flush()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    connection.execute("DELETE FROM votes")
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    assert made.cli("upgrade").exit_code == 0
    write_revision(made, "5ec0nd000001", head_of(made), body="op.execute('DELETE FROM posts')")
    return made


@contextmanager
def writing(project: Project, *, migrator: bool) -> Iterator[None]:
    database = str(project.root / "app.db")
    lock_file = f"{database}.alembic_version.lock" if migrator else ""
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), database, lock_file],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        yield
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.parametrize("migrator", [True, False], ids=["a migrator", "the app"])
def test_a_lock_wait_of_2_s_ends_within_a_second_of_it(project: Project, migrator: bool) -> None:
    before = snapshot(project.url)
    with writing(project, migrator=migrator):
        started = time.monotonic()
        result = project.cli("upgrade", "--lock-wait", "2")
        waited = time.monotonic() - started
    assert_clean_failure(result, 3, "Gave up waiting", "after 2 s")
    assert "alembic_version table" not in result.stderr  # not a question of rights
    assert waited < 3, f"gave up after {waited:.1f} s"
    assert snapshot(project.url) == before
    # Once the writer is gone the same command goes through.
    assert project.cli("upgrade", "--lock-wait", "2").exit_code == 0

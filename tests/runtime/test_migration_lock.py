"""The migration lock: migrators of one database take turns, across processes, on every backend.

Processes, not threads: the lock's promise is about separate programs (replicas, workers,
a deploy's release step). A held lock is taken here in the test process with the runtime's own
``migration_lock``, which holds it in a session (or open file) of its own, as another migrator
would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench import concurrent_start
from fastapi_alembic.errors import MigrationLockTimeout
from fastapi_alembic.runtime import LockTarget, migration_lock
from tests.support.helpers import BIN, Project, snapshot, write_revision


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    return made


def _target(project: Project, version_table: str = "alembic_version") -> LockTarget:
    return LockTarget(make_url(project.url), version_table)


def test_a_waiter_says_who_holds_the_lock_then_gives_up(project: Project, backend: str) -> None:
    write_revision(
        project,
        "a00000000001",
        None,
        body="op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))",
    )
    with migration_lock(_target(project), wait_seconds=5):
        waited = project.run("upgrade", "--lock-wait", "1.5")
    assert waited.exit_code == 3, waited.output
    assert "Traceback" not in waited.output
    lines = waited.stderr.strip().splitlines()
    assert lines[0].startswith("Waiting for the migration lock on "), waited.stderr
    # The holder's label, from the lock's row (or file): the process id of the test.
    assert f"held by fastapi-alembic pid {os.getpid()} on " in lines[0], waited.stderr
    assert " since " in lines[0]
    assert lines[-1].startswith("Error: Gave up waiting for the migration lock on "), waited.stderr
    assert "after 1.5 s" in lines[-1] and "lock_wait" in lines[-1]
    assert snapshot(project.url) == (set(), [])  # nothing was done


def test_another_version_table_is_another_lock(project: Project) -> None:
    """Two apps sharing one database (each with its own version table) never wait for each
    other."""
    write_revision(project, "a00000000001", None)
    with migration_lock(_target(project, "other_app_version"), wait_seconds=5):
        done = project.cli("upgrade", "--lock-wait", "1")
    assert done.exit_code == 0, done.output
    assert "Waiting" not in done.output


def test_a_killed_holder_leaves_no_lock_behind(project: Project, backend: str) -> None:
    """kill -9 in the middle of a migration: the next upgrade takes the lock at once."""
    marker = project.root / "inside"
    write_revision(
        project,
        "a00000000001",
        None,
        header="import os, pathlib, time",
        # It hangs before its DDL: MySQL would have committed a CREATE TABLE already.
        body=(
            f"os.environ.get('HANG') and (pathlib.Path({str(marker)!r}).touch(), time.sleep(120)); "
            "op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))"
        ),
    )
    holder = subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade"],
        cwd=project.root,
        env={**os.environ, "DATABASE_URL": project.url, "HANG": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline, "never started"
            time.sleep(0.05)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The holder's session may take a moment to end on the server; far less than the wait.
    after = project.run("upgrade", "--lock-wait", "20", "--json")
    assert after.exit_code == 0, after.output
    assert snapshot(project.url)[1] == ["a00000000001"]
    assert '"a00000000001"' in after.stdout  # the interrupted migration ran, whole, again


def test_concurrent_starters_run_each_migration_once(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """A small run of bench/concurrent_start.py: a few processes upgrading one fresh database
    at once all start, and each migration runs exactly once."""
    bench = concurrent_start
    bench.write_project(tmp_path, 4, 1.0)  # type: ignore[attr-defined]
    trial = bench.run_trial(tmp_path, fresh_url, 3, 4)  # type: ignore[attr-defined]
    assert trial.errors == [], trial
    assert trial.ok(4), trial


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_uvicorn_workers_start_together(fresh_url: str) -> None:
    """The to-do example under `uvicorn --workers 4` on a fresh database: every worker runs
    the lifespan's upgrade, all four start, and the app answers."""
    served = concurrent_start.run_uvicorn_trial(fresh_url)
    assert served.ok(4), served


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_plain_alembic_takes_the_same_lock(project: Project) -> None:
    write_revision(project, "a00000000001", None)
    with migration_lock(_target(project), wait_seconds=5):
        waited = project.run("-x", "lock_wait=1", "upgrade", "head", program="alembic")
    assert waited.exit_code != 0
    assert "Gave up waiting for the migration lock" in waited.output, waited.output
    assert "Traceback" not in waited.output
    assert snapshot(project.url)[1] == []
    assert project.run("upgrade", "head", program="alembic").exit_code == 0
    assert snapshot(project.url)[1] == ["a00000000001"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_lock_wait_setting_is_checked(project: Project) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'lock_wait = "soon"\n')
    refused = project.cli("upgrade")
    assert refused.exit_code == 2
    assert "lock_wait under [tool.fastapi-alembic]" in refused.stderr
    assert "must be a number of seconds" in refused.stderr


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("kill -9 and flock are POSIX")


def test_the_lock_belongs_to_one_database_version_table_and_schema(tmp_path: Path) -> None:
    """On a server the lock is a row per version table (and schema) in the database itself;
    on SQLite a file named by the database file's device and inode, whatever path reaches it."""
    from fastapi_alembic.dialects import for_url
    from fastapi_alembic.runtime.lease import LeaseLock

    server = make_url("postgresql://u@h/app")
    keys = {
        LeaseLock(LockTarget(server, table, schema), for_url(server), 15, "me").owner_key
        for table, schema in [
            ("alembic_version", None),
            ("alembic_version", "tenant_a"),
            ("billing_version", None),
        ]
    }
    assert len(keys) == 3
    database = tmp_path / "app.db"
    database.touch()
    (tmp_path / "link.db").symlink_to(database)
    os.link(database, tmp_path / "hard.db")
    sqlite = for_url(make_url("sqlite://"))

    def lock_file(path: str, table: str = "alembic_version", schema: str | None = None) -> Path:
        found = sqlite.lock_file(make_url(f"sqlite:///{path}"), schema, table)
        assert found is not None
        return found

    same = {lock_file(str(tmp_path / name)) for name in ("app.db", "link.db", "hard.db")}
    assert len(same) == 1
    assert lock_file(str(database), "billing_version") not in same
    other = tmp_path / "other.db"
    other.touch()
    assert lock_file(str(other)) not in same


def test_a_lock_wait_ends_within_a_second_of_its_limit(project: Project) -> None:
    """Timed inside the process (no start-up in the figure): the limit is 2 s."""
    with migration_lock(_target(project), wait_seconds=30):
        started = time.monotonic()
        with (
            pytest.raises(MigrationLockTimeout, match="after 2 s"),
            migration_lock(_target(project), wait_seconds=2, notify=lambda _: None),
        ):
            pass
        waited = time.monotonic() - started
    assert 2 <= waited < 3, waited


def test_retries_wait_longer_each_time() -> None:
    from fastapi_alembic.runtime.timeouts import pause_before_retry

    assert [pause_before_retry(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_waiter_is_heard_when_env_py_configures_logging_from_alembic_ini(
    project: Project,
) -> None:
    # As Alembic's own templates do: fileConfig disables every logger alembic.ini does not name.
    env_py = project.root / "migrations" / "env.py"
    env_py.write_text(
        "from logging.config import fileConfig\n"
        "from alembic import context\n"
        "fileConfig(context.config.config_file_name)\n" + env_py.read_text()
    )
    write_revision(project, "a00000000001", None)
    with migration_lock(_target(project), wait_seconds=5):
        waited = project.cli("upgrade", "--lock-wait", "0.5")
    assert waited.exit_code == 3
    # fileConfig replaced the handlers: the warning reaches alembic.ini's console handler.
    assert "Waiting for the migration lock on " in waited.output, waited.output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_waiter_speaks_again_every_few_seconds(
    project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("fastapi_alembic.runtime.lock.REPORT_EVERY_SECONDS", 0.4)
    write_revision(project, "a00000000001", None)
    with migration_lock(_target(project), wait_seconds=5):
        waited = project.cli("upgrade", "--lock-wait", "1.5")
    assert waited.exit_code == 3
    said = [record.getMessage() for record in caplog.records]
    assert said[0].startswith("Waiting for the migration lock on "), said
    assert len(said) >= 3 and all(
        s.startswith("Still waiting for the migration lock") for s in said[1:]
    )
    assert " s: held by fastapi-alembic pid " in said[1]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_make_reads_without_waiting_for_the_lock(project: Project) -> None:
    """make applies nothing: an upgrade holding the lock does not hold it up."""
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "lock_wait = 1\n")
    with migration_lock(_target(project), wait_seconds=5):
        made = project.cli("make", "users and votes")
    assert made.exit_code == 0, made.output
    assert "Waiting" not in made.output
    assert len(list((project.root / "migrations" / "versions").glob("*.py"))) == 1

"""The lifespan under a real `uvicorn app:app`, with uvicorn's own default logging and no -v:
what it logs while migrating (each migration, the lock wait) and how it refuses to start (one
sentence at ERROR, a non-zero exit, no traceback, no database file made by checking)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic.runtime.lock import LockTarget, migration_lock
from tests.support.helpers import BIN, Project, snapshot, write_revision

APP = """\
import os

from fastapi import FastAPI

from fastapi_alembic import Migrations

app = FastAPI(lifespan=Migrations().lifespan(mode=os.environ["LIFESPAN_MODE"]))
"""
REVISIONS = ("a00000000001", "a00000000002", "a00000000003")


@dataclass
class Server:
    """A uvicorn process and the lines of its standard error, with when each came."""

    process: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_for(self, pattern: str, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for moment, line in list(self.lines):
                if re.search(pattern, line):
                    return moment
            if self.process.poll() is not None:
                time.sleep(0.2)  # the reader may still be catching up
                for moment, line in list(self.lines):
                    if re.search(pattern, line):
                        return moment
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not in:\n{self.text}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)


def _serve(project: Project, mode: str, url: str | None = None) -> Server:
    env = {**os.environ, "DATABASE_URL": url or project.url, "LIFESPAN_MODE": mode}
    process = subprocess.Popen(
        [str(BIN / "uvicorn"), "served_app:app", "--port", "0"],
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Server(process)


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    parent = None
    for number, revision in enumerate(REVISIONS, 1):
        body = f"op.create_table('t{number}', sa.Column('id', sa.Integer, primary_key=True))"
        write_revision(made, revision, parent, body=body)
        parent = revision
    (tmp_path / "served_app.py").write_text(APP)
    return made


def _no_traceback(server: Server) -> None:
    assert "Traceback" not in server.text and 'File "' not in server.text, server.text


def test_check_mode_refuses_in_one_sentence_without_a_traceback(project: Project) -> None:
    assert project.cli("upgrade", REVISIONS[0]).exit_code == 0
    before = snapshot(project.url)
    server = _serve(project, "check")
    code = server.process.wait(timeout=60)
    server.wait_for("Application startup failed")
    assert code != 0, server.text
    _no_traceback(server)
    errors = [line for _, line in server.lines if line.startswith("ERROR:")]
    assert len(errors) == 2, server.text
    assert re.fullmatch(
        r"ERROR:    The database at \S+ is 2 revision\(s\) behind head: run "
        r"`fastapi-alembic upgrade` before starting the app\.",
        errors[0],
    ), errors
    assert errors[1] == "ERROR:    Application startup failed. Exiting."
    assert snapshot(project.url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_check_mode_creates_no_database_file(project: Project, tmp_path: Path) -> None:
    missing = tmp_path / "not-yet.db"
    server = _serve(project, "check", url=f"sqlite:///{missing}")
    code = server.process.wait(timeout=60)
    server.wait_for("Application startup failed")
    assert code != 0
    _no_traceback(server)
    server.wait_for(
        rf"^ERROR:    The SQLite database file {re.escape(str(missing))} does not exist"
    )
    assert not missing.exists()
    assert not list(tmp_path.glob("not-yet.db*"))


def test_check_mode_at_head_starts_and_says_so(project: Project) -> None:
    assert project.cli("upgrade").exit_code == 0
    server = _serve(project, "check")
    try:
        server.wait_for(r"^INFO:     The database at \S+ is at head \(a00000000003\)\.$")
        server.wait_for("Application startup complete")
    finally:
        server.stop()
    _no_traceback(server)


def test_upgrade_mode_logs_each_migration_with_its_time(project: Project) -> None:
    server = _serve(project, "upgrade")
    try:
        server.wait_for("Application startup complete")
    finally:
        server.stop()
    _no_traceback(server)
    lines = [line for _, line in server.lines]
    for number, revision in enumerate(REVISIONS, 1):
        message = f"hand written {revision}"
        assert f"INFO:     Applying {number} of 3: {revision} {message}" in lines, server.text
        assert any(
            re.fullmatch(rf"INFO:     Applied {revision} {message} in \d+ ms", line)
            for line in lines
        ), server.text
    assert any(
        re.fullmatch(
            r"INFO:     Migrated: 3 migration\(s\) in \d+ ms; the database is at a00000000003\.",
            line,
        )
        for line in lines
    ), server.text
    assert snapshot(project.url)[1] == ["a00000000003"]


def test_upgrade_mode_logs_the_wait_for_another_migrators_lock(project: Project) -> None:
    """Another migrator holds the lock: the waiting server says so while it waits, then
    migrates once the lock is free."""
    with migration_lock(LockTarget(make_url(project.url)), wait_seconds=10):
        server = _serve(project, "upgrade")
        try:
            server.wait_for(r"^WARNING:  Waiting for the migration lock on \S+ \(alembic_version\)")
            assert server.process.poll() is None
            assert not any("Applying" in line for _, line in server.lines)
        except BaseException:
            server.stop()
            raise
    try:
        server.wait_for("Application startup complete")
    finally:
        server.stop()
    _no_traceback(server)
    assert "INFO:     Applying 1 of 3: a00000000001" in server.text
    assert snapshot(project.url)[1] == ["a00000000003"]

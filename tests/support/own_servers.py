"""Database servers of a test's own, on a free port, for faults the shared servers must never
see: a server killed with SIGKILL and started again. Started and removed by the test's fixture.

The programs come from the distribution (``mariadb-install-db``/``mariadbd``, ``initdb``/
``pg_ctl``). When one is missing the test fails under CI=true and skips loudly elsewhere, as
for an unreachable server (tests/support/backends.py).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseUnreachable
from tests.support.backends import in_ci, missing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_programs(backend: str, *programs: str) -> dict[str, str]:
    found = {name: shutil.which(name) for name in programs}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        reason = f"{', '.join(absent)} not installed"
        missing[f"{backend} (own instance)"] = reason
        if in_ci():
            pytest.fail(f"{backend}: {reason} with CI=true", pytrace=False)
        pytest.skip(f"{backend}: {reason}")
    return {name: str(path) for name, path in found.items()}


def wait_until_answering(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            run_with_connection(make_url(url), lambda c: c.execute(text("SELECT 1")))
            return
        except DatabaseUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class OwnServer:
    """A server process of the test's own: ``url`` reaches its ``database``."""

    url: str
    start_command: list[str]
    folder: Path
    user: str | None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the server's for life
        self.process = subprocess.Popen(
            self._as_user(self.start_command), stdout=log, stderr=log, start_new_session=True
        )
        wait_until_answering(self.url.rsplit("/", 1)[0] + "/" + self.maintenance)

    @property
    def maintenance(self) -> str:
        return "postgres" if self.url.startswith("postgresql") else ""

    def kill(self) -> None:
        """SIGKILL the server, and wait until none of its processes is left."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 30
        while _group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.kill()

    def _as_user(self, command: list[str]) -> list[str]:
        if self.user is None:
            return command
        return ["runuser", "-u", self.user, "--", *command]


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _server_user(name: str) -> str | None:
    """The account to run a server as when the tests run as root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        pytest.fail(f"running as root and there is no {name} account to run the server as")
    return name


@contextlib.contextmanager
def own_mariadb(folder: Path, database: str) -> Iterator[OwnServer]:
    programs = require_programs("mariadb", "mariadb-install-db", "mariadbd")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        [
            programs["mariadb-install-db"],
            "--no-defaults",
            f"--datadir={data}",
            f"--user={user}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    server = OwnServer(
        url=f"mysql+pymysql://root@127.0.0.1:{port}/{database}",
        start_command=[
            programs["mariadbd"],
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={folder / 'mariadb.sock'}",
            f"--pid-file={folder / 'mariadb.pid'}",
            f"--user={user}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
        ],
        folder=folder,
        user=None,
    )
    try:
        server.start()
        run_with_connection(
            make_url(server.url).set(database=""),
            lambda c: c.execute(text(f"CREATE DATABASE `{database}`")),
            autocommit=True,
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def own_postgresql(database: str) -> Iterator[OwnServer]:
    programs = require_programs("postgres", "initdb", "postgres")
    user = _server_user("postgres")
    # Not under pytest's temporary folder: that one is private to the user running the tests,
    # and the server may run as another.
    folder = Path(tempfile.mkdtemp(prefix="fastapi-alembic-pg-"))
    if user is not None:
        shutil.chown(folder, user)
    data = folder / "data"
    init = [programs["initdb"], "-D", str(data), "-U", "postgres", "--auth=trust", "-N"]
    subprocess.run(
        ["runuser", "-u", user, "--", *init] if user else init,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    server = OwnServer(
        url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}",
        start_command=[
            programs["postgres"],
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "shared_buffers=16MB",
        ],
        folder=folder,
        user=user,
    )
    try:
        server.start()
        run_with_connection(
            make_url(server.url).set(database="postgres"),
            lambda c: c.execute(text(f'CREATE DATABASE "{database}"')),
            autocommit=True,
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

"""PgBouncer in front of the test PostgreSQL server: started for a test, stopped after it.

Each ``pgbouncer()`` is a process of its own on a free port, in the pool mode asked for
(transaction, session or statement), reaching every database of the server as the server's
user. Debian's ``pgbouncer`` package provides it; ``.ci/run`` installs it. Without it, tests
that need it fail under CI=true and skip outside CI, named in the run's closing summary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.backends import in_ci, missing, require_server

CONFIG = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = any
pool_mode = {mode}
max_client_conn = 500
default_pool_size = 40
ignore_startup_parameters = extra_float_digits
server_check_delay = 0
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (str(p) for p in (Path("/usr/sbin/pgbouncer"),) if p.is_file()), None
    )


def require_pgbouncer() -> str:
    """The pgbouncer program; fails under CI, skips loudly otherwise, when it is missing."""
    binary = pgbouncer_binary()
    if binary is None:
        reason = "the pgbouncer program is not installed (apt-get install pgbouncer)"
        missing["pgbouncer"] = reason
        if in_ci():
            pytest.fail(f"pgbouncer missing with CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def pgbouncer(mode: str, binary: str | None = None) -> Iterator[str]:
    """A PgBouncer in ``mode`` before the test server; yields the server URL through it
    (the same user and database, PgBouncer's host and port)."""
    binary = binary or require_pgbouncer()
    server = make_url(require_server("postgres"))
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer_"))
    folder.chmod(0o777)  # pgbouncer drops root for the postgres account, which writes here
    listen = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(
        CONFIG.format(
            host=server.host or "127.0.0.1",
            port=server.port or 5432,
            user=server.username or "postgres",
            listen=listen,
            mode=mode,
            folder=folder,
        )
    )
    command = [binary, str(config)]
    if os.geteuid() == 0:  # it refuses to run as root
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(listen, process, folder)
        yield server.set(port=listen).render_as_string(hide_password=False)
    finally:
        process.send_signal(signal.SIGINT)  # pgbouncer's "shut down now"
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = folder / "pgbouncer.log"
            said = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {said[-800:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("pgbouncer did not listen within 15 s")

"""Real uvicorn processes on the loopback interface: the demo with two workers signs every
token with one key, and the app started without SECRET_KEY refuses to start."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from social.__main__ import demo_secret_key

APP_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0


class Server:
    """A server process on a free loopback port, in a process group of its own (its workers)."""

    def __init__(self, arguments: list[str], database: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        # SECRET_KEY empty counts as not set, and outranks one in a developer's .env file.
        environment = os.environ | {"SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{database}"}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, *arguments, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=APP_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_serving(self, workers: int = 1) -> None:
        """Until every worker has started (each says so)."""
        deadline = time.monotonic() + TIMEOUT
        while self.output.count("Application startup complete.") < workers:
            assert self.process.poll() is None, self.stop()
            assert time.monotonic() < deadline, f"not serving after {TIMEOUT:.0f} s: {self.stop()}"
            time.sleep(0.2)

    def stop(self) -> str:
        """Stops the server and its workers; what it printed."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._reader.join(timeout=TIMEOUT)
        return self.output


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts; all stopped at its end, whatever happens."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_the_demo_with_two_workers_signs_every_token_with_one_key(
    servers: list[Server], tmp_path: Path
) -> None:
    key_file = tmp_path / "demo-key"
    arguments = ["-m", "social", "--workers", "2", "--secret-key-file", str(key_file)]
    demo = Server(arguments, tmp_path / "social.db")
    servers.append(demo)
    demo.wait_until_serving(workers=2)
    account = {"email": "ada@example.com", "password": "correct horse battery"}
    assert httpx.post(f"{demo.base_url}/users/", json=account).status_code == 201
    form = {"username": account["email"], "password": account["password"]}
    token = httpx.post(f"{demo.base_url}/login", data=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}

    # A new connection for each request, so they are spread over both workers.
    statuses = [
        httpx.get(f"{demo.base_url}/posts/", headers=headers).status_code for _ in range(20)
    ]

    assert statuses == [200] * 20
    assert f"the demo signs tokens with the key kept in {key_file}" in demo.output
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_without_secret_key_uvicorn_stops_with_the_sentence_and_no_database(
    servers: list[Server], tmp_path: Path
) -> None:
    database = tmp_path / "social.db"
    server = Server(["-m", "uvicorn", "social.app:app"], database)
    servers.append(server)

    exit_code = server.process.wait(timeout=TIMEOUT)

    output = server.stop()
    assert exit_code != 0
    assert "MissingSecretKeyError: SECRET_KEY is not set: set it (the same value" in output
    assert "Application startup failed. Exiting." in output
    assert not database.exists()


def test_the_demo_key_is_made_once_and_kept(tmp_path: Path) -> None:
    key_file = tmp_path / "demo-key"

    first, second = demo_secret_key(key_file), demo_secret_key(key_file)

    assert first == second == key_file.read_text().strip()
    assert len(first) >= 32
    assert key_file.stat().st_mode & 0o777 == 0o600

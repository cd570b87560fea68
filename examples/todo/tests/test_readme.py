"""The requests the README shows, run as shown against the app served by `python -m todo`."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

APP_ROOT = Path(__file__).resolve().parents[1]
README = APP_ROOT / "README.md"


def console_block(heading: str) -> list[tuple[str, list[str]]]:
    """The first console block after ``heading``: (command, expected output lines) pairs,
    continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    while lines:
        line = lines.pop(0)
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + lines.pop(0).strip()
            steps.append((command, []))
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """The app on a new SQLite file, listening on a free port, until the test ends."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "todo", "--port", str(port)],
        cwd=APP_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, "the app exited before serving"
                assert time.monotonic() < deadline, "the app did not answer within 60 s"
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def normalised(text: str) -> str:
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>", text)
    return re.sub(r"\d{4}-\d\d-\d\d", "<date>", text)


def test_the_try_it_requests_answer_as_shown(served: int) -> None:
    steps = console_block("## Try it")
    assert len(steps) == 3
    host = f"127.0.0.1:{served}"
    script = "set -e\n" + "\n".join(
        f"{command.replace('localhost:8000', host)}\necho '<<end>>'" for command, _ in steps
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    outputs = done.stdout.replace(host, "localhost:8000").split("<<end>>\n")
    week_ahead = str(date.today() + timedelta(days=7))
    assert f'"due_date":"{week_ahead}"' in outputs[1]
    for (command, expected), output in zip(steps, outputs, strict=False):
        shown = [normalised(line) for line in expected]
        got = [normalised(line.rstrip("\r")) for line in output.splitlines()]
        # What the README shows appears in order (curl -i prints more headers than it shows).
        position = 0
        for line in shown:
            assert line in got[position:], f"{command!r} printed no {line!r}:\n{output}"
            position = got.index(line, position) + 1

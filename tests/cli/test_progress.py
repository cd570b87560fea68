"""upgrade and downgrade name the migration running while it runs: a live line in a terminal,
a line per start and end when piped, JSON Lines events with --json. Each test reads the
output of a real process while one migration of forty sleeps, and sees it named before it ends.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.helpers import BIN, Project, snapshot, write_revision

COUNT = 40
SLEEPER = 20  # its place in the history, from 1
SLEEP_SECONDS = 2.0


def _revision(index: int) -> str:
    return f"c0ffee{index:06d}"


@pytest.fixture
def forty(fresh_url: str, tmp_path: Path) -> Project:
    """Forty revisions, each creating a table; the twentieth also sleeps two seconds."""
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    parent = None
    for index in range(1, COUNT + 1):
        body = f"op.create_table('t{index}', sa.Column('id', sa.Integer, primary_key=True))"
        if index == SLEEPER:
            body += f"; __import__('time').sleep({SLEEP_SECONDS})"
        write_revision(project, _revision(index), parent, body=body)
        parent = _revision(index)
    return project


def _spawn(project: Project, *args: str, **streams: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": project.url, "COLUMNS": "200"}
    env.pop("FORCE_COLOR", None)
    return subprocess.Popen(
        [str(BIN / "fastapi-alembic"), *args], cwd=project.root, env=env, **streams
    )


def _lines_as_they_come(process: subprocess.Popen[bytes]) -> list[tuple[float, str]]:
    """Each line of the process's standard output with the moment it was read."""
    assert process.stdout is not None
    seen = []
    for raw in iter(process.stdout.readline, b""):
        seen.append((time.monotonic(), raw.decode().rstrip("\n")))
    process.wait(timeout=60)
    return seen


def _at(seen: list[tuple[float, str]], pattern: str) -> tuple[int, float]:
    for position, (moment, line) in enumerate(seen):
        if re.search(pattern, line):
            return position, moment
    raise AssertionError(f"{pattern!r} not in {[line for _, line in seen]}")


def test_piped_output_names_each_migration_as_it_starts(forty: Project) -> None:
    process = _spawn(forty, "upgrade", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = _lines_as_they_come(process)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    sleeper = _revision(SLEEPER)
    started, started_at = _at(seen, rf"^Applying {SLEEPER} of {COUNT}: {sleeper}  hand written")
    ended, ended_at = _at(seen, rf"^  ↑ {sleeper}  hand written {sleeper}  \d+ ms$")
    # The start was on the pipe while the migration slept, not written with its end.
    assert ended == started + 1
    assert ended_at - started_at >= SLEEP_SECONDS * 0.8
    lines = [line for _, line in seen]
    assert lines[0] == f"Applying 1 of {COUNT}: {_revision(1)}  hand written {_revision(1)}"
    assert sum(line.startswith("Applying ") for line in lines) == COUNT
    assert sum(line.startswith("  ↑ ") for line in lines) == COUNT
    assert lines[-1].startswith(f"Done: {COUNT} migration(s) in ")
    assert snapshot(forty.url)[1] == [_revision(COUNT)]
    # Back down: reverting, counted the same way.
    down = forty.run("downgrade", "-2")
    assert down.exit_code == 0, down.output
    assert down.stdout.splitlines()[:2] == [
        f"Reverting 1 of 2: {_revision(COUNT)}  hand written {_revision(COUNT)}",
        f"  ↓ {_revision(COUNT)}  hand written {_revision(COUNT)}  "
        + down.stdout.splitlines()[1].rsplit("  ", 1)[1],
    ]


def test_json_lines_events_as_they_happen(forty: Project) -> None:
    process = _spawn(forty, "upgrade", "--json", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = _lines_as_they_come(process)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    events = [(moment, json.loads(line)) for moment, line in seen]
    kinds = [event["event"] for _, event in events]
    assert kinds == ["started", "finished"] * COUNT + ["result"]
    sleeper = _revision(SLEEPER)
    (started_at, started), (ended_at, ended) = (
        (moment, event) for moment, event in events if event.get("revision") == sleeper
    )
    assert started == {
        "event": "started",
        "revision": sleeper,
        "message": f"hand written {sleeper}",
        "direction": "up",
        "index": SLEEPER,
        "total": COUNT,
    }
    assert ended["event"] == "finished" and ended["seconds"] >= SLEEP_SECONDS * 0.9
    assert (ended["index"], ended["total"]) == (SLEEPER, COUNT)
    assert ended_at - started_at >= SLEEP_SECONDS * 0.8
    result = events[-1][1]
    assert result["after"] == [_revision(COUNT)]
    assert [step["revision"] for step in result["steps"]] == [
        _revision(i) for i in range(1, COUNT + 1)
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_terminal_shows_a_live_line_with_the_running_migration(forty: Project) -> None:
    """Through a pseudo-terminal: while the sleeper runs, the live line says which of how
    many it is, its id and message, and its time so far; it is gone at the end."""
    leader, follower = pty.openpty()
    process = _spawn(forty, "upgrade", stdout=follower, stderr=follower)
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 60
    sleeper = _revision(SLEEPER)
    live = re.compile(
        rf"Applying {SLEEPER} of {COUNT}: {sleeper}  hand written {sleeper}\S*\s+(\d+) ms".encode()
    )
    seen_running: set[int] = set()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if process.poll() is None and f"↑ {sleeper}".encode() not in screen:
                seen_running.update(int(m) for m in live.findall(screen))
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(leader)
    assert process.returncode == 0, screen.decode(errors="replace")[-2000:]
    # The clock of the running migration was shown ticking while it ran.
    assert any(ms >= 1000 for ms in seen_running), sorted(seen_running)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode(errors="replace"))
    assert f"↑ {sleeper}  hand written {sleeper}" in text
    assert f"Done: {COUNT} migration(s) in " in text

"""The `fastapi-alembic` process as a shell sees it: exit codes, every line of output through a
pipe, exit handlers run, and the project's own threads waited for, however the process ends
(cli/__init__.py ends it without tearing down every object)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fastapi_alembic.cli import main
from tests.support.helpers import Project

COMMAND = [sys.executable, "-c", "from fastapi_alembic.cli import main; main()"]


def _run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": project.url, "NO_COLOR": "1"}
    return subprocess.run(
        [*COMMAND, *args],
        cwd=project.root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _project(tmp_path: Path, revisions: int) -> Project:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    for number in range(revisions):
        assert project.cli("make", "--empty", f"step {number}").exit_code == 0
    return project


def test_an_upgrade_prints_every_line_through_a_pipe_and_exits_0(tmp_path: Path) -> None:
    project = _project(tmp_path, 3)
    done = _run(project, "upgrade")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("Applying") for line in lines) == 3
    assert lines[-1].startswith("Done: 3 migration(s)")


def test_exit_codes_are_the_documented_ones(tmp_path: Path) -> None:
    project = _project(tmp_path, 1)
    assert _run(project, "upgrade", "nosuchrevision").returncode == 2
    assert _run(project, "no-such-verb").returncode == 2
    assert _run(project, "--version").returncode == 0


def _with_upgrade_body(project: Project, body: str) -> None:
    revision = next((project.root / "migrations" / "versions").glob("*.py"))
    source = revision.read_text(encoding="utf-8")
    indented = textwrap.indent(textwrap.dedent(body), "    ")
    revision.write_text(
        source.replace("def upgrade() -> None:\n", f"def upgrade() -> None:\n{indented}", 1),
        encoding="utf-8",
    )


def test_exit_handlers_run(tmp_path: Path) -> None:
    """A revision that registers an exit handler (as a coverage tool or a log does): it runs."""
    project = _project(tmp_path, 1)
    marker = tmp_path / "handler-ran"
    _with_upgrade_body(
        project,
        f"""
        import atexit, pathlib

        atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text("ran"))
        """,
    )
    done = _run(project, "upgrade")
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran"


def test_the_projects_threads_are_waited_for(tmp_path: Path) -> None:
    """A revision that starts a thread of its own: the process waits for it, as Python does."""
    project = _project(tmp_path, 1)
    finished = tmp_path / "thread-finished"
    _with_upgrade_body(
        project,
        f"""
        import pathlib, threading, time

        def later():
            time.sleep(0.5)
            pathlib.Path({str(finished)!r}).write_text("done")

        threading.Thread(target=later).start()
        """,
    )
    done = _run(project, "upgrade")
    assert done.returncode == 0, done.stderr
    assert finished.read_text() == "done"


def test_main_called_from_code_raises_system_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that calls main() and goes on (a test, a wrapper) gets SystemExit, as from any
    Click program: only the command's own script ends the process directly."""
    monkeypatch.setattr(sys, "argv", ["fastapi-alembic", "--version"])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 0

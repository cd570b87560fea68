"""Revision files that try to end the process: sys.exit, raise SystemExit, os._exit and
KeyboardInterrupt, while a file loads or inside upgrade()/downgrade(). Every verb ends with one
sentence naming the file, exit 2, and the database as it was (on MySQL, where DDL commits, the
sentence says what stays)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastapi_alembic import Migrations, RevisionExited
from fastapi_alembic.exits import contained
from tests.support.helpers import BIN, Project, assert_clean_failure, snapshot, write_revision

CREATE = 'op.create_table("things", sa.Column("id", sa.Integer(), primary_key=True))'
#: What the revision does, what the sentence says it did, and whether it must run in its own
#: process (os._exit and KeyboardInterrupt would take a test process down without the fix).
EXITS = {
    "sys.exit(0)": ("import sys; sys.exit(0)", "calls sys.exit(0)", False),
    "sys.exit(1)": ("import sys; sys.exit(1)", "calls sys.exit(1)", False),
    "SystemExit('bye')": ('raise SystemExit("bye")', "raises SystemExit('bye')", False),
    "os._exit(0)": ("import os; os._exit(0)", "calls os._exit(0)", True),
    "KeyboardInterrupt": ("raise KeyboardInterrupt", "raises KeyboardInterrupt", True),
}
# Every verb that loads the revision files, with its arguments.
LOADING_VERBS = {
    "upgrade": ["upgrade"],
    "upgrade --sql": ["upgrade", "--sql", "base:head"],
    "downgrade": ["downgrade", "base"],
    "status": ["status"],
    "check": ["check"],
    "lint": ["lint"],
    "test": ["test"],
    "history": ["history"],
    "heads": ["heads"],
    "current": ["current"],
    "show": ["show", "aaaa00000001"],
    "stamp": ["stamp", "head"],
    "make": ["make", "more"],
    "merge": ["merge", "-m", "join"],
}


def run(project: Project, kind: str, *args: str):  # type: ignore[no-untyped-def]
    """A verb in a process of its own when the kind could end the test's, else in-process."""
    return project.run(*args) if EXITS[kind][2] else project.cli(*args)


def exiting_at_load(project: Project, kind: str) -> Path:
    return write_revision(project, "bbbb00000002", "aaaa00000001", header=EXITS[kind][0])


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    assert made.cli("upgrade").exit_code == 0
    return made


# Every verb with every kind that can run in-process; a slice of verbs for those that need a
# process each (the same code path: the revision map is built in one place).
LOADING_CASES = [
    (kind, verb)
    for kind in EXITS
    for verb in LOADING_VERBS
    if not EXITS[kind][2] or verb in ("upgrade", "check", "lint", "test", "status", "heads")
]


@pytest.mark.parametrize(("kind", "verb"), LOADING_CASES)
def test_a_file_that_exits_while_it_loads_stops_every_verb(
    sqlite_project: Project, kind: str, verb: str
) -> None:
    path = exiting_at_load(sqlite_project, kind)
    before = snapshot(sqlite_project.url)
    result = run(sqlite_project, kind, *LOADING_VERBS[verb])
    assert_clean_failure(result, 2, str(path), EXITS[kind][1], "when it is loaded")
    assert snapshot(sqlite_project.url) == before
    assert not (sqlite_project.versions / "more.py").exists()
    assert len(sqlite_project.revision_files()) == 2  # make and merge wrote nothing


@pytest.mark.parametrize("kind", ["sys.exit(0)", "os._exit(0)"])  # the rest: on SQLite above
def test_a_file_that_exits_while_it_loads_on_a_server(
    fresh_url: str, tmp_path: Path, kind: str
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    write_revision(project, "aaaa00000001", None, body=CREATE)
    path = exiting_at_load(project, kind)
    for verb in ("upgrade", "status", "downgrade"):
        result = run(project, kind, *LOADING_VERBS[verb])
        assert_clean_failure(result, 2, str(path), EXITS[kind][1])
    assert snapshot(fresh_url) == (set(), [])


@pytest.mark.parametrize("kind", EXITS)
def test_an_upgrade_that_exits_applies_nothing(
    fresh_url: str, backend: str, tmp_path: Path, kind: str
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    write_revision(project, "aaaa00000001", None, body=CREATE)
    path = write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body=f'op.create_table("more", sa.Column("id", sa.Integer())); {EXITS[kind][0]}',
    )
    result = run(project, kind, "upgrade")
    assert_clean_failure(result, 2, str(path), f"{EXITS[kind][1]} in upgrade()")
    # MySQL: the data-loss guard reads the revisions before any runs, and stops there.
    assert (
        "nothing was run" in result.stderr if backend == "mysql" else "rolled back" in result.stderr
    )
    assert snapshot(fresh_url) == (set(), [])
    if backend == "mysql":
        # Not read ahead (an accepted loss needs no reading): DDL commits as it goes, the
        # first migration stays, the second is partly applied, and the sentence says so.
        accepted = run(project, kind, "upgrade", "--accept-data-loss")
        assert_clean_failure(
            accepted, 2, "Migration bbbb00000002", "the migrations before it stay applied"
        )
        tables, versions = snapshot(fresh_url)
        assert versions == ["aaaa00000001"] and {"things", "more"} <= tables


@pytest.mark.parametrize("kind", EXITS)
def test_a_downgrade_that_exits_keeps_the_revision(
    fresh_url: str, backend: str, tmp_path: Path, kind: str
) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    path = write_revision(project, "aaaa00000001", None, body=CREATE)
    path.write_text(
        path.read_text().replace(
            "def downgrade():\n    pass",
            f'def downgrade():\n    op.drop_table("things"); {EXITS[kind][0]}',
        )
    )
    assert project.cli("upgrade").exit_code == 0
    result = run(project, kind, "downgrade", "base")
    assert_clean_failure(result, 2, str(path), f"{EXITS[kind][1]} in downgrade()")
    tables, versions = snapshot(fresh_url)
    assert versions == ["aaaa00000001"]
    assert ("things" in tables) is (backend != "mysql")


@pytest.mark.parametrize("verb", ["check", "test", "lint"])
@pytest.mark.parametrize("kind", EXITS)
def test_check_test_and_lint_stop_on_an_upgrade_that_exits(
    sqlite_project: Project, kind: str, verb: str
) -> None:
    path = write_revision(
        sqlite_project, "bbbb00000002", "aaaa00000001", body=f"pass; {EXITS[kind][0]}"
    )
    result = run(sqlite_project, kind, verb)
    assert_clean_failure(result, 2, str(path), f"{EXITS[kind][1]} in upgrade()")


def test_the_python_api_raises_an_exported_error(sqlite_project: Project) -> None:
    write_revision(sqlite_project, "bbbb00000002", "aaaa00000001", body="import sys; sys.exit(0)")
    migrations = Migrations(url=sqlite_project.url, root=sqlite_project.root)
    with pytest.raises(RevisionExited, match=r"calls sys.exit\(0\) in upgrade\(\)") as raised:
        migrations.upgrade()
    assert raised.value.exit_code == 2
    assert migrations.current() == ("aaaa00000001",)


def test_a_real_ctrl_c_is_still_an_interruption(sqlite_project: Project) -> None:
    write_revision(
        sqlite_project, "bbbb00000002", "aaaa00000001", body="import time; time.sleep(60)"
    )
    started = subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade"],
        cwd=sqlite_project.root,
        env={**os.environ, "DATABASE_URL": sqlite_project.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(5)  # started, and inside the migration's sleep (either way Ctrl-C is 130)
    started.send_signal(signal.SIGINT)
    _out, err = started.communicate(timeout=30)
    assert started.returncode == 130, err
    assert err.strip() == "Error: Interrupted."
    assert snapshot(sqlite_project.url)[1] == ["aaaa00000001"]


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_os_exit_in_a_forked_child_still_exits() -> None:
    """Only the process and thread running revision code have os._exit replaced."""
    with contained(lambda how, _error: how):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child
            os._exit(7)
        _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 7
    assert os._exit.__module__ in ("posix", "nt")  # put back once the region is left


def test_os_exit_bound_at_load_time_is_caught_later_too(sqlite_project: Project) -> None:
    write_revision(
        sqlite_project,
        "bbbb00000002",
        "aaaa00000001",
        header="from os import _exit",
        body="_exit(3)",
    )
    result = sqlite_project.run("upgrade")
    assert_clean_failure(result, 2, "calls os._exit(3) in upgrade()")

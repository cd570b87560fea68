"""A SQLite database that cannot be written (a read-only file system or folder, a read-only
file) and a disk that fills up during the backup ``--accept-data-loss`` makes: one sentence
each, exit 3, the database unchanged, and never a partial backup left behind."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import fastapi_alembic.dialects.sqlite as sqlite_dialect
from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.helpers import Project, assert_clean_failure, snapshot, write_revision

CREATE = (
    'op.create_table("people", sa.Column("id", sa.Integer(), primary_key=True), '
    'sa.Column("note", sa.Text()))'
)


def project_in(folder: Path, root: Path) -> Project:
    """A project in ``root`` whose database is ``folder/app.db``, migrated, with rows."""
    url = f"sqlite:///{folder / 'app.db'}"
    root.mkdir(parents=True, exist_ok=True)
    made = Project.create(root, url)
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    assert made.cli("upgrade").exit_code == 0
    run_with_connection(
        make_url(url),
        lambda c: c.execute(text("INSERT INTO people (id, note) VALUES (1, 'kept'), (2, 'too')")),
    )
    write_revision(made, "bbbb00000002", "aaaa00000001", body='op.drop_column("people", "note")')
    return made


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".before-" in p.name or "partial" in p.name)


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path("/tmp") / f"fa-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)])
        if made.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


CAN_MOUNT = _can_mount()


@contextmanager
def small_file_system(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder``, unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only: remounted read-only when it is a mount of ours (root
    ignores permissions), else by its permissions."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
        return
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


@pytest.fixture
def database_folder(tmp_path: Path) -> Iterator[Path]:
    """Where the database lives: a small file system of its own when we may mount one."""
    folder = tmp_path / "data"
    if os.geteuid() == 0 and not CAN_MOUNT:
        pytest.skip("running as root without the right to mount: a folder cannot be read-only")
    if CAN_MOUNT:
        with small_file_system(folder):
            yield folder
    else:
        folder.mkdir()
        yield folder


@pytest.mark.parametrize(
    "verb",
    [["stamp", "base"], ["stamp", "bbbb00000002"], ["upgrade"], ["downgrade", "base"]],
    ids=" ".join,
)
def test_a_read_only_file_system(database_folder: Path, tmp_path: Path, verb: list[str]) -> None:
    made = project_in(database_folder, tmp_path / "project")
    before = snapshot(made.url)
    with read_only(database_folder):
        result = made.cli(*verb)
    assert_clean_failure(
        result, 3, "Cannot take the migration lock", "cannot be opened for writing"
    )
    assert snapshot(made.url) == before


def test_stamp_on_a_read_only_file(tmp_path: Path) -> None:
    made = project_in(tmp_path, tmp_path)
    read_only_url = f"sqlite:///file:{tmp_path / 'app.db'}?mode=ro&uri=true"
    before = snapshot(made.url)
    result = made.cli("stamp", "base", url=read_only_url)
    assert_clean_failure(result, 3, "refused to record revision 'base'", "readonly database")
    assert snapshot(made.url) == before


def test_a_full_disk_while_backing_up_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = project_in(tmp_path, tmp_path)

    def fill_then_fail(_source: Path, target: Path) -> None:
        target.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4096)  # a start, then no room
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(sqlite_dialect, "copy_database", fill_then_fail)
    before = snapshot(made.url)
    result = made.cli("upgrade", "--accept-data-loss")
    assert_clean_failure(
        result,
        3,
        "Could not back up sqlite:///",
        "No space left on device",
        "the upgrade was rolled back and the database is unchanged",
    )
    assert snapshot(made.url) == before
    assert leftovers(tmp_path) == []
    notes = run_with_connection(
        make_url(made.url), lambda c: c.execute(text("SELECT note FROM people")).scalars().all()
    )
    assert notes == ["kept", "too"]


@pytest.mark.skipif(not CAN_MOUNT, reason="needs the right to mount a small tmpfs")
def test_a_really_full_disk_while_backing_up(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with small_file_system(folder, "1m"):
        made = project_in(folder, tmp_path / "project")
        size = (folder / "app.db").stat().st_size
        free = shutil.disk_usage(folder).free
        (folder / "filler").write_bytes(b"\x00" * (free - size // 2))
        before = snapshot(made.url)
        result = made.cli("upgrade", "--accept-data-loss")
        assert_clean_failure(result, 3, "Could not back up", "the database is unchanged")
        assert snapshot(made.url) == before
        assert leftovers(folder) == []

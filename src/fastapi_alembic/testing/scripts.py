"""What the migration test suite reads from revision files: each unchanged file executed once
while the suite runs, how a revision is named in a report, where its downgrade lands, and
whether its file says it changes rows on purpose."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from alembic.script import Script

ROWS_CHANGE = re.compile(r"^\s*#\s*fastapi-alembic:\s*rows-change\b:?\s*(.*)$", re.MULTILINE)


@contextmanager
def revision_files_loaded_once() -> Iterator[None]:
    """Execute each unchanged revision file once while the suite runs.

    Alembic loads every revision file again for each command, and the suite runs a few
    commands per revision: without this its time grows with the square of the history.
    Files are keyed by path, size and modification time; env.py, which does its work when
    loaded, still runs every time.
    """
    from alembic import util as alembic_util

    original = alembic_util.load_python_file
    loaded: dict[tuple[str, int, int], ModuleType] = {}

    def load_python_file(
        dir_: str | os.PathLike[str], filename: str | os.PathLike[str]
    ) -> ModuleType:
        path = os.path.join(dir_, os.path.basename(filename))
        try:
            stat = os.stat(path)
        except OSError:
            stat = None
        if stat is None or os.path.basename(path) == "env.py":
            return original(dir_, filename)
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in loaded:
            loaded[key] = original(dir_, filename)
        return loaded[key]

    alembic_util.load_python_file = load_python_file
    try:
        yield
    finally:
        alembic_util.load_python_file = original


def _named(script: Script) -> str:
    message = (script.doc or "").strip()
    return f"{script.revision} ({message})" if message else script.revision


def _parent_of(script: Script) -> str:
    """Where downgrading one step from ``script`` lands: its parent, or base."""
    parent = script.down_revision
    if parent is None:
        return "base"
    return parent if isinstance(parent, str) else f"{script.revision}-1"


def _declared_rows_change(script: Script) -> str | None:
    """Why the revision changes rows on purpose, when its file says so; else None."""
    try:
        found = ROWS_CHANGE.search(Path(script.path).read_text(encoding="utf-8"))
    except OSError:
        return None
    return (found.group(1).strip() or "declared in the file") if found else None

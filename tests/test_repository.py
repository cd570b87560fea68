"""What the repository itself must hold, and must not."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_the_license_is_mit_and_named_in_pyproject() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) The FastAPI-Alembic authors" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in pyproject
    assert 'license-files = ["LICENSE"]' in pyproject


def test_the_changelog_has_an_unreleased_section_naming_the_rename() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    assert "renamed from FastAPI-Migrate to FastAPI-Alembic" in unreleased


def test_no_database_or_lock_file_is_tracked() -> None:
    # A SQLite database, its journal, or the migration lock file beside it.
    run_time = re.compile(r"\.(db|sqlite)(-journal|-wal|-shm|\..+\.lock)?$")
    leftovers = [name for name in tracked_files() if run_time.search(name)]
    assert leftovers == [], f"tracked run-time files: {leftovers}"

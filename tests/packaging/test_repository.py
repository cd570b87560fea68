"""What the repository itself must hold, and must not."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
    # A SQLite database, its journal, or the migration lock file beside it (named by the
    # database file's device and inode).
    run_time = re.compile(
        r"\.(db|sqlite)(-journal|-wal|-shm)?$|(^|/)\.fastapi-alembic-[0-9a-f]+-[0-9a-f]+\..+\.lock$"
    )
    leftovers = [name for name in tracked_files() if run_time.search(name)]
    assert leftovers == [], f"tracked run-time files: {leftovers}"


def test_the_readme_install_section_lists_every_extra() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = set(pyproject["project"]["optional-dependencies"])
    assert {"postgresql", "asyncpg", "mysql", "aiomysql", "aiosqlite", "fastapi"} <= extras
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme.split("## Install\n", 1)[1].split("\n## ", 1)[0]
    assert 'pip install "fastapi-alembic[postgresql]"' in install
    assert 'uv add "fastapi-alembic[postgresql]"' in install
    listed = set(re.findall(r"^\| `(\w+)` \|", install, flags=re.MULTILINE))
    assert listed == extras
    assert 'pip install "./fastapi-alembic[postgresql]"' in install  # from a checkout
    # Every async extra brings greenlet, which SQLAlchemy's async engines need.
    for extra in ("asyncpg", "aiomysql", "aiosqlite"):
        assert any(
            d.startswith("sqlalchemy[asyncio]")
            for d in pyproject["project"]["optional-dependencies"][extra]
        ), extra


def test_make_test_runs_the_wheel_smoke_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "$(MAKE) test-wheel" in recipe
    wheel = makefile.split("\ntest-wheel:", 1)[1].split("\n\n", 1)[0]
    assert "--wheel" in wheel and "pip install" in wheel and "-e " not in wheel
    assert "tests/packaging/smoke.py" in wheel

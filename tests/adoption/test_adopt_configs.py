"""`fastapi-alembic adopt` where Alembic's configuration is not a plain alembic.ini [alembic]:
alembic.ini with named sections (`alembic -n dev`, our global `--name dev`) and [tool.alembic]
in pyproject.toml (Alembic 1.16+, `alembic init -t pyproject`).

The projects are the shapes of tests/support/envshapes.py with no [tool.fastapi-alembic] at all, as
people have them before adopting. After adopt, `check` and `test` pass on the database they are
given, plain `alembic upgrade head` (with `-n dev`) still migrates the project's own database,
and no verb before that touches it (the sentinel stays byte for byte as it was).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.envshapes import (
    SHAPES,
    make_project,
    sentinel_database,
    sentinel_reachable,
    sentinel_state,
    unique_name,
)
from tests.support.helpers import BIN, Project, Result, assert_clean_failure, snapshot

#: Run by default (about 13 s): both shapes on SQLite, one on MariaDB; `make test-envs` runs
#: the rest (PostgreSQL, and the other shape on MariaDB).
DEFAULT_SLICE = {
    ("named_sections", "sqlite"),
    ("pyproject", "sqlite"),
    ("named_sections", "mysql"),
}


def _cases() -> Iterator[object]:
    for name in ("named_sections", "pyproject"):
        for backend in ("sqlite", "postgres", "mysql"):
            marks = [getattr(pytest.mark, backend)]
            if (name, backend) not in DEFAULT_SLICE:
                marks.append(pytest.mark.envs)
            yield pytest.param(name, backend, marks=marks, id=f"{name}-{backend}")


def _files(root: Path) -> dict[str, str]:
    """Every file of the project but the database files and caches: what --check must keep."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".db"
    }


def _without_our_settings(project: Project) -> None:
    """The project as it was before FastAPI-Alembic: no [tool.fastapi-alembic] table."""
    pyproject = project.root / "pyproject.toml"
    text = re.sub(r"\[tool\.fastapi-alembic\]\n(?:[^\[\n][^\n]*\n|\n)*", "", pyproject.read_text())
    assert "fastapi-alembic" not in text
    pyproject.write_text(text)


def _plain_alembic(project: Project, *args: str) -> Result:
    """Plain `alembic` in a new process, as the project ran it before: no DATABASE_URL."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [str(BIN / "alembic"), *args],
        cwd=project.root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize(("shape_name", "backend"), list(_cases()), indirect=["backend"])
def test_adopt_then_check_test_and_plain_alembic(
    shape_name: str, backend: str, fresh_url: str, tmp_path: Path
) -> None:
    shape = SHAPES[shape_name]
    if shape.template == "pyproject":
        pytest.importorskip("alembic", minversion="1.16")
    with sentinel_database(backend, tmp_path) as sentinel:
        root = tmp_path / f"project_{unique_name()}"
        root.mkdir()
        project = make_project(shape, root, fresh_url, sentinel)
        _without_our_settings(project)
        untouched = sentinel_state(sentinel)

        def verb(*args: str, code: int = 0) -> Result:
            result = project.cli(*shape.options, *args)
            assert "Traceback" not in result.output, result.output
            assert result.exit_code == code, f"`{' '.join(args)}`: {result.output}"
            assert sentinel_state(sentinel) == untouched, (
                f"`{' '.join(args)}` changed the sentinel database: {result.output}"
            )
            return result

        before = _files(root)
        if shape.options:  # without --name, adopt names the sections it could use
            unnamed = project.cli("adopt", "--check")
            assert_clean_failure(
                unnamed, 2, "has no [alembic] section", "[dev], [test]", "--name dev adopt"
            )
        checked = verb("adopt", "--check", code=1)
        assert "+from fastapi_alembic.env import run_migrations" in checked.stdout
        assert _files(root) == before  # --check writes nothing
        verb("adopt", "--yes")
        env_py = root / "alembic" / "env.py"
        assert "run_migrations(" in env_py.read_text()
        assert (root / "alembic" / "env.py.orig").is_file()
        pyproject = (root / "pyproject.toml").read_text()
        assert f'metadata = "{project.module}:Base.metadata"' in pyproject
        assert 'directory = "alembic"' in pyproject
        if shape.template == "pyproject":
            assert "[tool.alembic]" in pyproject  # Alembic's own table is kept
        else:
            ini = (root / "alembic.ini").read_text()
            assert "[dev]" in ini and "[test]" in ini
        assert "already wired" in verb("adopt", "--check").stdout
        if shape.options:  # adopt wrote the folder down: verbs need --name no more
            assert project.cli("history").exit_code == 0

        assert "Wrote revision" in verb("make", "create tables").stdout
        head = json.loads(verb("heads", "--json").stdout)[0]["revision"]
        assert "Done: 1 migration(s)" in verb("upgrade").stdout
        assert snapshot(fresh_url)[1] == [head]
        assert "All checks passed." in verb("check").stdout
        assert "All checks passed." in verb("test").stdout
        assert snapshot(fresh_url)[1] == [head]

        # Plain Alembic, as the project ran it before, still migrates its own database.
        named = ("-n", "dev") if shape.options else ()
        with sentinel_reachable(sentinel):
            plain = _plain_alembic(project, *named, "upgrade", "head")
            assert plain.exit_code == 0, plain.output
            tables, versions = snapshot(sentinel)
        assert versions == [head]
        assert {"sentinel_rows", "users", "posts"} <= tables

"""Each verb imports only what it uses: help loads neither SQLAlchemy nor Alembic, only lint's
own work loads sqlglot (its parser is the heaviest import of all), and nothing loads Pydantic. Start-up time itself is
measured in bench/, never here; these tests hold the imports that decide it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.helpers import Project

HEAVY = ("sqlalchemy", "alembic", "sqlglot", "pydantic")

RUN = textwrap.dedent(
    """
    import atexit, json, sys

    def loaded():
        heavy = {heavy!r}
        print("LOADED " + json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)

    atexit.register(loaded)
    sys.argv = ["fastapi-alembic", *{args!r}]
    from fastapi_alembic.cli import main

    main()
    """
)


def _loaded(
    cwd: Path, *args: str, url: str | None = None, watched: tuple[str, ...] = HEAVY
) -> tuple[int, list[str]]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    if url:
        env["DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-c", RUN.format(heavy=watched, args=args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    return done.returncode, json.loads(line.removeprefix("LOADED "))


@pytest.mark.parametrize("args", [("--help",), ("lint", "--help"), ("upgrade", "--help")])
def test_help_loads_neither_sqlalchemy_nor_alembic(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, loaded = _loaded(tmp_path, *args)
    assert code == 0
    assert loaded == []


def test_status_does_not_load_the_sql_parser(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    code, loaded = _loaded(tmp_path, "status", url=project.url)
    assert code == 0
    assert "sqlalchemy" in loaded and "alembic" in loaded
    assert "sqlglot" not in loaded
    assert "pydantic" not in loaded  # Typer 0.29 would load it to convert option values


def test_current_at_head_loads_neither_alembic_nor_the_cli_framework(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    code, loaded = _loaded(tmp_path, "current", url=project.url)
    assert code == 0
    assert "alembic" not in loaded and "sqlglot" not in loaded


def test_listing_the_lint_rules_loads_the_parser_they_use(tmp_path: Path) -> None:
    # The probe above can see sqlglot when a verb loads it.
    code, loaded = _loaded(tmp_path, "lint", "--rules")
    assert code == 0
    assert "sqlglot" in loaded


def test_upgrade_loads_neither_other_verbs_nor_the_models(tmp_path: Path) -> None:
    """An upgrade imports its own verb's code: not autogenerate's, not another verb's, not
    another backend's dialect, and not the app's models (Alembic does not read them there)."""
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    unwanted = (
        project.module,
        "fastapi_alembic.autogen",
        "fastapi_alembic.jobs.authoring",
        "fastapi_alembic.cli.linting_commands",
        "fastapi_alembic.cli.testing_commands",
        "sqlalchemy.dialects.mysql",
        "rich._emoji_codes",
    )
    code, loaded = _loaded(tmp_path, "upgrade", url=project.url, watched=(*unwanted, "alembic"))
    assert code == 0
    assert loaded == ["alembic"]  # it did run Alembic: the database was behind
    assert project.cli("current").stdout.strip().endswith("(head)")

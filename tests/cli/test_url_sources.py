"""Where the database URL comes from, and where a relative SQLite path points.

The URL: --url, then DATABASE_URL, then url under [tool.fastapi-alembic], then alembic.ini's
sqlalchemy.url (its section chosen by --name, %(here)s interpolated; Alembic's placeholder
ignored). A relative SQLite path is the project root's (the folder of the pyproject.toml or
alembic.ini in use), whether the CLI runs from a subfolder, the API or the lifespan is used
there, or plain alembic runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.gate.probe import current_if_at_head
from fastapi_alembic.urls import anchored
from tests.support.helpers import BIN, Project, Result, assert_clean_failure, head_of

PLACEHOLDER = "driver://user:pass@localhost/dbname"


def run_in(
    folder: Path, *args: str, env: dict[str, str], program: str = "fastapi-alembic"
) -> Result:
    done = subprocess.run(
        [str(BIN / program), *args],
        cwd=folder,
        env={**os.environ, "DATABASE_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def migrated(tmp_path: Path) -> Project:
    """A project whose app.db (beside pyproject.toml) is at head, with a subfolder app/."""
    project = Project.create(tmp_path, "sqlite:///app.db")
    (tmp_path / "app").mkdir()
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    assert (tmp_path / "app.db").is_file()
    return project


def set_ini_url(project: Project, value: str, section: str = "alembic") -> None:
    ini = project.root / "alembic.ini"
    text = ini.read_text()
    ini.write_text(text.replace(f"[{section}]\n", f"[{section}]\nsqlalchemy.url = {value}\n", 1))


# -- relative SQLite paths --------------------------------------------------------------------


@pytest.mark.parametrize("given_by", ["DATABASE_URL", "--url", "pyproject", "alembic.ini"])
def test_the_cli_in_a_subfolder_reaches_the_projects_sqlite_file(
    migrated: Project, given_by: str
) -> None:
    env: dict[str, str] = {}
    args: list[str] = []
    if given_by == "DATABASE_URL":
        env["DATABASE_URL"] = "sqlite:///app.db"
    elif given_by == "--url":
        args = ["--url", "sqlite:///app.db"]
    elif given_by == "pyproject":
        pyproject = migrated.root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + 'url = "sqlite:///app.db"\n')
    else:
        set_ini_url(migrated, "sqlite:///app.db")
    subfolder = migrated.root / "app"
    status = run_in(subfolder, "status", "--json", *args, env=env)
    assert status.exit_code == 0, status.output
    assert '"up_to_date": true' in status.stdout
    assert str(migrated.root / "app.db") in status.stdout
    # `upgrade` at head takes the start-up fast path: it too reads the project's file.
    upgrade = run_in(subfolder, "upgrade", *args, env=env)
    assert upgrade.exit_code == 0, upgrade.output
    assert upgrade.stdout.startswith("Nothing to upgrade"), upgrade.output
    assert list(subfolder.iterdir()) == []  # no empty app/app.db made on the way


def test_the_fast_path_reads_the_projects_sqlite_file(
    migrated: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(migrated.root / "app")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///app.db")
    assert current_if_at_head({}) == (head_of(migrated),)


def test_the_api_and_the_lifespan_in_a_subfolder_use_the_projects_file(
    migrated: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(migrated.root / "app")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///app.db")
    migrations = Migrations()
    assert migrations.url.database == str(migrated.root / "app.db")
    assert migrations.status().up_to_date
    assert Migrations(url="sqlite:///app.db").url.database == str(migrated.root / "app.db")
    assert migrations.with_url("sqlite:///other.db").url.database == str(migrated.root / "other.db")

    async def start() -> None:
        async with migrations.lifespan(mode="check")(object()):
            pass

    asyncio.run(start())
    assert list((migrated.root / "app").iterdir()) == []


def test_plain_alembic_takes_the_path_from_the_ini_files_folder(migrated: Project) -> None:
    assert migrated.cli("downgrade", "base").exit_code == 0
    subfolder = migrated.root / "app"
    done = run_in(
        subfolder,
        "-c",
        "../alembic.ini",
        "upgrade",
        "head",
        env={"DATABASE_URL": "sqlite:///app.db"},
        program="alembic",
    )
    assert done.exit_code == 0, done.output
    assert list(subfolder.iterdir()) == []
    assert migrated.cli("status", "--json", url="sqlite:///app.db").stdout.count(
        '"up_to_date": true'
    )


def test_memory_and_absolute_sqlite_urls_are_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for unchanged in (
        "sqlite://",
        "sqlite:///:memory:",
        f"sqlite:///{tmp_path / 'abs.db'}",
        "sqlite:///file:shared?mode=memory&cache=shared&uri=true",
        f"sqlite:///file:{tmp_path / 'abs.db'}?mode=ro&uri=true",
        "postgresql+psycopg://app@localhost/app.db",
    ):
        assert anchored(make_url(unchanged), root) == make_url(unchanged), unchanged
    assert anchored(make_url("sqlite:///data/app.db"), root).database == str(
        root / "data" / "app.db"
    )
    assert anchored(make_url("sqlite+aiosqlite:///app.db"), root).database == str(root / "app.db")
    relative_uri = anchored(make_url("sqlite:///file:app.db?mode=ro&uri=true"), root)
    assert relative_uri.database == f"file:{root / 'app.db'}"
    assert dict(relative_uri.query) == {"mode": "ro", "uri": "true"}


# -- alembic.ini's sqlalchemy.url, the last fallback ---------------------------------------------


def test_alembic_ini_url_is_used_last(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    set_ini_url(project, fresh_url.replace("%", "%%"))
    # Only alembic.ini names the database: every verb uses it, plain alembic too.
    upgraded = run_in(tmp_path, "upgrade", env={})
    assert upgraded.exit_code == 0, upgraded.output
    status = run_in(tmp_path, "status", "--json", env={})
    assert '"up_to_date": true' in status.stdout, status.output
    assert run_in(tmp_path, "current", env={}, program="alembic").exit_code == 0
    # DATABASE_URL, --url and pyproject each come before it.
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    for env, args in (({"DATABASE_URL": elsewhere}, []), ({}, ["--url", elsewhere])):
        before = run_in(tmp_path, "status", "--json", *args, env=env)
        assert "elsewhere.db" in before.stdout and '"up_to_date": false' in before.stdout
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'url = "{elsewhere}"\n')
    assert "elsewhere.db" in run_in(tmp_path, "status", "--json", env={}).stdout


def test_the_ini_section_is_the_one_name_picks(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    assert project.cli("init").exit_code == 0
    ini = tmp_path / "alembic.ini"
    text = ini.read_text().replace("[alembic]\n", f"[alembic]\nsqlalchemy.url = {PLACEHOLDER}\n")
    dev = (
        "[dev]\nscript_location = %(here)s/migrations\nsqlalchemy.url = sqlite:///%(here)s/dev.db\n"
    )
    ini.write_text(text + "\n" + dev)
    done = run_in(tmp_path, "--name", "dev", "upgrade", env={})
    assert done.exit_code == 0, done.output
    assert (tmp_path / "dev.db").is_file()
    refused = run_in(tmp_path, "upgrade", env={})
    assert_clean_failure(refused, 2, "No database URL is set")
    assert f"sqlalchemy.url in {ini} [alembic] (Alembic's placeholder" in refused.stderr
    assert "which is ignored" in refused.stderr


def test_the_no_url_sentence_names_every_place_it_looked(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    assert project.cli("init").exit_code == 0
    done = run_in(tmp_path, "status", env={})
    assert_clean_failure(
        done,
        2,
        "No database URL is set: looked in --url",
        "the DATABASE_URL environment variable",
        f"url under [tool.fastapi-alembic] in {tmp_path / 'pyproject.toml'}",
        f"sqlalchemy.url in {tmp_path / 'alembic.ini'} [alembic] (not set)",
    )
    plain = run_in(tmp_path, "upgrade", "head", env={}, program="alembic")
    assert plain.exit_code != 0 and "No database URL is set: looked in --url" in plain.stderr
    assert "Traceback" not in plain.stderr


def test_a_broken_interpolation_is_one_sentence(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    assert project.cli("init").exit_code == 0
    set_ini_url(project, "sqlite:///%(nowhere)s/app.db")
    done = run_in(tmp_path, "status", env={})
    assert_clean_failure(done, 2, f"sqlalchemy.url in {tmp_path / 'alembic.ini'} [alembic]")

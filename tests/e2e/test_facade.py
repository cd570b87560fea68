"""The Python API: async drivers, offline SQL, the FastAPI lifespan, destructive changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect
from sqlalchemy.engine import make_url

from fastapi_alembic import DatabaseStateError, Migrations
from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.helpers import Project

ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql+psycopg": "postgresql+asyncpg",
    "mysql+pymysql": "mysql+aiomysql",
}


def notes_metadata(*extra: Column[object]) -> MetaData:
    metadata = MetaData()
    Table(
        "notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("body", String(200)),
        *extra,
    )
    return metadata


def table_names(url: str) -> set[str]:
    return run_with_connection(make_url(url), lambda c: set(inspect(c).get_table_names()))


def test_async_drivers_run_every_verb(fresh_url: str, tmp_path: Path) -> None:
    url = make_url(fresh_url)
    async_url = url.set(drivername=ASYNC_DRIVERS[url.drivername])
    migrations = Migrations(
        metadata=notes_metadata(), url=async_url, directory=tmp_path / "migrations", root=tmp_path
    )
    migrations.init()
    made = migrations.make("create notes")
    assert [o.description for o in made.operations] == ["create table notes (id, body)"]
    result = migrations.upgrade()
    assert [s.revision for s in result.steps] == [made.revision]
    status = migrations.status()
    assert status.up_to_date and status.models_match
    assert "notes" in table_names(fresh_url)

    async def from_inside_an_event_loop() -> tuple[str, ...]:
        return migrations.current()

    assert asyncio.run(from_inside_an_event_loop()) == (made.revision,)
    migrations.downgrade("base")
    assert "notes" not in table_names(fresh_url)


def test_sql_mode_prints_sql_and_touches_nothing(fresh_url: str, tmp_path: Path) -> None:
    migrations = Migrations(
        metadata=notes_metadata(), url=fresh_url, directory=tmp_path / "m", root=tmp_path
    )
    migrations.init()
    migrations.make("create notes")
    result = migrations.upgrade(sql=True)
    assert result.sql is not None
    assert "CREATE TABLE notes" in result.sql
    assert "alembic_version" in result.sql
    assert "notes" not in table_names(fresh_url)


def test_lifespan_upgrades_before_serving_and_check_mode_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrations = Migrations(
        metadata=notes_metadata(), url=url, directory=tmp_path / "m", root=tmp_path
    )
    migrations.init()
    migrations.make("create notes")

    guarded = FastAPI(lifespan=migrations.lifespan(mode="check"))
    with (
        pytest.raises(DatabaseStateError, match="1 revision\\(s\\) behind head"),
        TestClient(guarded),
    ):
        pass
    assert "notes" not in table_names(url)

    app = FastAPI(lifespan=migrations.lifespan())

    @app.get("/tables")
    def tables() -> list[str]:
        return sorted(table_names(url))

    with TestClient(app) as client:
        assert "notes" in client.get("/tables").json()
    with TestClient(FastAPI(lifespan=migrations.lifespan(mode="check"))):
        pass  # at head now: starts


def test_make_lists_destructive_operations_first_and_marked(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.run("init").exit_code == 0
    assert project.run("make", "create tables").exit_code == 0
    assert project.run("upgrade").exit_code == 0
    models = tmp_path / f"{project.module}.py"
    source = models.read_text().replace(
        "title: Mapped[str] = mapped_column(String(200))",
        "subject: Mapped[str | None] = mapped_column(String(80))",
    )
    models.write_text(
        source.replace(
            "password: Mapped[str] = mapped_column(String(255))",
            "password: Mapped[str] = mapped_column(String(100))",
        )
    )
    result = project.run("make", "rework posts")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()[1:]]
    assert lines[0].startswith("! ") and lines[1].startswith("! ")
    assert any("drop column posts.title" in line for line in lines[:2])
    assert any("alter column users.password" in line and "narrower" in line for line in lines[:2])
    assert lines[2] == "+ add column posts.subject (VARCHAR(80))"
    assert "2 destructive operation(s)" in result.stdout


def test_defaults_made_on_one_backend_are_valid_and_equal_on_every_backend(
    fresh_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import Boolean, DateTime, false, func

    metadata = MetaData()
    Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("archived", Boolean, nullable=False, server_default=false()),
        Column("created_at", DateTime, nullable=False, server_default=func.now()),
    )
    # The revision is written against SQLite, then applied wherever fresh_url points.
    sqlite_url = f"sqlite:///{tmp_path / 'author.db'}"
    author = Migrations(metadata=metadata, url=sqlite_url, directory=tmp_path / "m", root=tmp_path)
    author.init()
    made = author.make("create events")
    source = Path(made.path).read_text()
    assert "server_default=sa.false()" in source
    assert "server_default=sa.func.now()" in source
    target = author.with_url(fresh_url)
    target.upgrade()
    assert target.differences() == []
    assert target.check().ok

"""The data-loss guard at apply time, on every backend: refuse, accept, back up, say."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DataLossRefused
from tests.support.helpers import Project, assert_clean_failure, snapshot, write_revision

CREATE = (
    'op.create_table("people", sa.Column("id", sa.Integer(), primary_key=True), '
    'sa.Column("name", sa.String(50)), sa.Column("note", sa.String(50)))'
)


def sql(url: str, *statements: str) -> None:
    def run(connection):  # type: ignore[no-untyped-def]
        for statement in statements:
            connection.execute(text(statement))

    run_with_connection(make_url(url), run)


def columns(url: str, table: str) -> set[str]:
    return run_with_connection(
        make_url(url), lambda c: {col["name"] for col in inspect(c).get_columns(table)}
    )


def _project(url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, url)
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    assert made.cli("upgrade").exit_code == 0
    sql(
        url,
        "INSERT INTO people (id, name, note) VALUES (1, 'ada', 'a long note here')",
        "INSERT INTO people (id, name, note) VALUES (2, 'grace', NULL)",
    )
    return made


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    """On every backend."""
    return _project(fresh_url, tmp_path)


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Project:
    """Where the behaviour is the guard's own, not the backend's: SQLite is enough."""
    return _project(f"sqlite:///{tmp_path / 'app.db'}", tmp_path)


def test_a_drop_with_data_is_refused_then_accepted(project: Project, backend: str) -> None:
    write_revision(project, "bbbb00000002", "aaaa00000001", body='op.drop_column("people", "note")')
    before = snapshot(project.url)
    refused = project.cli("upgrade")
    assert_clean_failure(
        refused,
        3,
        "dropping people.note would delete 1 non-empty values (revision bbbb00000002)",
        "pass --accept-data-loss",
    )
    assert snapshot(project.url) == before
    assert "note" in columns(project.url, "people")

    accepted = project.cli("upgrade", "--accept-data-loss")
    assert accepted.exit_code == 0, accepted.output
    assert "Accepted data loss: dropping people.note" in accepted.stdout
    assert "note" not in columns(project.url, "people")
    if backend == "sqlite":
        database = Path(make_url(project.url).database or "")
        backup = database.with_name("app.before-bbbb00000002.db")
        assert f"Backup of the database written to {backup}" in accepted.stdout
        kept = run_with_connection(
            make_url(f"sqlite:///{backup}"),
            lambda c: c.execute(text("SELECT note FROM people WHERE id = 1")).scalar_one(),
        )
        assert kept == "a long note here"


def test_narrowing_counts_the_values_that_do_not_fit(project: Project) -> None:
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='with op.batch_alter_table("people") as batch_op: '
        'batch_op.alter_column("note", type_=sa.String(10), existing_type=sa.String(50))',
    )
    refused = project.cli("upgrade")
    assert_clean_failure(
        refused, 3, "narrowing people.note would delete 1 values longer than 10 characters"
    )


def test_empty_tables_pass_quietly(sqlite_project: Project) -> None:
    sql(sqlite_project.url, "DELETE FROM people")
    write_revision(sqlite_project, "bbbb00000002", "aaaa00000001", body='op.drop_table("people")')
    result = sqlite_project.cli("upgrade")
    assert result.exit_code == 0, result.output
    assert "data loss" not in result.output.lower()


def test_downgrade_says_what_it_deletes_and_runs(sqlite_project: Project) -> None:
    write_revision(
        sqlite_project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.add_column("people", sa.Column("bio", sa.Text()))',
    )
    path = sqlite_project.versions / "bbbb00000002_hand_written.py"
    path.write_text(
        path.read_text().replace(
            "def downgrade():\n    pass", 'def downgrade():\n    op.drop_column("people", "bio")'
        )
    )
    assert sqlite_project.cli("upgrade").exit_code == 0
    sql(sqlite_project.url, "UPDATE people SET bio = 'hello' WHERE id = 2")
    result = sqlite_project.cli("downgrade", "bbbb00000002-1")
    assert result.exit_code == 0, result.output
    assert "This downgrade deletes data: dropping people.bio would delete 1 non-empty values" in (
        result.stdout
    )
    assert "bio" not in columns(sqlite_project.url, "people")


def test_the_lifespan_refuses_unless_configured(sqlite_project: Project) -> None:
    write_revision(sqlite_project, "bbbb00000002", "aaaa00000001", body='op.drop_table("people")')
    migrations = Migrations(url=sqlite_project.url, root=sqlite_project.root)
    refusing = TestClient(FastAPI(lifespan=migrations.lifespan()))
    with pytest.raises(DataLossRefused, match="dropping people would delete 2 rows"), refusing:
        pass
    assert "people" in snapshot(sqlite_project.url)[0]
    with TestClient(FastAPI(lifespan=migrations.lifespan(accept_data_loss=True))):
        pass
    assert "people" not in snapshot(sqlite_project.url)[0]

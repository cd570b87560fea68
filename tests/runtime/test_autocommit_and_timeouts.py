"""Inside a migration: autocommit blocks (CREATE INDEX CONCURRENTLY) and lock timeouts.

A migration that needs a table another session keeps locked waits only ``lock_timeout``; its
transaction is then rolled back and tried again. These tests hold real locks from another
connection, in a thread of the test, for a while or for good.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.helpers import BIN, Project, held_lock, snapshot

CREATE_TABLE = "op.create_table('items', sa.Column('id', sa.Integer, primary_key=True), sa.Column('name', sa.String(50)))"


def write(
    project: Project, revision: str, parent: str | None, upgrade: str, downgrade: str = "pass"
) -> None:
    """A revision file with multi-line bodies (indented by this function)."""
    body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    down = textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
    (project.versions / f"{revision}_step.py").write_text(
        f'"""step {revision}"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {parent!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{body}\n\n\ndef downgrade():\n{down}\n"
    )


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    return made


def indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {index["name"] or "" for index in inspect(connection).get_indexes("items")}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("backend", "program"),
    [
        pytest.param("sqlite", "fastapi-alembic", marks=pytest.mark.sqlite),
        pytest.param("mysql", "fastapi-alembic", marks=pytest.mark.mysql),
        pytest.param("postgres", "fastapi-alembic", marks=pytest.mark.postgres),
        pytest.param("postgres", "alembic", marks=pytest.mark.postgres),
        pytest.param("sqlite", "alembic", marks=pytest.mark.sqlite),
    ],
    indirect=["backend"],
)
def test_autocommit_block_works_between_transactional_migrations(
    project: Project, backend: str, program: str
) -> None:
    """An index built (and later dropped) in an autocommit block, CONCURRENTLY on
    PostgreSQL, with ordinary migrations around it; plain `alembic upgrade head` too."""
    concurrently = "postgresql_concurrently=True" if backend == "postgres" else ""
    write(project, "a00000000001", None, CREATE_TABLE, "op.drop_table('items')")
    write(
        project,
        "a00000000002",
        "a00000000001",
        f"""
        with op.get_context().autocommit_block():
            op.create_index('ix_items_name', 'items', ['name'], {concurrently})
        op.execute("INSERT INTO items (id, name) VALUES (1, 'after the block')")
        """,
    )
    write(
        project,
        "a00000000003",
        "a00000000002",
        f"""
        with op.get_context().autocommit_block():
            op.drop_index('ix_items_name', table_name='items', {concurrently})
        """,
    )
    up = project.run("upgrade", "a00000000002", program=program)
    assert up.exit_code == 0, up.output
    assert "ix_items_name" in indexes(project.url)
    up = project.run("upgrade", "head", program=program)
    assert up.exit_code == 0, up.output
    assert "ix_items_name" not in indexes(project.url)
    assert snapshot(project.url)[1] == ["a00000000003"]


@pytest.mark.parametrize(
    ("backend", "failure"),
    [
        pytest.param("sqlite", "raise RuntimeError('boom')", marks=pytest.mark.sqlite),
        pytest.param("postgres", "raise RuntimeError('boom')", marks=pytest.mark.postgres),
        pytest.param("postgres", "import sys; sys.exit(4)", marks=pytest.mark.postgres),
    ],
    indirect=["backend"],
)
def test_a_failure_after_an_autocommit_block_says_what_stays(
    project: Project, failure: str
) -> None:
    """Where DDL is transactional, a migration that fails after its autocommit_block is not
    "rolled back, the database unchanged": the block committed the migrations before it and
    what it ran. The sentence says so, and the next upgrade refuses the half-done migration."""
    write(project, "a00000000001", None, CREATE_TABLE, "op.drop_table('items')")
    write(
        project,
        "a00000000002",
        "a00000000001",
        f"""
        with op.get_context().autocommit_block():
            op.create_index('ix_items_name', 'items', ['name'])
        {failure}
        """,
    )
    failed = project.run("upgrade")
    assert failed.exit_code in (2, 3), failed.output
    assert "Traceback" not in failed.output
    assert "unchanged" not in failed.stderr
    assert (
        "the autocommit_block of migration a00000000002 had committed what ran before it and "
        "inside it, which stays (the rest was rolled back)"
    ) in failed.stderr
    assert snapshot(project.url)[1] == ["a00000000001"]
    assert "ix_items_name" in indexes(project.url)
    refused = project.run("upgrade")  # a process of its own: the failed one is gone
    assert refused.exit_code == 3, refused.output
    assert "Migration a00000000002 (upgrade) " in refused.stderr
    assert "after committing part of its work (an autocommit_block)" in refused.stderr


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_migration_lock_outlives_an_autocommit_block(project: Project) -> None:
    """Inside the block the migration connection commits: the lock's row still names a
    holder with a live lease (another session sees it)."""
    write(project, "a00000000001", None, CREATE_TABLE)
    write(
        project,
        "a00000000002",
        "a00000000001",
        """
        with op.get_context().autocommit_block():
            op.create_index('ix_items_name', 'items', ['name'], postgresql_concurrently=True)
            op.execute(
                "CREATE TABLE lock_seen AS SELECT count(*) AS held FROM fastapi_alembic_lock "
                "WHERE name = 'alembic_version lease' AND token IS NOT NULL "
                "AND expires_ms > extract(epoch FROM clock_timestamp()) * 1000"
            )
        """,
    )
    assert project.run("upgrade").exit_code == 0
    engine = create_engine(project.url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT held FROM lock_seen")).scalar() == 1
    engine.dispose()


@pytest.fixture
def locked_project(project: Project, backend: str) -> Project:
    write(project, "a00000000001", None, CREATE_TABLE)
    assert project.run("upgrade").exit_code == 0
    write(
        project,
        "a00000000002",
        "a00000000001",
        "op.add_column('items', sa.Column('phone', sa.String(20)))",
    )
    return project


# SQLite has no table locks: a writer waits for the whole database (the migration lock).
@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_migration_blocked_for_a_while_succeeds_on_a_retry(
    locked_project: Project, backend: str
) -> None:
    project = locked_project
    with held_lock(project.url, backend) as blocker:
        upgrade = subprocess.Popen(
            [str(BIN / "fastapi-alembic"), "upgrade", "--lock-timeout", "1", "--lock-retries", "5"],
            cwd=project.root,
            env={**os.environ, "DATABASE_URL": project.url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert upgrade.stderr is not None
        first = upgrade.stderr.readline()  # the first retry's notice: the blocker lets go
        blocker.rollback()
        stdout, rest = upgrade.communicate(timeout=60)
    assert upgrade.returncode == 0, first + rest + stdout
    assert "retry 1 of 5" in first, first
    assert "lock on table items, held by session " in first, first
    assert snapshot(project.url)[1] == ["a00000000002"]
    assert "phone" in {c["name"] for c in inspect(create_engine(project.url)).get_columns("items")}


# SQLite has no table locks: a writer waits for the whole database (the migration lock).
@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_migration_blocked_for_good_ends_with_one_sentence(
    locked_project: Project, backend: str
) -> None:
    project = locked_project
    with held_lock(project.url, backend):
        up = project.run("upgrade", "--lock-timeout", "1", "--lock-retries", "1")
    assert up.exit_code == 3, up.output
    assert "Traceback" not in up.output
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 2, up.stderr  # the retry, then the error
    assert lines[-1].startswith(
        "Error: A migration waited for a lock on table items, held by session "
    )
    assert "on each of 2 tries" in lines[-1]
    assert snapshot(project.url)[1] == ["a00000000001"]  # unchanged
    assert "phone" not in {
        c["name"] for c in inspect(create_engine(project.url)).get_columns("items")
    }

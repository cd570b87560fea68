"""Half-applied detection that survives a server restart: the server is killed with SIGKILL in
the middle of a migration that commits as it goes, and started again. A "started" row names its
session with the server's life, so a new session that happens to get the dead migrator's id
(MariaDB hands out connection ids from the start again) is not taken for the migration still
running: `status` names the half-applied revision and `upgrade` refuses it.

Each test runs a server of its own (tests/support/own_servers.py): the shared ones are never killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import make_engine, run_with_connection
from tests.support.helpers import BIN, Project, assert_clean_failure, head_of, write_revision
from tests.support.own_servers import OwnServer, own_mariadb, own_postgresql

HALF = "4a1f00000002"
DATABASE = "ledger_restart"


def start_the_half_applied_migration(
    project: Project, server: OwnServer, body: str
) -> subprocess.Popen[str]:
    """Run `upgrade` until the migration has committed its first table, then kill the server
    (and the migrator with it: it would only fail on its next statement)."""
    marker = project.root / "inside"
    write_revision(
        project,
        HALF,
        head_of(project),
        # Read ahead by the data-loss guard on MariaDB, the marker would be written early.
        header="# fastapi-alembic: no-pre-read\n            import pathlib, time",
        # write_revision's template is indented 16 columns before it is dedented.
        body=body.format(marker=str(marker)).replace("\n", "\n" + " " * 12),
    )
    migrator = subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade"],
        cwd=project.root,
        env={**os.environ, "DATABASE_URL": project.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert migrator.poll() is None, migrator.communicate()
        assert time.monotonic() < deadline, "the migration never began"
        time.sleep(0.1)
    server.kill()
    migrator.send_signal(signal.SIGKILL)
    migrator.wait()
    return migrator


def unfinished_session(url: str) -> str:
    def read(connection: Connection) -> str:
        return str(
            connection.execute(
                text(
                    "SELECT session_id FROM fastapi_alembic_ledger "
                    f"WHERE revision = '{HALF}' AND finished_at IS NULL"
                )
            ).scalar_one()
        )

    return run_with_connection(make_url(url), read)


def tables(url: str) -> set[str]:
    from sqlalchemy import inspect

    return run_with_connection(make_url(url), lambda c: set(inspect(c).get_table_names()))


def project_on(server: OwnServer, root: Path) -> Project:
    root.mkdir()
    project = Project.create(root, server.url)
    assert project.cli("init").exit_code == 0
    assert project.cli("make", "create tables").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    return project


def assert_refused_by_name(project: Project) -> None:
    phrases = (f"Migration {HALF} (upgrade) was interrupted at", "may be half applied")
    assert_clean_failure(project.cli("status"), 3, *phrases)
    before = tables(project.url)
    assert_clean_failure(project.cli("upgrade"), 3, *phrases)
    assert tables(project.url) == before
    assert "half" in before and "after_half" not in before


@pytest.fixture
def mariadb(tmp_path: Path) -> Iterator[OwnServer]:
    with own_mariadb(tmp_path / "mariadb", DATABASE) as server:
        yield server


@pytest.fixture
def postgresql() -> Iterator[OwnServer]:
    with own_postgresql(DATABASE) as server:
        yield server


@pytest.mark.mysql
def test_mariadb_restart_with_the_dead_migrators_id_taken(
    mariadb: OwnServer, tmp_path: Path
) -> None:
    project = project_on(mariadb, tmp_path / "project")
    start_the_half_applied_migration(
        project,
        mariadb,
        "op.execute('CREATE TABLE half (id INT)')\n"
        "    pathlib.Path({marker!r}).write_text('in')\n"
        "    time.sleep(120)\n"
        "    op.execute('CREATE TABLE after_half (id INT)')",
    )
    mariadb.start()
    recorded = unfinished_session(mariadb.url)
    dead_id = int(recorded.rsplit("conn=", 1)[-1]) if "conn=" in recorded else int(recorded)
    # A live session that gets the dead migrator's connection id: ids start over.
    engine = make_engine(make_url(mariadb.url))
    held = []
    try:
        for _ in range(dead_id + 50):
            connection = engine.connect()  # type: ignore[union-attr]
            found = connection.execute(text("SELECT CONNECTION_ID()")).scalar_one()
            if found == dead_id:
                held.append(connection)
                break
            connection.close()
        assert held, f"no new session got connection id {dead_id}"
        assert_refused_by_name(project)
    finally:
        for connection in held:
            connection.close()
        engine.dispose()  # type: ignore[union-attr]


@pytest.mark.postgres
def test_postgresql_restart_after_an_autocommit_block_committed_part(
    postgresql: OwnServer, tmp_path: Path
) -> None:
    project = project_on(postgresql, tmp_path / "project")
    start_the_half_applied_migration(
        project,
        postgresql,
        "with op.get_context().autocommit_block():\n"
        "        op.execute('CREATE TABLE half (id INT)')\n"
        "        pathlib.Path({marker!r}).write_text('in')\n"
        "        time.sleep(120)\n"
        "    op.execute('CREATE TABLE after_half (id INT)')",
    )
    postgresql.start()
    assert "life=" in unfinished_session(postgresql.url)
    assert_refused_by_name(project)
    # Someone inspected the schema and says where it is: the stamp closes the row.
    assert project.cli("stamp", HALF).exit_code == 0
    assert project.cli("status").exit_code == 0

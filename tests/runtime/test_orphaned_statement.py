"""PostgreSQL: a migrator killed in the middle of a long statement leaves no orphan behind it
(its session checks that the client is still there: client_connection_check_interval), and a
migration that waits for a table lock names the session in the way: its process id,
application_name, state and statement."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fastapi_alembic.dialects import for_url
from tests.support.backends import require_server
from tests.support.helpers import BIN, Project, assert_clean_failure, head_of, write_revision

pytestmark = pytest.mark.postgres

LONG = "10c000000002"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    server = require_server("postgres")
    from sqlalchemy.engine import make_url

    dialect = for_url(make_url(server))
    url = dialect.create_database(make_url(server), dialect.scratch_name("ledger_orphan"))
    made = Project.create(tmp_path, url.render_as_string(hide_password=False))
    try:
        assert made.cli("init").exit_code == 0
        assert made.cli("make", "create tables").exit_code == 0
        assert made.cli("upgrade").exit_code == 0
        yield made  # type: ignore[misc]
    finally:
        dialect.drop_database(url)


def test_a_killed_migrators_long_statement_is_stopped_by_the_server(project: Project) -> None:
    marker = project.root / "began"
    # The first run takes the table's lock and runs a long statement; a later run does not.
    write_revision(
        project,
        LONG,
        head_of(project),
        header="import pathlib",
        body=(
            "op.execute('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE')\n"
            f"                if not pathlib.Path({str(marker)!r}).exists():\n"
            f"                    pathlib.Path({str(marker)!r}).write_text('in')\n"
            "                    op.execute('SELECT pg_sleep(120)')\n"
            "                op.add_column('posts', sa.Column('body', sa.Text()))"
        ),
    )
    holder = subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade"],
        cwd=project.root,
        env={**os.environ, "DATABASE_URL": project.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = create_engine(project.url)
    try:
        deadline = time.monotonic() + 120
        while not sleeping(engine):
            assert holder.poll() is None, holder.communicate()
            assert time.monotonic() < deadline, "the long statement never began"
            time.sleep(0.1)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        started = time.monotonic()
        # Two tries of 2 s: far less than the orphan's 120 s.
        done = project.cli("upgrade", "--lock-timeout", "2", "--lock-retries", "1")
        assert done.exit_code == 0, done.output
        assert time.monotonic() - started < 30
        assert not sleeping(engine)
    finally:
        if holder.poll() is None:
            holder.kill()
        engine.dispose()


def sleeping(engine) -> bool:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'"
                    " AND pid <> pg_backend_pid() AND state = 'active'"
                )
            ).scalar()
        )


def test_a_migration_blocked_by_a_session_names_it(project: Project) -> None:
    write_revision(
        project, LONG, head_of(project), body="op.add_column('posts', sa.Column('body', sa.Text()))"
    )
    engine = create_engine(project.url, connect_args={"application_name": "nightly report"})
    try:
        with engine.connect() as blocker:
            pid = blocker.execute(text("SELECT pg_backend_pid()")).scalar()
            blocker.execute(text("LOCK TABLE posts IN ACCESS SHARE MODE"))
            blocker.execute(text("SELECT count(*) FROM posts"))
            result = project.cli("upgrade", "--lock-timeout", "1", "--lock-retries", "0")
            blocker.rollback()
    finally:
        engine.dispose()
    assert_clean_failure(
        result,
        3,
        f"A migration waited for a lock on table posts, held by session {pid} (nightly report, "
        "client 127.0.0.1, idle in transaction: SELECT count(*) FROM posts) in a transaction "
        "since ",
    )

"""The migration lock as production reaches a database: through PgBouncer (transaction and
session pooling, and statement pooling, refused), by two URLs for one database, and with its
sessions ended by the server or its holder paused past its lease.

Every case counts what a user would: each process's exit code and message, each migration's
row in a `runs` table, the rows of a data migration in an `autocommit_block`, and the locks left
once every process has exited. bench/concurrent_start.py runs the same trials more times.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench import concurrent_start, lock_faults
from fastapi_alembic.dialects.engines import make_engine, run_with_connection
from fastapi_alembic.errors import MigrationLockTimeout
from fastapi_alembic.runtime import LockTarget, migration_lock
from tests.support.helpers import BIN, Project, snapshot, write_revision
from tests.support.poolers import pgbouncer

if TYPE_CHECKING:
    from fastapi_alembic.runtime.lease import LeaseLock

#: Trials per mode here; bench/concurrent_start.py runs 10.
TRIALS = 2
STARTERS = 8


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("route", ["pgbouncer-transaction", "pgbouncer-session", "direct"])
def test_concurrent_upgrades_apply_each_migration_once(
    route: str, fresh_url: str, tmp_path: Path
) -> None:
    """8 `fastapi-alembic upgrade` processes at once, through PgBouncer or directly: every
    process exits 0, every migration (and the autocommit_block's 30 rows) is applied exactly
    once, and no lock is left behind. Trials after the first run on a database at head."""
    concurrent_start.write_project(tmp_path, 5, 1.0)
    mode = route.removeprefix("pgbouncer-")
    for trial_number in range(TRIALS):
        with _route(route, fresh_url) as url:
            trial = concurrent_start.run_trial(tmp_path, url, STARTERS, 5, cli=True)
        assert trial.errors == [], (mode, trial_number, trial)
        assert trial.ok(5), (mode, trial_number, trial)
        _reset(fresh_url)


def _route(route: str, direct: str):  # type: ignore[no-untyped-def]
    if route == "direct":
        return _same(direct)
    return _through(route.removeprefix("pgbouncer-"), direct)


def _same(url: str) -> Iterator[str]:
    from contextlib import nullcontext

    return nullcontext(url)  # type: ignore[return-value]


def _through(mode: str, direct: str):  # type: ignore[no-untyped-def]
    from contextlib import contextmanager

    @contextmanager
    def through() -> Iterator[str]:
        with pgbouncer(mode) as pooled:
            yield (
                make_url(pooled)
                .set(database=make_url(direct).database)
                .render_as_string(hide_password=False)
            )

    return through()


def _reset(url: str) -> None:
    """Empty the database for the next trial (its lock table stays, as in production)."""

    def drop(connection):  # type: ignore[no-untyped-def]
        names = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ]
        for name in names:
            if name != "fastapi_alembic_lock":
                connection.execute(text(f'DROP TABLE "{name}" CASCADE'))

    run_with_connection(make_url(url), drop)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_asyncpg_through_a_transaction_pooler(fresh_url: str, tmp_path: Path) -> None:
    """asyncpg prepares every statement. Through PgBouncer in transaction mode each command
    is a new client on server sessions that earlier clients used: their prepared statements
    are there, and asyncpg's own numbering ("__asyncpg_stmt_1__") collided with them from the
    second command on. Every verb works one after another, and six upgrades started at once
    apply each migration once."""
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    write_revision(
        project, "a00000000001", None, body="op.create_table('t1', sa.Column('id', sa.Integer()))"
    )
    write_revision(
        project,
        "a00000000002",
        "a00000000001",
        body="import time; time.sleep(2); op.execute('INSERT INTO t1 (id) VALUES (1)')",
    )
    with _through("transaction", fresh_url) as pooled:
        url = make_url(pooled).set(drivername="postgresql+asyncpg").render_as_string(False)
        starters = [
            subprocess.Popen(
                [str(BIN / "fastapi-alembic"), "upgrade"],
                cwd=project.root,
                env={**os.environ, "DATABASE_URL": url},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        ended = [(starter.wait(timeout=120), starter.communicate()) for starter in starters]
        assert [code for code, _ in ended] == [0] * 6, ended
        for verb in (("status",), ("current",), ("log",), ("upgrade",), ("history",)):
            result = project.run(*verb, url=url)
            assert result.exit_code == 0, (verb, result.output)
            assert "prepared statement" not in result.output
    rows = run_with_connection(
        make_url(fresh_url), lambda c: c.execute(text("SELECT count(*) FROM t1")).scalar()
    )
    assert rows == 1
    assert snapshot(fresh_url)[1] == ["a00000000002"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_statement_pooling_is_refused_before_anything_runs(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    write_revision(project, "a00000000001", None)
    with _through("statement", fresh_url) as pooled:
        refused = project.run("upgrade", url=pooled)
    assert refused.exit_code == 3, refused.output
    assert "Traceback" not in refused.output
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), refused.stderr
    assert "a pooler in statement mode" in lines[0]
    assert "transaction or session mode, or at the database directly" in lines[0]
    assert snapshot(fresh_url) == (set(), [])


# -- two URLs, one database --------------------------------------------------------------


def _other_urls(backend: str, url: str, tmp_path: Path) -> Iterator[str]:
    """Other URLs that reach the database ``url`` names."""
    parsed = make_url(url)
    if backend == "sqlite":
        database = Path(parsed.database or "")
        database.touch()
        linked = tmp_path / "elsewhere" / "linked.db"
        linked.parent.mkdir()
        linked.symlink_to(database)
        hard = database.with_name("hard.db")
        os.link(database, hard)
        yield f"sqlite:///{linked}"
        yield f"sqlite:///{hard}"
        return
    yield parsed.set(host="localhost").render_as_string(hide_password=False)
    if backend == "postgres":
        with _through("transaction", url) as pooled:
            yield pooled


def test_two_urls_for_one_database_exclude_each_other(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """The lock held through one URL keeps out an upgrade through another that reaches the
    same database: another host name, a PgBouncer alias (PostgreSQL), a symbolic or hard link
    (SQLite)."""
    (tmp_path / "project").mkdir()
    project = Project.create(tmp_path / "project", fresh_url)
    assert project.cli("init").exit_code == 0
    write_revision(project, "a00000000001", None)
    with migration_lock(LockTarget(make_url(fresh_url)), wait_seconds=5):
        for other in _other_urls(backend, fresh_url, tmp_path):
            waited = project.run("upgrade", "--lock-wait", "1", url=other)
            assert waited.exit_code == 3, (other, waited.output)
            assert f"held by fastapi-alembic pid {os.getpid()} on " in waited.stderr, other
            assert "Gave up waiting for the migration lock" in waited.stderr
    assert snapshot(fresh_url)[1] == []


# -- lost sessions and lost leases -------------------------------------------------------


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
@pytest.mark.parametrize("fault", ["killed", "idle_session_timeout"])
def test_a_lock_survives_the_server_ending_its_session(
    backend: str, fault: str, fresh_url: str, tmp_path: Path
) -> None:
    """While the holder's migration runs a 6 s statement, the server ends the holder's idle
    sessions (pg_terminate_backend, MariaDB's KILL, or PostgreSQL's idle_session_timeout set on
    the database): the holder keeps its lock, the second starter waits for it and finds
    nothing to do, and the data migration's 30 rows are written once."""
    if fault == "idle_session_timeout" and backend != "postgres":
        pytest.skip("idle_session_timeout is PostgreSQL's (MariaDB's wait_timeout: `killed`)")
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    trial = lock_faults.run_fault(fault, project.root, fresh_url)
    assert trial.exit_codes == [0, 0], "\n".join(trial.said)
    assert trial.runs == Counter({"a00000000001": 1, "a00000000002": 1})
    assert trial.backfill == 30
    assert "Nothing to upgrade" in trial.said[1], trial.said[1]
    if fault == "killed":
        assert trial.ended_sessions >= 1


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_holder_that_lost_its_lease_stops_and_nothing_runs_twice(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """The holder is paused (SIGSTOP) inside its data migration for longer than its 2 s lease:
    a second starter takes the lock once the lease has run out and finishes the upgrade; the
    holder, resumed, stops with one sentence before writing a row, and the 30 rows are there
    once."""
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    trial = lock_faults.run_fault("paused", project.root, fresh_url)
    assert trial.exit_codes == [3, 0], "\n".join(trial.said)
    holder = trial.said[0]
    assert "Traceback" not in holder
    last = holder.strip().splitlines()[-1]
    assert last.startswith("Error: Lost the migration lock on "), holder
    assert "stopped before applying or recording anything more" in last
    assert trial.runs == Counter({"a00000000001": 1, "a00000000002": 1})
    assert trial.backfill == 30
    assert concurrent_start.locks_left(fresh_url) == 0  # type: ignore[attr-defined]


def _taken(target: LockTarget, label: str, wait: float = 5) -> LeaseLock:
    """A lease lock of a 60 s lease, taken by ``label`` within ``wait`` seconds, as another
    migrator's would be."""
    from fastapi_alembic.dialects import for_url
    from fastapi_alembic.runtime.lease import LeaseLock
    from fastapi_alembic.runtime.lock import _Waiting

    lock = LeaseLock(target, for_url(target.url), 60, label)
    lock.acquire(_Waiting(target, wait, lambda _: None))
    return lock


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_the_fence_refuses_a_version_move_after_a_takeover(fresh_url: str) -> None:
    """The server's side of the argument, without the local lease: a holder whose lease was
    taken over cannot move the version, even if it believes its lease is live."""
    from fastapi_alembic.errors import MigrationLockLost
    from fastapi_alembic.runtime.lock_table import lock_table

    target = LockTarget(make_url(fresh_url))
    first = _taken(target, "first")
    try:
        table = lock_table(None)
        # Its lease ends now (as if it had been paused for a minute), and another takes it.
        run_with_connection(
            target.url,
            lambda c: c.execute(
                table.update().where(table.c.name == "alembic_version lease").values(expires_ms=0)
            ),
        )
        second = _taken(target, "second")
        try:
            with pytest.raises(MigrationLockLost, match="second took it after"):
                run_with_connection(target.url, first.fence)
        finally:
            second.release()
    finally:
        first.release()


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_statement_carrying_the_fence_holds_the_owner_row_until_it_commits(
    backend: str, fresh_url: str
) -> None:
    """The fence's condition, carried by another statement (the ledger's finished update on
    MySQL), read-locks the owner row in READ COMMITTED too: a taker cannot write it until the
    carrying transaction ends, so the version move it fences commits first."""
    from sqlalchemy import select

    from fastapi_alembic.runtime.lock_table import lock_table

    target = LockTarget(make_url(fresh_url))
    holder = _taken(target, "first")
    table = lock_table(None)
    take = table.update().where(table.c.name == "alembic_version").values(token="taker", holder="x")
    wait_briefly = (
        "SET SESSION innodb_lock_wait_timeout = 1"
        if backend == "mysql"
        else "SET lock_timeout = '1s'"
    )
    engine = make_engine(target.url)
    try:
        with engine.connect() as moving, engine.connect() as taker:  # type: ignore[union-attr]
            moving = moving.execution_options(isolation_level="READ COMMITTED")
            assert moving.execute(select(holder.fence_condition())).scalar()
            taker.exec_driver_sql(wait_briefly)
            with pytest.raises(DBAPIError):
                taker.execute(take)
            taker.rollback()
            moving.rollback()  # the carrying transaction ends: the owner row is free
            taker.execute(take)
            taker.commit()
            assert not moving.execute(select(holder.fence_condition())).scalar()
            moving.rollback()
    finally:
        engine.dispose()  # type: ignore[union-attr]
        holder.release()


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_giving_the_lock_back_while_the_fenced_transaction_is_open(
    backend: str, fresh_url: str
) -> None:
    """An env.py of one's own commits its transaction after our run has given the lock back.
    Giving it back does not wait for that transaction (which waits for us): the lease ends at
    once, and a taker still cannot take the lock before the version move commits."""
    from sqlalchemy import select

    from fastapi_alembic.runtime.lock_table import lock_table

    target = LockTarget(make_url(fresh_url))
    holder = _taken(target, "first")
    table = lock_table(None)
    engine = make_engine(target.url)
    try:
        with engine.connect() as moving, engine.connect() as reader:  # type: ignore[union-attr]
            assert moving.execute(select(holder.fence_condition())).scalar()
            holder.release()
            assert holder._thread is not None and not holder._thread.is_alive()
            leases = reader.execute(
                select(table.c.token).where(table.c.name == "alembic_version lease")
            ).scalar()
            reader.rollback()
            assert leases is None  # the lease ended while the transaction is open
            with pytest.raises(MigrationLockTimeout):
                _taken(target, "taker", wait=1)
            moving.commit()  # the version move commits: now the lock can be taken
            _taken(target, "taker").release()
    finally:
        engine.dispose()  # type: ignore[union-attr]
        holder.release()


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_a_takeover_during_a_migration_stops_the_version_move(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """The whole fence, as an upgrade meets it: the migration's statements all pass the local
    lease check, but another migrator's token is in the owner row when the version moves. The
    move is refused with the sentence and the version stays; on MySQL, where the ledger's
    finished update carries the fence, the DDL that committed is left refused by name."""
    project = Project.create(tmp_path, fresh_url)
    assert project.cli("init").exit_code == 0
    taken = (
        "UPDATE fastapi_alembic_lock SET token = 'not ours', holder = 'second' "
        "WHERE name = 'alembic_version'"
    )
    write_revision(
        project,
        "a00000000001",
        None,
        body="op.create_table('t1', sa.Column('id', sa.Integer())); "
        "from fastapi_alembic.dialects.engines import run_with_connection; "
        "from sqlalchemy.engine import make_url; "
        f"run_with_connection(make_url({fresh_url!r}), lambda c: c.exec_driver_sql({taken!r}), "
        "autocommit=True)",
    )
    result = project.cli("upgrade")
    assert result.exit_code == 3, result.output
    assert "Error: Lost the migration lock on " in result.stderr
    assert "second took it after this process's lease ran out" in result.stderr
    tables, versions = snapshot(fresh_url)
    assert versions == []
    if backend == "mysql":
        assert "t1" in tables  # committed as it ran: the next upgrade must not pass it by
        refused = project.cli("upgrade")
        assert refused.exit_code == 3, refused.output
        assert "Migration a00000000001 (upgrade) was interrupted at" in refused.stderr
    else:
        assert "t1" not in tables


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_user_that_cannot_make_the_lock_table_is_told_the_grant(
    fresh_url: str, tmp_path: Path
) -> None:
    """PostgreSQL 15 lets no one but the owner create in a database's public schema: the
    upgrade stops before any migration, naming the table and the grant."""
    role = f"fa_lock_{os.getpid()}"
    server = make_url(fresh_url)
    run_with_connection(
        server,
        lambda c: (
            c.execute(text(f"CREATE ROLE {role} LOGIN")),
            c.execute(text(f'GRANT CONNECT ON DATABASE "{server.database}" TO {role}')),
        ),
        autocommit=True,
    )
    try:
        project = Project.create(tmp_path, fresh_url)
        assert project.cli("init").exit_code == 0
        write_revision(project, "a00000000001", None)
        limited = server.set(username=role).render_as_string(hide_password=False)
        refused = project.run("upgrade", url=limited)
        assert refused.exit_code == 3, refused.output
        assert "Traceback" not in refused.output
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, refused.stderr
        assert lines[0].startswith("Error: Cannot take the migration lock on "), lines[0]
        assert "grant the migration's user the right to create and write" in lines[0]
        assert snapshot(fresh_url) == (set(), [])
    finally:
        run_with_connection(
            server,
            lambda c: (
                c.execute(text(f'REVOKE ALL ON DATABASE "{server.database}" FROM {role}')),
                c.execute(text(f"DROP ROLE {role}")),
            ),
            autocommit=True,
        )

"""Concurrent starters: many processes bring one fresh database to head at the same moment.

This is what happens when an app runs `lifespan(mode="upgrade")` and starts as several
replicas, or as `uvicorn --workers 4`: every process runs the same upgrade at once. Without a
lock they run the same migrations together and all but one crash.

Each trial gets a fresh database and starts PROCESSES processes (16 by default). Each imports
FastAPI-Alembic, waits for a shared instant so that they really start together, and calls
`Migrations().upgrade()`, the call the lifespan makes. The history has 10 migrations and the
fifth sleeps a few seconds, so the others arrive while one works. Every migration writes a row
into a `runs` table inside its own transaction: a migration that ran twice shows twice there.

A trial passes when every process exits 0, every migration's row is there exactly once (and
the applied-migration ledger records each as applied exactly once), the processes together
report each migration applied once (the first process to take the lock does
the work; the others find the database at head and say there was nothing to do), and the version
table is at head.

With --uvicorn the same is tried on the to-do example app served by `uvicorn --workers 4`: a
fresh database, all four workers must finish their start-up (none fails) and the app must answer.

Usage:
  .venv/bin/python -m bench.concurrent_start [--backends sqlite postgres mysql] [--trials 20]
      [--processes 16] [--slow 3] [--uvicorn-trials 5] [--postgres-url URL] [--mysql-url URL]

Exits 1 when any trial fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bench import lock_faults
from fastapi_alembic import Migrations
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection

SERVERS = {
    "postgres": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
REPOSITORY = Path(__file__).resolve().parents[1]
TODO_APP = REPOSITORY / "examples" / "todo"
#: The applied-migration ledger's default table: where present, it must agree too.
LEDGER = "fastapi_alembic_ledger"
#: The migration lock's table on a server.
LOCK_TABLE = "fastapi_alembic_lock"

# What each starter runs: ready, wait for the common instant, then the lifespan's upgrade
# (or, with cli, `fastapi-alembic upgrade --json`, the release step's command).
CLI_STARTER = """
import json, os, subprocess, sys, time
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
done = subprocess.run(
    [os.path.join(os.path.dirname(sys.executable), "fastapi-alembic"), "upgrade", "--json"],
    capture_output=True, text=True,
)
lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
result = json.loads(lines[-1]) if lines else {}
if done.returncode or result.get("event") != "result":
    print(json.dumps({"error": (done.stderr.strip() or done.stdout.strip())[-400:]}))
    sys.exit(1)
print(json.dumps({"applied": [step["revision"] for step in result["steps"]]}))
"""
STARTER = """
import json, os, sys, time
from fastapi_alembic import Migrations
migrations = Migrations()
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
try:
    result = migrations.upgrade()
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    sys.exit(1)
print(json.dumps({"applied": [step.revision for step in result.steps]}))
"""

REVISION = '''\
"""step {number}"""
import os
import time

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {parent!r}
BACKFILL_ROWS = {backfill}
branch_labels = None
depends_on = None


def upgrade():
    if {first}:
        op.create_table(
            "runs",
            sa.Column("revision", sa.String(32), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
        )
        op.create_table(
            "backfill",
            sa.Column("n", sa.Integer, nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
        )
    op.create_table("step_{number}", sa.Column("id", sa.Integer, primary_key=True))
    time.sleep({sleep})
    if {data}:
        # A data migration outside any transaction: each row commits as it is written, so
        # only the lock stands between it and a second run.
        with op.get_context().autocommit_block():
            for n in range(BACKFILL_ROWS):
                op.execute(
                    sa.text("INSERT INTO backfill (n, pid) VALUES (:n, :pid)").bindparams(
                        n=n, pid=os.getpid()
                    )
                )
    op.execute(
        sa.text("INSERT INTO runs (revision, pid) VALUES (:revision, :pid)").bindparams(
            revision=revision, pid=os.getpid()
        )
    )


def downgrade():
    op.drop_table("step_{number}")
'''


def revision_id(number: int) -> str:
    return f"c0ffee{number:06d}"


#: Rows the data migration (in an autocommit_block) writes: exactly these must be there.
BACKFILL_ROWS = 30


def write_project(folder: Path, migrations: int, slow_seconds: float) -> None:
    """A project whose history has ``migrations`` steps, the middle one slow, the one after
    it a data migration in an autocommit_block."""
    (folder / "starter_models.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
    )
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "starters"\n\n[tool.fastapi-alembic]\nmetadata = "starter_models:Base"\n'
    )
    Migrations(root=folder, url="sqlite://").init()
    versions = folder / "migrations" / "versions"
    slow = migrations // 2
    for number in range(1, migrations + 1):
        parent = revision_id(number - 1) if number > 1 else None
        body = REVISION.format(
            number=number,
            revision=revision_id(number),
            parent=parent,
            first=number == 1,
            sleep=slow_seconds if number == slow else 0,
            data=number == min(slow + 1, migrations),
            backfill=BACKFILL_ROWS,
        )
        (versions / f"{revision_id(number)}_step_{number}.py").write_text(body)


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = folder / f"app_{time.monotonic_ns()}.db"
        yield f"sqlite:///{path}"
        for_url(make_url(f"sqlite:///{path}")).drop_database(make_url(f"sqlite:///{path}"))
        return
    server = make_url(SERVERS[backend])
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("starters"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


@dataclass
class Trial:
    processes: int
    exit_codes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)  # as the processes reported
    recorded: Counter[str] = field(default_factory=Counter)  # rows in the runs table
    #: Upgrade steps the applied-migration ledger records as applied (None: no ledger).
    ledger: Counter[str] | None = None
    at_head: bool = False
    seconds: float = 0.0
    #: Rows the data migration in the autocommit_block left (BACKFILL_ROWS when it ran once).
    backfill: int = 0
    #: Locks still held once every process has exited: lock rows naming a holder, advisory
    #: locks (PostgreSQL), a lock file naming a holder (SQLite).
    locks_left: int = 0

    def ok(self, migrations: int) -> bool:
        expected = Counter(revision_id(n) for n in range(1, migrations + 1))
        return (
            self.exit_codes == [0] * self.processes
            and not self.errors
            and self.applied == expected
            and self.recorded == expected
            and self.ledger in (None, expected)
            and self.at_head
            and self.backfill == BACKFILL_ROWS
            and self.locks_left == 0
        )


def run_trial(
    folder: Path, url: str, processes: int, migrations: int, *, cli: bool = False
) -> Trial:
    """Start ``processes`` upgrades of ``url`` at one instant (the lifespan's call, or with
    ``cli`` the `fastapi-alembic upgrade` command); what they did and left."""
    trial = Trial(processes)
    environment = {**os.environ, "DATABASE_URL": url, "START_AT": str(time.time() + 3.0)}
    started = time.monotonic()
    running = [
        subprocess.Popen(
            [sys.executable, "-c", CLI_STARTER if cli else STARTER],
            cwd=folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for process in running:
        stdout, stderr = process.communicate(timeout=600)
        trial.exit_codes.append(process.returncode)
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        report = json.loads(lines[-1]) if lines else {"error": stderr.strip()[-300:]}
        if "error" in report:
            trial.errors.append(report["error"])
        trial.applied.update(report.get("applied", []))
    trial.seconds = time.monotonic() - started

    def read(connection):  # type: ignore[no-untyped-def]
        tables = set(inspect(connection).get_table_names())
        runs = (
            [row[0] for row in connection.execute(text("SELECT revision FROM runs"))]
            if "runs" in tables
            else []
        )
        version = (
            [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
            if "alembic_version" in tables
            else []
        )
        ledger = (
            Counter(
                row[0]
                for row in connection.execute(
                    text(
                        f"SELECT revision FROM {LEDGER} "
                        "WHERE direction = 'up' AND outcome = 'applied'"
                    )
                )
            )
            if LEDGER in tables
            else None
        )
        backfill = (
            connection.execute(text("SELECT count(*) FROM backfill")).scalar_one()
            if "backfill" in tables
            else 0
        )
        return runs, version, ledger, backfill

    runs, version, trial.ledger, trial.backfill = run_with_connection(make_url(url), read)
    trial.recorded.update(runs)
    trial.at_head = version == [revision_id(migrations)]
    trial.locks_left = locks_left(url)
    return trial


def locks_left(url: str) -> int:
    """Migration locks still held on the database ``url`` names."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database or "").resolve().parent
        return sum(1 for lock in folder.glob(".fastapi-alembic-*.lock") if lock.read_text())

    def read(connection):  # type: ignore[no-untyped-def]
        held = 0
        if LOCK_TABLE in inspect(connection).get_table_names():
            held += connection.execute(
                text(f"SELECT count(*) FROM {LOCK_TABLE} WHERE token IS NOT NULL")
            ).scalar_one()
        if parsed.get_backend_name() == "postgresql":
            held += connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).scalar_one()
        return held

    return int(run_with_connection(parsed, read))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerTrial:
    started_workers: int = 0
    failed_workers: int = 0
    answered: bool = False
    at_head: bool = False
    detail: str = ""

    def ok(self, workers: int) -> bool:
        return (
            self.started_workers == workers
            and not self.failed_workers
            and self.answered
            and self.at_head
        )


def _serve(
    trial: ServerTrial, log: IO[str], url: str, port: int, workers: int, timeout: float
) -> str:
    """Run uvicorn until its workers have started (or failed), ask the app, stop it."""
    uvicorn = Path(sys.executable).parent / "uvicorn"
    server = subprocess.Popen(
        [str(uvicorn), "todo.app:app", "--workers", str(workers), "--port", str(port)],
        cwd=TODO_APP,
        env={**os.environ, "DATABASE_URL": url},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.poll() is None:
            log.seek(0)
            output = log.read()
            trial.started_workers = output.count("Application startup complete.")
            trial.failed_workers = output.count("Application startup failed.")
            if trial.started_workers + trial.failed_workers >= workers:
                break
            time.sleep(0.2)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/todo/", timeout=10) as answer:
                trial.answered = answer.status == 200
        except OSError as error:
            trial.detail = f"no answer: {error}"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.seek(0)
        output = log.read()
    return output


def run_uvicorn_trial(url: str, workers: int = 4, timeout: float = 120.0) -> ServerTrial:
    """Serve the to-do app with ``uvicorn --workers`` on a fresh database, then stop it."""
    trial = ServerTrial()
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        output = _serve(trial, log, url, port, workers, timeout)
    head = Migrations(root=TODO_APP, url=url).heads()[0].revision
    trial.at_head = Migrations(root=TODO_APP, url=url).current() == (head,)
    if not trial.ok(workers) and not trial.detail:
        trial.detail = output[-600:]
    return trial


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--migrations", type=int, default=10)
    parser.add_argument("--slow", type=float, default=3.0, help="seconds the slow migration takes")
    parser.add_argument("--uvicorn-trials", type=int, default=5)
    parser.add_argument("--postgres-url", default=SERVERS["postgres"])
    parser.add_argument("--mysql-url", default=SERVERS["mysql"])
    parser.add_argument("--routes", nargs="*", default=list(lock_faults.ROUTES))
    parser.add_argument("--route-trials", type=int, default=10)
    parser.add_argument("--route-processes", type=int, default=8)
    parser.add_argument("--fault-trials", type=int, default=3)
    parser.add_argument("--lock-wait-trials", type=int, default=5)
    arguments = parser.parse_args()
    SERVERS.update(postgres=arguments.postgres_url, mysql=arguments.mysql_url)

    rows: list[tuple[str, str, int, int, int, float]] = []
    failed = False
    folder = Path(tempfile.mkdtemp(prefix="concurrent_start_"))
    try:
        write_project(folder, arguments.migrations, arguments.slow)
        for backend in arguments.backends:
            passed, errors, times = 0, 0, []
            for number in range(1, arguments.trials + 1):
                with fresh_database(backend, folder) as url:
                    trial = run_trial(folder, url, arguments.processes, arguments.migrations)
                times.append(trial.seconds)
                errors += len(trial.errors)
                if trial.ok(arguments.migrations):
                    passed += 1
                else:
                    failed = True
                    print(f"{backend} trial {number} failed: {trial}", file=sys.stderr)
                print(
                    f"{backend} trial {number}: {'ok' if trial.ok(arguments.migrations) else 'FAILED'} "
                    f"in {trial.seconds:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            label = f"{arguments.processes} processes"
            if arguments.trials:
                rows.append((backend, label, arguments.trials, passed, errors, max(times)))
            if arguments.uvicorn_trials:
                passed_servers = 0
                for number in range(1, arguments.uvicorn_trials + 1):
                    with fresh_database(backend, folder) as url:
                        served = run_uvicorn_trial(url)
                    if served.ok(4):
                        passed_servers += 1
                    else:
                        failed = True
                        print(f"{backend} uvicorn trial {number} failed: {served}", file=sys.stderr)
                rows.append(
                    (
                        backend,
                        "uvicorn --workers 4",
                        arguments.uvicorn_trials,
                        passed_servers,
                        arguments.uvicorn_trials - passed_servers,
                        0.0,
                    )
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bench = sys.modules[__name__]
    sections: list[list[tuple[str, str, int, int, int, float]]] = []
    if arguments.route_trials and arguments.routes:
        sections.append(
            lock_faults.route_rows(
                bench, arguments.routes, arguments.route_trials, arguments.route_processes
            )
        )
    if arguments.fault_trials:
        sections.append(lock_faults.fault_rows(bench, arguments.fault_trials))
    if arguments.lock_wait_trials:
        sections.append(
            lock_faults.lock_wait_rows(bench, arguments.backends, arguments.lock_wait_trials, 2.0)
        )
    for section in sections:
        rows += section
        failed = failed or any(passed < trials for _, _, trials, passed, _, _ in section)

    print(
        f"\n{'backend':<10} {'starters':<46} {'trials':>6} {'all ok':>7} {'errors':>7} {'slowest':>8}"
    )
    for backend, label, trials, passed, errors, slowest in rows:
        slowest_text = f"{slowest:.1f} s" if slowest else "-"
        print(f"{backend:<10} {label:<46} {trials:>6} {passed:>7} {errors:>7} {slowest_text:>8}")
    print(
        textwrap.dedent(
            """
            all ok: trials where every process started, each migration ran exactly once
            (one row per migration in the runs table, one report of it among the processes,
            the autocommit_block's 30 rows once), no lock was left and the database ended at
            head; for uvicorn: all 4 workers started and the app answered, on a database at
            head. errors: failed processes (workers) in all trials. Routes: `fastapi-alembic
            upgrade` processes, directly or through PgBouncer. Faults: killed (the holder's
            idle sessions ended mid-migration), idle_session_timeout, paused (SIGSTOP past a
            2 s lease); ok when each migration ran once and, when paused, the holder stopped
            with its one sentence (errors: failed trials). lock_wait: trials that gave up
            within a second of the limit; the last column is then the largest overshoot.
            """
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

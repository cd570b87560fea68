"""Faults around the migration lock, shared by bench/concurrent_start.py and
tests/runtime/test_lock_poolers.py: the server ending a holder's idle sessions while it migrates
(pg_terminate_backend, MariaDB's KILL, PostgreSQL's idle_session_timeout), and a holder paused
(SIGSTOP) for longer than its lease.

Each fault trial runs a two-revision history: the tables, then a data migration in an
autocommit_block that marks its start, waits, and writes 30 rows. A holder starts; once it is in
the data migration a second starter comes; the fault is applied; both run to the end. What a
user would count is returned: exit codes, what each said, each revision's row in `runs`, the
data migration's rows, and the locks left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection

BIN = Path(sys.executable).parent
BACKFILL_ROWS = 30
#: Faults, by name: what the trial does to the holder.
FAULTS = ("killed", "idle_session_timeout", "paused")

REVISION = '''\
"""{revision}"""
import os
import pathlib
import time

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {parent!r}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
'''
TABLES = """\
    op.create_table("runs", sa.Column("revision", sa.String(20)))
    op.create_table("backfill", sa.Column("n", sa.Integer))
    op.execute(sa.text("INSERT INTO runs (revision) VALUES ('a00000000001')"))"""
DATA = """\
    with op.get_context().autocommit_block():
        if os.environ.get("MARK"):
            pathlib.Path(os.environ["MARK"]).touch()
        {wait}
        for n in range({rows}):
            op.execute(sa.text("INSERT INTO backfill (n) VALUES (:n)").bindparams(n=n))
    op.execute(sa.text("INSERT INTO runs (revision) VALUES ('a00000000002')"))"""
#: What the data migration waits with: a statement keeps its connection busy (its other
#: sessions sit idle), a sleep in Python leaves time to pause the process.
BUSY = {"postgresql": "op.execute('SELECT pg_sleep(6)')", "mysql": "op.execute('SELECT SLEEP(6)')"}
IDLE = "time.sleep(0.5)"


def write_pair(versions: Path, wait: str) -> None:
    """The two revisions into the ``versions`` folder."""
    for revision, parent, body in (
        ("a00000000001", None, TABLES),
        ("a00000000002", "a00000000001", DATA.format(wait=wait, rows=BACKFILL_ROWS)),
    ):
        (versions / f"{revision}_step.py").write_text(
            REVISION.format(revision=revision, parent=parent, body=body)
        )


@contextmanager
def through_pgbouncer(mode: str, direct: str) -> Iterator[str]:
    """``direct`` (a PostgreSQL URL) reached through a PgBouncer in ``mode``."""
    from tests.support.poolers import pgbouncer

    with pgbouncer(mode) as pooled:
        database = make_url(direct).database
        yield make_url(pooled).set(database=database).render_as_string(hide_password=False)


def end_idle_sessions(url: str) -> int:
    """End every idle session of the database ``url`` names (as wait_timeout would)."""
    parsed = make_url(url)

    def work(connection):  # type: ignore[no-untyped-def]
        if parsed.get_backend_name() == "postgresql":
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND state = 'idle' AND pid <> pg_backend_pid()"
                    ),
                    {"db": parsed.database},
                ).all()
            )
        sessions = connection.execute(
            text(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE DB = :db AND COMMAND = 'Sleep' AND ID <> CONNECTION_ID()"
            ),
            {"db": parsed.database},
        ).scalars()
        ended = 0
        for session in list(sessions):
            connection.execute(text(f"KILL {int(session)}"))
            ended += 1
        return ended

    return int(run_with_connection(parsed, work, autocommit=True))


@dataclass
class FaultTrial:
    fault: str
    exit_codes: list[int] = field(default_factory=list)  # holder, second
    said: list[str] = field(default_factory=list)  # each one's standard output and error
    runs: Counter[str] = field(default_factory=Counter)
    backfill: int = 0
    ended_sessions: int = 0
    seconds: float = 0.0

    def applied_once(self) -> bool:
        return (
            self.runs == Counter({"a00000000001": 1, "a00000000002": 1})
            and self.backfill == BACKFILL_ROWS
        )

    def ok(self) -> bool:
        """Each migration applied once; for a lost session both finish, for a lost lease the
        holder stops (exit 3) with the one sentence."""
        if self.fault == "paused":
            return (
                self.applied_once()
                and self.exit_codes == [3, 0]
                and "Error: Lost the migration lock on " in self.said[0]
                and "Traceback" not in self.said[0]
            )
        return self.applied_once() and self.exit_codes == [0, 0]


def _start(folder: Path, url: str, mark: Path | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "DATABASE_URL": url}
    if mark is not None:
        environment["MARK"] = str(mark)
    return subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade", "--lock-wait", "60"],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_fault(fault: str, folder: Path, url: str, direct: str | None = None) -> FaultTrial:
    """One fault trial on the empty database ``url`` (reached directly at ``direct``) with
    the project in ``folder`` (its versions folder empty)."""
    direct = direct or url
    backend = make_url(direct).get_backend_name()
    write_pair(folder / "migrations" / "versions", IDLE if fault == "paused" else BUSY[backend])
    pyproject = folder / "pyproject.toml"
    if fault == "paused" and "lock_lease" not in pyproject.read_text():
        pyproject.write_text(pyproject.read_text() + "lock_lease = 2\n")
    if fault == "idle_session_timeout":
        name = make_url(direct).database
        run_with_connection(
            make_url(direct),
            lambda c: c.execute(text(f'ALTER DATABASE "{name}" SET idle_session_timeout = 2500')),
            autocommit=True,
        )
    trial = FaultTrial(fault)
    started = time.monotonic()
    mark = folder / f"started-{time.monotonic_ns()}"
    holder = _start(folder, url, mark)
    deadline = time.monotonic() + 90
    while not mark.exists():
        if holder.poll() is not None or time.monotonic() > deadline:
            holder.kill()
            trial.said = ["".join(holder.communicate()), ""]
            trial.exit_codes = [holder.returncode, -1]
            return trial
        time.sleep(0.05)
    if fault == "paused":
        holder.send_signal(signal.SIGSTOP)
        try:  # the second starter takes the lock once the 2 s lease has run out
            second = _start(folder, url)
            second_said = second.communicate(timeout=120)
        finally:
            holder.send_signal(signal.SIGCONT)
        holder_said = holder.communicate(timeout=120)
    else:
        second = _start(folder, url)
        time.sleep(2)  # the second waits; the holder's lock session has been idle a while
        if fault == "killed":
            trial.ended_sessions = end_idle_sessions(direct)
        holder_said = holder.communicate(timeout=120)
        second_said = second.communicate(timeout=120)
    trial.seconds = time.monotonic() - started
    trial.exit_codes = [holder.returncode, second.returncode]
    trial.said = ["".join(holder_said), "".join(second_said)]

    def read(connection):  # type: ignore[no-untyped-def]
        runs = Counter(r[0] for r in connection.execute(text("SELECT revision FROM runs")))
        return runs, connection.execute(text("SELECT count(*) FROM backfill")).scalar_one()

    trial.runs, trial.backfill = run_with_connection(make_url(direct), read)
    return trial


# -- the benchmark's sections (bench/concurrent_start.py) ---------------------------------

Row = tuple[str, str, int, int, int, float]
ROUTES = ("direct", "pgbouncer-transaction", "pgbouncer-session")


@contextmanager
def routed(route: str, direct: str) -> Iterator[str]:
    if route == "direct":
        yield direct
    else:
        with through_pgbouncer(route.removeprefix("pgbouncer-"), direct) as pooled:
            yield pooled


def route_rows(bench: object, routes: list[str], trials: int, processes: int) -> list[Row]:
    """``processes`` `fastapi-alembic upgrade`s at once on a fresh PostgreSQL database per
    trial, reached by each route; a row per route."""
    import tempfile

    rows: list[Row] = []
    folder = Path(tempfile.mkdtemp(prefix="lock_routes_"))
    bench.write_project(folder, 5, 1.0)  # type: ignore[attr-defined]
    for route in routes:
        passed, errors, times = 0, 0, []
        for number in range(1, trials + 1):
            with (
                bench.fresh_database("postgres", folder) as direct,  # type: ignore[attr-defined]
                routed(route, direct) as url,
            ):
                trial = bench.run_trial(folder, url, processes, 5, cli=True)  # type: ignore[attr-defined]
            times.append(trial.seconds)
            errors += len(trial.errors)
            passed += trial.ok(5)
            verdict = "ok" if trial.ok(5) else f"FAILED {trial}"
            print(f"postgres {route} trial {number}: {verdict}", file=sys.stderr, flush=True)
        rows.append(("postgres", f"{route} x{processes}", trials, passed, errors, max(times)))
    return rows


#: The fault trials: (backend, route, fault).
FAULT_CASES = (
    ("postgres", "direct", "killed"),
    ("postgres", "direct", "idle_session_timeout"),
    ("postgres", "direct", "paused"),
    ("postgres", "pgbouncer-transaction", "idle_session_timeout"),
    ("postgres", "pgbouncer-transaction", "paused"),
    ("mysql", "direct", "killed"),
    ("mysql", "direct", "paused"),
)


def fault_rows(bench: object, trials: int) -> list[Row]:
    import tempfile

    from fastapi_alembic import Migrations

    rows: list[Row] = []
    for backend, route, fault in FAULT_CASES:
        passed, failures, times = 0, 0, []
        for number in range(1, trials + 1):
            folder = Path(tempfile.mkdtemp(prefix="lock_faults_"))
            (folder / "fault_models.py").write_text(
                "from sqlalchemy.orm import DeclarativeBase\n\n\n"
                "class Base(DeclarativeBase):\n    pass\n"
            )
            (folder / "pyproject.toml").write_text(
                '[project]\nname = "faults"\n\n[tool.fastapi-alembic]\n'
                'metadata = "fault_models:Base"\n'
            )
            Migrations(root=folder, url="sqlite://").init()
            with (
                bench.fresh_database(backend, folder) as direct,  # type: ignore[attr-defined]
                routed(route, direct) as url,
            ):
                trial = run_fault(fault, folder, url, direct)
            times.append(trial.seconds)
            passed += trial.ok()
            failures += not trial.ok()
            verdict = "ok" if trial.ok() else f"FAILED {trial}"
            print(f"{backend} {route} {fault} trial {number}: {verdict}", file=sys.stderr)
        label = f"{fault} ({route})"
        rows.append((backend, label, trials, passed, failures, max(times)))
    return rows


def lock_wait_rows(bench: object, backends: list[str], trials: int, limit: float) -> list[Row]:
    """How long past ``limit`` a waiter gives up (in process: no start-up in the figure);
    the row's last figure is the largest overshoot."""
    import tempfile

    from fastapi_alembic.errors import MigrationLockTimeout
    from fastapi_alembic.runtime import LockTarget, migration_lock

    rows: list[Row] = []
    for backend in backends:
        folder = Path(tempfile.mkdtemp(prefix="lock_wait_"))
        overshoots = []
        with bench.fresh_database(backend, folder) as url:  # type: ignore[attr-defined]
            target = LockTarget(make_url(url))
            with migration_lock(target, wait_seconds=5):
                for _ in range(trials):
                    started = time.monotonic()
                    try:
                        with migration_lock(target, limit, notify=lambda _: None):
                            pass
                    except MigrationLockTimeout:
                        overshoots.append(time.monotonic() - started - limit)
        within = sum(0 <= o < 1 for o in overshoots)
        rows.append(
            (backend, f"lock_wait {limit:g} s", trials, within, trials - within, max(overshoots))
        )
    return rows

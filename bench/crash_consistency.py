"""Crash consistency: kill -9 a 20-migration upgrade at a random moment, then look at the database.

Each migration makes a table, fills it, adds a column, fills that, and indexes it: five
statements, so a kill can land between two of them. Per trial the script makes a fresh
database, starts a process that runs `Migrations.upgrade()` (the CLI's and the lifespan's
upgrade), and sends SIGKILL at a moment timed from that run's own progress: a migration is
drawn at random, the child says when each migration starts, and the kill lands a random delay
after the drawn one starts, within the time one migration has taken so far in that run. Then it compares the schema with what `alembic_version` says:

- PostgreSQL and SQLite (transactional DDL): the schema must be exactly the one of the recorded
  revision, the gate must answer, and running the upgrade again must reach head.
- MariaDB/MySQL (DDL commits as it goes): a kill inside a migration leaves it half applied.
  Every such trial must be detected: the gate and `upgrade` refuse with the sentence naming the
  interrupted revision (exit 3). A trial where the schema matches the recorded revision must
  either run to head on a re-run, or be refused too (a kill after "started" was recorded and
  before the first statement ran: refused, though nothing was applied).

Usage:
  .venv/bin/python -m bench.crash_consistency [--backends sqlite postgres mysql] [--trials 50]
      [--postgres-url URL] [--mysql-url URL] [--seed N]

Prints one row per backend and exits 1 when a trial breaks the promise.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseStateError

SERVERS = {
    "postgres": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
MIGRATIONS = 20
ROWS = 1500
BOOKKEEPING = {"alembic_version", "fastapi_alembic_ledger", "fastapi_alembic_lock"}

MODELS = """
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""

REVISION = '''\
"""step {number}"""

import os

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {parent!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The bench times its kill from this line; only the real run says it, not the data-loss
    # guard's reading of upgrade() (recording operations, without a real connection).
    if os.environ.get("CRASH_PROGRESS") and isinstance(op.get_bind(), sa.engine.Connection):
        os.write(1, b"migration {number}\\n")
    table = op.create_table(
        "t_{number}",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
    )
    op.bulk_insert(table, [{{"id": i, "name": f"row {{i}}"}} for i in range({rows})])
    op.add_column("t_{number}", sa.Column("extra", sa.Integer(), nullable=True))
    op.execute("UPDATE t_{number} SET extra = id * 2")
    op.create_index("ix_t_{number}_name", "t_{number}", ["name"])


def downgrade() -> None:
    op.drop_table("t_{number}")
'''

CHILD = """
import sys, time
from fastapi_alembic import Migrations
migrations = Migrations(url=sys.argv[1], root=sys.argv[2])
print("go", flush=True)
started = time.perf_counter()
migrations.upgrade()
print(f"took {time.perf_counter() - started}", flush=True)
"""


def revision_id(number: int) -> str:
    return f"c4a5{number:08d}"


def write_project(root: Path) -> None:
    (root / "crashmodels.py").write_text(textwrap.dedent(MODELS))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "crash"\n\n[tool.fastapi-alembic]\nmetadata = "crashmodels:Base"\n'
    )
    Migrations(url="sqlite://", root=root).init()
    versions = root / "migrations" / "versions"
    for number in range(MIGRATIONS):
        parent = revision_id(number - 1) if number else None
        (versions / f"{number:02d}_{revision_id(number)}_step.py").write_text(
            REVISION.format(number=number, revision=revision_id(number), parent=parent, rows=ROWS)
        )


@dataclass(frozen=True)
class Observed:
    version: tuple[str, ...]
    consistent: bool  # the schema is exactly the recorded revision's
    detail: str


def expected_tables(version: tuple[str, ...]) -> int:
    """How many step tables the recorded revision has made."""
    return 0 if not version else int(version[0][4:]) + 1


def observe(url: str) -> Observed:
    def read(connection: Connection) -> Observed:
        inspector = inspect(connection)
        names = set(inspector.get_table_names()) - BOOKKEEPING
        version: tuple[str, ...] = ()
        if inspector.has_table("alembic_version"):
            version = tuple(
                r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))
            )
        count = expected_tables(version)
        wanted = {f"t_{n}" for n in range(count)}
        if names != wanted:
            return Observed(version, False, f"tables {sorted(names - wanted)} beyond the revision")
        for number in range(count):
            table = f"t_{number}"
            columns = {c["name"] for c in inspector.get_columns(table)}
            indexes = {i["name"] for i in inspector.get_indexes(table)}
            rows, filled = connection.execute(
                text(f"SELECT COUNT(*), COUNT(extra) FROM {table}")
            ).one()
            if columns != {"id", "name", "extra"} or f"ix_{table}_name" not in indexes:
                return Observed(version, False, f"{table} is half made")
            if rows != ROWS or filled != ROWS:
                return Observed(version, False, f"{table} has {rows} rows, {filled} filled")
        return Observed(version, True, "")

    return run_with_connection(make_url(url), read)


@contextmanager
def database(backend: str, workspace: Path, trial: int) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workspace / f'crash_{trial}.db'}"
        return
    server = make_url(SERVERS[backend])
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("crash"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


@dataclass(frozen=True)
class KillAt:
    """Kill ``fraction`` of one migration's duration after migration ``index`` starts."""

    index: int
    fraction: float


def draw_kill(rng: random.Random) -> KillAt:
    return KillAt(rng.randrange(MIGRATIONS), rng.random())


def run_child(url: str, root: Path, kill: KillAt | None, per_migration: float = 0.0) -> float:
    """Run the upgrade in a new process. Without ``kill``, let it finish and return how long it
    took. With it, SIGKILL the child once migration ``kill.index`` has started, after
    ``kill.fraction`` of the mean time the earlier migrations of this same run took (of
    ``per_migration`` when the drawn migration is the first), and return that delay.

    The moment is timed from the run's own progress, not from a duration measured once, so a
    change in the machine's load between trials does not push the kills past the end."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(root)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRASH_PROGRESS": "1"},
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != "go":
        raise RuntimeError(f"the migrator did not start: {child.communicate()[1]}")
    if kill is None:
        out, err = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"the upgrade failed: {err}")
        return float(out.split()[-1])
    starts: list[float] = []
    while len(starts) <= kill.index:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"the upgrade ended early: {child.communicate()[1]}")
        if line.startswith("migration "):
            starts.append(time.perf_counter())
    mean = (starts[-1] - starts[0]) / kill.index if kill.index else per_migration
    delay = kill.fraction * mean
    time.sleep(max(0.0, starts[-1] + delay - time.perf_counter()))
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    return delay


@dataclass
class Tally:
    backend: str
    trials: int = 0
    mid_run: int = 0  # the kill landed before head was reached
    half_applied: int = 0
    detected: int = 0  # refused by the gate with the interrupted revision named
    refused_clean: int = 0  # refused although the schema matched (killed right after "started")
    reran: int = 0  # a re-run reached head
    broken: list[str] = field(default_factory=list)


def trial(
    backend: str, url: str, root: Path, per_migration: float, kill: KillAt, tally: Tally
) -> None:
    run_child(url, root, kill, per_migration)
    tally.trials += 1
    seen = observe(url)
    at_head = seen.version == (revision_id(MIGRATIONS - 1),)
    tally.mid_run += not at_head
    migrations = Migrations(url=url, root=root)
    try:
        refused = None
        check = migrations.head_check()
    except DatabaseStateError as error:
        refused = str(error)
    transactional = for_url(make_url(url)).transactional_ddl
    if not seen.consistent:
        tally.half_applied += 1
        expected = revision_id(expected_tables(seen.version))
        if transactional:
            tally.broken.append(f"schema differs from {seen.version}: {seen.detail}")
        elif refused and f"Migration {expected} (upgrade)" in refused:
            tally.detected += 1
        else:
            tally.broken.append(f"half-applied {expected} not detected ({seen.detail}): {refused}")
        return
    if refused:
        if transactional:
            tally.broken.append(f"refused on a transactional backend: {refused}")
        else:
            tally.refused_clean += 1
        return
    if check.at_head != at_head:
        tally.broken.append(f"the gate says at_head={check.at_head} at {seen.version}")
        return
    migrations.upgrade()
    final = observe(url)
    if final.consistent and final.version == (revision_id(MIGRATIONS - 1),):
        tally.reran += 1
    else:
        tally.broken.append(f"the re-run ended at {final.version}: {final.detail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--postgres-url", default=SERVERS["postgres"])
    parser.add_argument("--mysql-url", default=SERVERS["mysql"])
    args = parser.parse_args(argv)
    SERVERS.update(postgres=args.postgres_url, mysql=args.mysql_url)
    tallies = []
    for backend in args.backends:
        tallies.append(run_backend(backend, args.trials, random.Random(args.seed)))
        print_table(tallies[-1:])
    print_table(tallies)
    return 1 if any(t.broken for t in tallies) else 0


def run_backend(backend: str, trials: int, rng: random.Random) -> Tally:
    workspace = Path(tempfile.mkdtemp(prefix="fm-crash-"))
    tally = Tally(backend)
    try:
        root = workspace / "project"
        root.mkdir()
        write_project(root)
        with database(backend, workspace, -1) as url:
            duration = run_child(url, root, None)
        started = time.perf_counter()
        for number in range(trials):
            with database(backend, workspace, number) as url:
                trial(backend, url, root, duration / MIGRATIONS, draw_kill(rng), tally)
        print(
            f"{backend}: {trials} trials in {time.perf_counter() - started:.0f} s "
            f"(upgrade takes {duration:.2f} s)",
            flush=True,
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return tally


def print_table(tallies: Sequence[Tally]) -> None:
    print(
        f"\nkill -9 at a random moment of a {MIGRATIONS}-migration upgrade, timed from its progress "
        f"(5 statements per migration, {ROWS} rows per table)"
    )
    header = (
        f"{'backend':<9} {'trials':>6} {'killed mid-run':>14} {'half applied':>12} "
        f"{'detected':>8} {'refused, clean':>14} {'re-run to head':>14} {'broken':>6}"
    )
    print(header)
    print("-" * len(header))
    for t in tallies:
        print(
            f"{t.backend:<9} {t.trials:>6} {t.mid_run:>14} {t.half_applied:>12} "
            f"{t.detected:>8} {t.refused_clean:>14} {t.reran:>14} {len(t.broken):>6}"
        )
    for t in tallies:
        for problem in t.broken:
            print(f"  {t.backend}: {problem}")


if __name__ == "__main__":
    sys.exit(main())

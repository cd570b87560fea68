"""What a test waits for its database, as pytest reports it, in both isolation modes of the
plugin, against the floor of each.

For each backend it writes a project (a synthetic history of --size revisions, 100 by default,
from bench/provisioning.py) and a test module of --rounds rounds; each round runs these tests
one after the other (interleaved, so a change of load hits every way alike), each with a body of
one ``SELECT 1`` (the test's first use of its connection) plus --body-ms of sleep:

  nothing        a test with no fixture: what pytest itself costs a test, in every figure
  savepoint      the floor of transaction mode: one connection held open for the whole run,
                 each test inside a SAVEPOINT rolled back after it (a fixture of the bench's own)
  transaction    the plugin in transaction mode, the test asking for migrated_connection
  tx-session     the same, the test asking for migrated_session (its SELECT goes through the
                 Session, which opens a SAVEPOINT inside the test's transaction)
  connection     the floor of a database of one's own: a new connection to a database that
                 exists already (an engine made once, with the package's driver settings, as
                 the plugin's; a new connection per test)
  copy           the plugin in database mode (its default), the test asking for
                 migrated_connection: a recycled copy of its own on servers, a file copy on
                 SQLite

A test's wait is what pytest reports for its set-up, call and teardown, less the sleep: the
fixtures' set-up and teardown and the first statement. The first --warmup rounds are left
out (the template build, the first copies, the first connections). Medians in milliseconds,
and the ratios against the targets: transaction mode at most 1.5 times a bare SAVEPOINT on
every backend, copy mode at most 1.5 times a new connection on PostgreSQL and MariaDB. The load average is printed before and after:
on a shared machine the figures move with it.

Usage:
  .venv/bin/python -m bench.test_database_wait [--backends sqlite postgres mysql]
      [--rounds 60] [--warmup 5] [--passes 2] [--body-ms 0] [--size 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench.provisioning import SERVERS, write_history
from fastapi_alembic.testing.templates import TemplateDatabases

WAYS = ["nothing", "savepoint", "transaction", "tx-session", "connection", "copy"]
FLOORS = {"transaction": "savepoint", "tx-session": "savepoint", "copy": "connection"}
TARGET = 1.5

CONFTEST = """
import json
import os
import time

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fastapi_alembic.dialects.engines import make_engine

WAITS = {}


@pytest.fixture(scope="session")
def floor_database(migrations, migrate_base_url):
    from fastapi_alembic.testing.templates import TemplateDatabases

    with TemplateDatabases(migrations, migrate_base_url, recycle=False) as templates:
        url = templates.create()
        yield url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def held_connection(floor_database):
    engine = make_engine(make_url(floor_database))
    connection = engine.connect()
    connection.begin()
    yield connection
    connection.rollback()
    connection.close()
    engine.dispose()


@pytest.fixture
def bare_savepoint(held_connection):
    savepoint = held_connection.begin_nested()
    yield held_connection
    savepoint.rollback()


@pytest.fixture(scope="session")
def floor_engine(floor_database):
    engine = make_engine(make_url(floor_database), poolclass=NullPool)
    with engine.connect():  # the dialect's first-connect queries: once, not per test
        pass
    yield engine
    engine.dispose()


@pytest.fixture
def new_connection(floor_engine):
    with floor_engine.connect() as connection:
        yield connection


def pytest_runtest_logreport(report):
    way = report.nodeid.rsplit("_", 1)[-1]
    WAITS.setdefault(report.nodeid, [way, 0.0])[1] += report.duration


def pytest_sessionfinish(session):
    with open(os.environ["WAITS_FILE"], "w") as out:
        json.dump(list(WAITS.values()), out)
"""

ROUND = """
def test_{n}_nothing():
    pause()


def test_{n}_savepoint(bare_savepoint):
    bare_savepoint.execute(SELECT_1)
    pause()


@pytest.mark.fastapi_alembic(isolation="transaction")
def test_{n}_transaction(migrated_connection):
    migrated_connection.execute(SELECT_1)
    pause()


@pytest.mark.fastapi_alembic(isolation="transaction")
def test_{n}_txsession(migrated_session):
    migrated_session.execute(SELECT_1)
    pause()


def test_{n}_connection(new_connection):
    new_connection.execute(SELECT_1)
    pause()


@pytest.mark.fastapi_alembic(isolation="database")
def test_{n}_copy(migrated_connection):
    migrated_connection.execute(SELECT_1)
    pause()
"""


def write_project(root: Path, size: int, rounds: int, body_ms: int) -> None:
    write_history(root, size)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    (root / "conftest.py").write_text(CONFTEST)
    head = (
        "import time\n\nimport pytest\nfrom sqlalchemy import text\n\n"
        f'SELECT_1 = text("SELECT 1")\n\n\ndef pause():\n    time.sleep({body_ms / 1000})\n\n'
    )
    body = "".join(ROUND.format(n=f"{n:04d}") for n in range(rounds))
    (root / "test_waits.py").write_text(head + textwrap.dedent(body))


def run_pass(root: Path, server: str, body_ms: int, warmup: int) -> dict[str, list[float]]:
    waits_file = root / "waits.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FASTAPI_ALEMBIC")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", f"--migrate-url={server}"],
        cwd=root,
        env={**environment, "WAITS_FILE": str(waits_file)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"the bench's tests failed on {server}:\n{done.stdout}{done.stderr}")
    found: dict[str, list[float]] = {way: [] for way in WAYS}
    names = {"txsession": "tx-session"}
    for index, (way, seconds) in enumerate(json.loads(waits_file.read_text())):
        if index >= warmup * len(WAYS):
            found[names.get(way, way)].append(seconds - body_ms / 1000)
    return found


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--passes", type=int, default=2, help="runs per backend, alternated")
    parser.add_argument("--body-ms", type=int, default=0)
    parser.add_argument("--size", type=int, default=100, help="revisions in the history")
    parser.add_argument("--postgres-url", default=SERVERS["postgres"])
    parser.add_argument("--mysql-url", default=SERVERS["mysql"])
    options = parser.parse_args(argv)
    servers = {"postgres": options.postgres_url, "mysql": options.mysql_url}
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="fa-wait-") as temporary:
        folder = Path(temporary)
        projects: dict[str, tuple[Path, str]] = {}
        for backend in options.backends:
            root = folder / backend
            root.mkdir()
            write_project(root, options.size, options.rounds, options.body_ms)
            server = (
                f"sqlite:///{folder / 'sqlite-server' / 'server.db'}"
                if backend == "sqlite"
                else servers[backend]
            )
            projects[backend] = (root, server)
            results[backend] = {way: [] for way in WAYS}
        try:
            for _ in range(options.passes):
                for backend, (root, server) in projects.items():
                    found = run_pass(root, server, options.body_ms, options.warmup)
                    for way, figures in found.items():
                        results[backend][way].extend(figures)
        finally:
            for root, server in projects.values():
                from fastapi_alembic import Migrations

                TemplateDatabases(Migrations(root=root), server).discard()
    print(f"load average after:  {load()}")
    print(
        f"\n{options.size} revisions, test bodies of {options.body_ms} ms, "
        f"{options.rounds - options.warmup} rounds x {options.passes} passes; median wait per test"
    )
    missed = []
    for backend, times in results.items():
        print(f"\n{backend}")
        medians = {way: statistics.median(figures) for way, figures in times.items() if figures}
        for way, median in medians.items():
            line = f"  {way:12s} {median * 1000:8.2f} ms"
            floor = FLOORS.get(way)
            if floor is not None:
                ratio = median / medians[floor]
                # A SQLite copy is a file copy and a new engine: no target (it has no server
                # whose connections could be kept).
                targeted = not (way == "copy" and backend == "sqlite")
                target = f"target: at most {TARGET}" if targeted else "no target on SQLite"
                line += f"   {ratio:5.2f} x {floor}  ({target})"
                if targeted and ratio > TARGET:
                    missed.append(f"{backend} {way}: {ratio:.2f} x {floor}")
            print(line)
    print()
    for line in missed:
        print(f"MISSED: {line}")
    print("All targets met." if not missed else f"{len(missed)} target(s) missed.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

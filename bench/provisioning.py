"""Per-test database provisioning: replaying migrations, create_all(), and our template copy.

For each size of a synthetic linear history (10, 100 and 500 revisions by default: every fifth
revision creates a table with a foreign key to the previous one, the others add a column), and
for each backend, it times how long a test waits for a database it may use:

  replay       create an empty database, then upgrade it from base to head
  create_all   create an empty database, then Base.metadata.create_all() (a schema the
               migrations never made: the shortcut the testing toolkit replaces)
  copy         TemplateDatabases.create() with recycling off: a fresh copy of the template
               migrated once to head (PostgreSQL: CREATE DATABASE ... TEMPLATE)
  recycled     (servers) what a test waits between two tests when the copy is recycled in
               line, as TemplateDatabases(..., ahead=0) does: the used copy is handed back
               (sessions ended, schema fingerprint checked, rows and counters reset) and
               handed out again; the test before it inserted rows into one table
  bare         (PostgreSQL) CREATE DATABASE ... TEMPLATE on an open connection: the floor
  mysqldump    (MySQL) mysqldump of the template piped into mysql: another correct copy
  like         (MySQL) CREATE TABLE ... LIKE + INSERT ... SELECT per table: fast, but it loses
               the foreign keys, so it is not a correct copy and is shown for comparison only
  plugin       (servers) what a test waits, set-up plus teardown, when, as the pytest plugin
               does, a background connection keeps one copy ready and recycles (or drops)
               used ones, with tests of --test-ms each: "fresh" with recycling off,
               "recycled" with it on (the plugin's default)

Each database is dropped after it is timed (the drop is not timed). Runs alternate between the
ways so a change of load hits every one alike; the figure is the median. The ratios printed at
the end are the promises of docs/testing.md: at 100 revisions the copy is at least 20 times
faster than replaying (aim: 50) on PostgreSQL and SQLite (and MariaDB), judged on what a test
waits: a copy on SQLite, an in-line recycled copy on servers; a SQLite copy takes under 5 ms;
a fresh PostgreSQL copy costs at most 1.5 times a bare CREATE DATABASE ... TEMPLATE.

Usage:
  .venv/bin/python -m bench.provisioning [--sizes 10 100 500] [--backends sqlite postgres mysql]
      [--repeat 5] [--postgres-url URL] [--mysql-url URL]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import URL, make_url

from fastapi_alembic import Migrations
from fastapi_alembic.config import import_metadata
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import make_engine, run_with_connection
from fastapi_alembic.errors import DatabaseUnreachable
from fastapi_alembic.testing.templates import TemplateDatabases

SERVERS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}
ENV = "from fastapi_alembic.env import run_migrations\n\nrun_migrations()\n"
PER_TABLE = 5


def write_history(root: Path, size: int) -> Migrations:
    """A project whose models match the schema its ``size`` revisions build."""
    module = f"bench_models_{uuid.uuid4().hex[:8]}"
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV)
    (root / "pyproject.toml").write_text(
        f'[tool.fastapi-alembic]\nmetadata = "{module}:metadata"\n'
    )
    tables: dict[int, list[str]] = {}
    previous = None
    for number in range(1, size + 1):
        table, slot = divmod(number - 1, PER_TABLE)
        if slot == 0:
            reference = (
                f', sa.Column("parent_id", sa.Integer, sa.ForeignKey("t{table - 1}.id"))'
                if table
                else ""
            )
            up = (
                f'op.create_table("t{table}", sa.Column("id", sa.Integer, primary_key=True), '
                f'sa.Column("name", sa.String(50), nullable=False){reference})'
            )
            down = f'op.drop_table("t{table}")'
            tables[table] = []
        else:
            kind = "sa.Integer()" if number % 2 else "sa.String(80)"
            up = f'op.add_column("t{table}", sa.Column("c{number}", {kind}, nullable=True))'
            down = f'op.drop_column("t{table}", "c{number}")'
            tables[table].append(f'sa.Column("c{number}", {kind}, nullable=True)')
        revision = f"{number:04d}{uuid.uuid4().hex[:8]}"
        (versions / f"{number:04d}_{revision}.py").write_text(
            f'"""step {number}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {revision!r}\ndown_revision = {previous!r}\nbranch_labels = None\n"
            f"depends_on = None\n\n\ndef upgrade() -> None:\n    {up}\n\n\n"
            f"def downgrade() -> None:\n    {down}\n"
        )
        previous = revision
    models = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()"]
    for table, columns in tables.items():
        parent = (
            f', sa.Column("parent_id", sa.Integer, sa.ForeignKey("t{table - 1}.id"))'
            if table
            else ""
        )
        extra = "".join(f", {c}" for c in columns)
        models.append(
            f't{table} = sa.Table("t{table}", metadata, sa.Column("id", sa.Integer, primary_key=True), '
            f'sa.Column("name", sa.String(50), nullable=False){parent}{extra})'
        )
    (root / f"{module}.py").write_text("\n".join(models) + "\n")
    return Migrations(root=root)


class Case:
    """One backend and one history size: the ways to get a database, timed alike."""

    def __init__(self, backend: str, server: URL, migrations: Migrations) -> None:
        self.backend = backend
        self.server = server
        self.dialect = for_url(server)
        self.migrations = migrations
        self.metadata: MetaData = import_metadata(
            migrations.settings.metadata_ref or "", migrations.settings.root
        )
        self.templates = TemplateDatabases(migrations, server, recycle=False)
        self.recycling = TemplateDatabases(migrations, server)
        self.times: dict[str, list[float]] = {}

    def _new_empty(self) -> URL:
        return self.dialect.create_database(self.server, self.dialect.scratch_name("bench"))

    def replay(self) -> Callable[[], None]:
        started = time.perf_counter()
        url = self._new_empty()
        self.migrations.with_url(url).upgrade("head")
        self._record("replay", started)
        return lambda: self.dialect.drop_database(url)

    def create_all(self) -> Callable[[], None]:
        started = time.perf_counter()
        url = self._new_empty()
        engine = make_engine(url)
        with engine.begin() as connection:  # type: ignore[union-attr]
            self.metadata.create_all(connection)
        engine.dispose()  # type: ignore[union-attr]
        self._record("create_all", started)
        return lambda: self.dialect.drop_database(url)

    def copy(self) -> Callable[[], None]:
        started = time.perf_counter()
        url = self.templates.create()
        self._record("copy", started)
        return lambda: self.templates.drop(url)

    def recycled(self) -> Callable[[], None]:
        used = self.recycling.create()  # after the first round, itself a recycled copy
        run_with_connection(used, _a_test_writes)
        started = time.perf_counter()
        self.recycling.drop(used)  # the test's teardown: checked and reset
        url = self.recycling.create()  # the next test's set-up: the same database
        self._record("recycled", started)
        if url.database != used.database:
            raise SystemExit(f"{self.backend}: a used copy was not recycled; see the logs")
        return lambda: self.recycling.drop(url)

    def bare(self) -> Callable[[], None]:
        store = self.templates.store
        template, name = self.templates.template(), f"fm_bench_bare_{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        store.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')  # type: ignore[attr-defined]
        self._record("bare", started)
        return lambda: store.drop(name)

    def mysqldump(self) -> Callable[[], None]:
        template, name = self.templates.template(), f"fm_bench_dump_{uuid.uuid4().hex[:8]}"
        login = [
            f"--host={self.server.host}",
            f"--port={self.server.port or 3306}",
            f"--user={self.server.username}",
        ]
        if self.server.password:
            login.append(f"--password={self.server.password}")
        started = time.perf_counter()
        self.dialect.create_database(self.server, name)
        dump = subprocess.Popen(
            ["mysqldump", *login, "--skip-comments", "--routines", "--triggers", template],
            stdout=subprocess.PIPE,
        )
        subprocess.run(["mysql", *login, name], stdin=dump.stdout, check=True)
        dump.wait()
        self._record("mysqldump", started)
        return lambda: self.dialect.drop_database(self.dialect.database_url(self.server, name))

    def like(self) -> Callable[[], None]:
        template, name = self.templates.template(), f"fm_bench_like_{uuid.uuid4().hex[:8]}"

        def work(connection: Connection) -> None:
            run = connection.exec_driver_sql
            tables = [
                t for (t,) in run(f"SHOW TABLES FROM `{template}`").all() if not t.startswith("_")
            ]
            run(f"CREATE DATABASE `{name}`")
            for table in tables:
                run(f"CREATE TABLE `{name}`.`{table}` LIKE `{template}`.`{table}`")
            run(f"INSERT INTO `{name}`.alembic_version SELECT * FROM `{template}`.alembic_version")

        started = time.perf_counter()
        run_with_connection(self.dialect.maintenance_url(self.server), work, autocommit=True)
        self._record("like", started)
        return lambda: self.dialect.drop_database(self.dialect.database_url(self.server, name))

    def close(self) -> None:
        self.recycling.close()
        self.templates.discard()

    def _record(self, way: str, started: float) -> None:
        self.times.setdefault(way, []).append(time.perf_counter() - started)

    def median(self, way: str) -> float:
        return statistics.median(self.times[way])


def _a_test_writes(connection: Connection) -> None:
    """What a test does to its database before handing it back: rows in one table."""
    connection.execute(text("INSERT INTO t0 (name) VALUES ('a'), ('b'), ('c')"))


def ways_for(backend: str) -> list[str]:
    extra = {
        "postgres": ["recycled", "bare"],
        "mysql": ["recycled", *(["mysqldump"] if shutil.which("mysqldump") else []), "like"],
    }
    return ["replay", "create_all", "copy", *extra.get(backend, [])]


def per_test(case: Case) -> float:
    """What a test waits for its database: a recycled copy where there is one."""
    return case.median("recycled" if "recycled" in case.times else "copy")


def repeats(way: str, size: int, backend: str, base: int) -> int:
    if way == "replay":  # the slow way: fewer runs as the history grows
        return max(1, base if size <= 10 else 3 if size <= 100 else 1)
    return base * (4 if backend == "sqlite" else 1)


def run_case(
    backend: str, server: URL, size: int, base_repeat: int, folder: Path, test_ms: int
) -> Case:
    migrations = write_history(folder / f"{backend}_{size}", size)
    case = Case(backend, server, migrations)
    built = time.perf_counter()
    case.templates.template()
    case.times["template build (once)"] = [time.perf_counter() - built]
    ways = ways_for(backend)
    rounds = max(repeats(w, size, backend, base_repeat) for w in ways)
    for index in range(rounds):
        for way in ways:
            if index < repeats(way, size, backend, base_repeat):
                drop = getattr(case, way)()
                drop()
    if backend != "sqlite" and test_ms >= 0:
        # As the pytest plugin runs: one copy kept ready on a background connection, used
        # copies handed back to it, and tests of test_ms each in between. Consecutive runs
        # of one way only, so no other way's time lets the next copy get ready early.
        for label, recycle in (("fresh", False), ("recycled", True)):
            ahead = TemplateDatabases(migrations, server, ahead=1, recycle=recycle)
            ahead.template()
            for index in range(max(5, base_repeat) + 2):
                started = time.perf_counter()
                url = ahead.create()
                waited = time.perf_counter() - started
                run_with_connection(url, _a_test_writes)
                time.sleep(test_ms / 1000)
                started = time.perf_counter()
                ahead.drop(url, wait=False)
                waited += time.perf_counter() - started
                if index >= 2:  # the first tests wait while the first copies are made
                    case.times.setdefault(f"plugin, {label} ({test_ms} ms tests)", []).append(
                        waited
                    )
            ahead.close()
    case.close()
    return case


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms" if seconds < 100 else f"{seconds:9.1f} s "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--test-ms",
        type=int,
        default=50,
        help="simulated test length for copies made ahead (-1: skip)",
    )
    parser.add_argument("--postgres-url", default=SERVERS["postgres"])
    parser.add_argument("--mysql-url", default=SERVERS["mysql"])
    options = parser.parse_args(argv)
    servers = {"postgres": options.postgres_url, "mysql": options.mysql_url}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fm-bench-") as temporary:
        folder = Path(temporary)
        for backend in options.backends:
            server = make_url(
                f"sqlite:///{folder / 'sqlite' / 'server.db'}"
                if backend == "sqlite"
                else servers[backend]
            )
            if backend != "sqlite":
                try:
                    run_with_connection(
                        for_url(server).maintenance_url(server),
                        lambda c: c.execute(text("SELECT 1")),
                    )
                except DatabaseUnreachable as error:
                    print(f"{backend}: skipped, {error}")
                    continue
            for size in options.sizes:
                case = run_case(backend, server, size, options.repeat, folder, options.test_ms)
                print(f"\n{backend}, {size} revisions (median of each)")
                for way, figures in case.times.items():
                    print(
                        f"  {way:24s}{milliseconds(statistics.median(figures))}  ({len(figures)} run(s))"
                    )
                copy = case.median("copy")
                print(f"  replay / copy       {case.median('replay') / copy:8.1f} x")
                print(f"  create_all / copy   {case.median('create_all') / copy:8.1f} x")
                waits = per_test(case)
                replay_ratio = case.median("replay") / waits
                if "recycled" in case.times:
                    print(f"  replay / recycled   {replay_ratio:8.1f} x")
                    print(f"  create_all / recycled {case.median('create_all') / waits:6.1f} x")
                    print(f"  copy / recycled     {copy / waits:8.1f} x")
                if "bare" in case.times:
                    bare_ratio = copy / case.median("bare")
                    print(f"  copy / bare         {bare_ratio:8.2f} x   (promise: at most 1.5)")
                    if bare_ratio > 1.5:
                        failures.append(
                            f"{backend} {size}: copy is {bare_ratio:.2f} x a bare CREATE DATABASE"
                        )
                if "mysqldump" in case.times:
                    print(f"  mysqldump / copy    {case.median('mysqldump') / copy:8.1f} x")
                if "like" in case.times:
                    print(
                        f"  like / copy         {case.median('like') / copy:8.1f} x   (loses foreign keys)"
                    )
                if size == 100 and replay_ratio < 20:
                    failures.append(
                        f"{backend} 100: a test's database only {replay_ratio:.1f} x faster "
                        "than replay"
                    )
                if backend == "sqlite" and copy > 0.005:
                    failures.append(f"sqlite {size}: a copy took {copy * 1000:.1f} ms")
    print()
    for failure in failures:
        print(f"MISSED: {failure}")
    print("All promises kept." if not failures else f"{len(failures)} promise(s) missed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

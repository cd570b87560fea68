"""How much `fastapi-alembic status` costs next to the plain-Alembic way to learn the same thing.

Plain Alembic needs two processes to tell where a database stands: `alembic current` (the
revision the database is at) and `alembic heads` (the newest revision). `fastapi-alembic status`
answers both in one process and also compares the models with the database, so its promise is to
cost no more than those two commands together: ours <= 1.10 x plain Alembic.

For each size (100 and 1000 revisions by default) the script builds a synthetic project in a
temporary folder: a models module, pyproject.toml, a migrations folder made by
`fastapi-alembic init`, and a linear history of small revision files, each adding one column or
one table. The models module declares the schema the last revision leaves, so `status` reports
that the models match; the schema therefore grows with the history (1000 revisions: 20 tables,
about 1000 columns). After one `fastapi-alembic upgrade` to head it times whole processes, run
alike and interleaved so that a change in the machine's load hits every command:

  (a) fastapi-alembic status
  (b) alembic current, then alembic heads
  (c) fastapi-alembic status --json   (for interest; not judged)

The verdict is on the median wall time. The CPU ratio (user + system time of the processes) is
printed beside it because it moves much less than wall time when other work shares the machine.

Bytecode is cached, as on a developer's machine, in a folder of the run's own; --no-bytecode
instead sets PYTHONDONTWRITEBYTECODE=1, as many container images do, so every process compiles
the revision files (and any installed module that shipped without bytecode) again.

Usage:
  .venv/bin/python -m bench.status_overhead [--sizes 100 1000] [--repeat 7] [--no-bytecode]
      [--backend sqlite|postgres|mysql] [--postgres-url URL] [--mysql-url URL] [--keep]

Exits 1 when a size fails the bound, 2 when the synthetic project is not what it claims to be
(the figures would then compare unlike work).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BOUND = 1.10
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
SERVER_OPTION = {"postgres": "postgres_url", "mysql": "mysql_url"}
# The console scripts of the interpreter running this file (the project's venv under `make bench`).
SCRIPTS = Path(sysconfig.get_path("scripts"))
FASTAPI_ALEMBIC = str(SCRIPTS / "fastapi-alembic")
ALEMBIC = str(SCRIPTS / "alembic")

# Column types cycle through what real models use; each renders the same way in the model and in
# the migration, so a compare_type=True autogenerate comparison finds nothing to change.
COLUMN_TYPES: tuple[tuple[str, str, str], ...] = (
    # (migration type, model annotation, model type)
    ("sa.String(length=80)", "str | None", "String(80)"),
    ("sa.Integer()", "int | None", "Integer"),
    ("sa.Boolean()", "bool | None", "Boolean"),
    ("sa.DateTime()", "datetime | None", "DateTime"),
    ("sa.Text()", "str | None", "Text"),
    ("sa.Numeric(precision=10, scale=2)", "Decimal | None", "Numeric(10, 2)"),
)
# A new table every so often and a column otherwise: 1000 revisions give 20 tables of about
# 50 columns, the shape of a long-lived application rather than one very wide table.
NEW_TABLE_EVERY = 50


# -- the synthetic project ------------------------------------------------------------------


@dataclass
class Table:
    name: str
    columns: list[tuple[str, int]] = field(default_factory=list)  # (name, index in COLUMN_TYPES)


@dataclass
class Step:
    revision: str
    parent: str | None
    message: str
    upgrade: str
    downgrade: str


def plan(count: int, rng: random.Random) -> tuple[list[Step], list[Table]]:
    """A linear history of ``count`` revisions and the tables it leaves."""
    tables: list[Table] = []
    steps: list[Step] = []
    parent: str | None = None
    for index in range(count):
        revision = f"{rng.getrandbits(48):012x}"
        if index % NEW_TABLE_EVERY == 0:
            table = Table(f"table_{len(tables)}")
            tables.append(table)
            # Every table after the first points at the first, as most tables point at users.
            owner = (
                ""
                if index == 0
                else (
                    '        sa.Column("owner_id", sa.Integer(), nullable=True),\n'
                    '        sa.ForeignKeyConstraint(["owner_id"], ["table_0.id"]),\n'
                )
            )
            upgrade = (
                "    op.create_table(\n"
                f'        "{table.name}",\n'
                '        sa.Column("id", sa.Integer(), nullable=False),\n'
                '        sa.Column("name", sa.String(length=100), nullable=False),\n'
                f"{owner}"
                '        sa.PrimaryKeyConstraint("id"),\n'
                "    )"
            )
            downgrade = f'    op.drop_table("{table.name}")'
            message = f"create {table.name}"
        else:
            # Spread the columns over the recent tables, as a real schema grows.
            table = tables[-1 - index % min(3, len(tables))]
            kind = index % len(COLUMN_TYPES)
            column = f"field_{index}"
            table.columns.append((column, kind))
            upgrade = (
                f'    op.add_column("{table.name}", '
                f'sa.Column("{column}", {COLUMN_TYPES[kind][0]}, nullable=True))'
            )
            # Batch mode: SQLite before 3.35 cannot drop a column in place; elsewhere it is
            # the same ALTER TABLE.
            downgrade = (
                f'    with op.batch_alter_table("{table.name}") as batch_op:\n'
                f'        batch_op.drop_column("{column}")'
            )
            message = f"add {table.name}.{column}"
        steps.append(Step(revision, parent, message, upgrade, downgrade))
        parent = revision
    return steps, tables


def revision_source(step: Step, created: str) -> str:
    """The file for ``step``, shaped as `fastapi-alembic make` writes it from script.py.mako."""
    return (
        f'"""{step.message}\n'
        "\n"
        f"Revision ID: {step.revision}\n"
        f"Revises: {step.parent or ''}\n"
        f"Create Date: {created}\n"
        '"""\n'
        "\n"
        "from collections.abc import Sequence\n"
        "\n"
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "\n"
        f"revision: str = {step.revision!r}\n"
        f"down_revision: str | Sequence[str] | None = {step.parent!r}\n"
        "branch_labels: str | Sequence[str] | None = None\n"
        "depends_on: str | Sequence[str] | None = None\n"
        "\n"
        "\n"
        "def upgrade() -> None:\n"
        f"{step.upgrade}\n"
        "\n"
        "\n"
        "def downgrade() -> None:\n"
        f"{step.downgrade}\n"
    )


def models_source(tables: Sequence[Table]) -> str:
    """Declarative models with exactly the schema the last revision leaves."""
    lines = [
        '"""Models of the synthetic benchmark app: the schema its migrations build."""',
        "",
        "from datetime import datetime",
        "from decimal import Decimal",
        "",
        "from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text",
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
        "",
        "",
        "class Base(DeclarativeBase):",
        "    pass",
    ]
    for number, table in enumerate(tables):
        lines += [
            "",
            "",
            f"class Model{number}(Base):",
            f'    __tablename__ = "{table.name}"',
            "",
            "    id: Mapped[int] = mapped_column(primary_key=True)",
            "    name: Mapped[str] = mapped_column(String(100))",
        ]
        if number:
            lines.append(
                '    owner_id: Mapped[int | None] = mapped_column(ForeignKey("table_0.id"))'
            )
        for column, kind in table.columns:
            _, annotation, model_type = COLUMN_TYPES[kind]
            lines.append(f"    {column}: Mapped[{annotation}] = mapped_column({model_type})")
    return "\n".join([*lines, ""])


def build_project(project: Project, count: int, seed: int) -> str:
    """Write the project and upgrade its database to head; return the head revision."""
    root = project.root
    steps, tables = plan(count, random.Random(seed))
    package = root / "benchapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "models.py").write_text(models_source(tables), encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "benchapp"\nversion = "0"\n\n'
        '[tool.fastapi-alembic]\nmetadata = "benchapp.models:Base"\n',
        encoding="utf-8",
    )
    run(project, FASTAPI_ALEMBIC, "init")
    versions = root / "migrations" / "versions"
    (versions / ".gitkeep").unlink(missing_ok=True)
    for number, step in enumerate(steps):
        slug = step.message.replace(" ", "_").replace(".", "_")
        created = f"2026-01-01 00:00:00.{number:06d}"
        (versions / f"{number:04d}_{step.revision}_{slug}.py").write_text(
            revision_source(step, created), encoding="utf-8"
        )
    run(project, FASTAPI_ALEMBIC, "upgrade")
    return steps[-1].revision


# -- running and timing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """A synthetic project and the environment every command in it runs with."""

    root: Path
    environment: dict[str, str]


def project_environment(url: str, pycache: Path | None) -> dict[str, str]:
    environment = {**os.environ, "DATABASE_URL": url}
    # Colour and terminal width would only add noise to the output we check.
    environment.update({"NO_COLOR": "1", "TERM": "dumb"})
    if pycache is None:
        # Nothing is written, as in an image that sets PYTHONDONTWRITEBYTECODE=1: a module with
        # no bytecode on disk already (every revision file, at least) compiles in every process.
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        # Bytecode cached as on a developer's machine, but in a folder of our own: the venv
        # and the revision folders stay as they were.
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(pycache)
    return environment


def run(project: Project, *command: str) -> str:
    """Run one command in the project as a user would, and fail loudly if it fails."""
    done = subprocess.run(
        command, cwd=project.root, env=project.environment, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchmarkInvalid(
            f"`{Path(command[0]).name} {' '.join(command[1:])}` exited "
            f"{done.returncode} in {project.root}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


@dataclass(frozen=True)
class Timing:
    wall: float
    # CPU seconds (user + system) of the processes: on a machine shared with other work the
    # wall time swings with the load, the CPU time much less, so it backs up the verdict.
    cpu: float
    outputs: list[str]


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(project: Project, *commands: Sequence[str]) -> Timing:
    """Wall and CPU time of ``commands`` run one after the other, and what each printed."""
    cpu = children_cpu()
    started = time.perf_counter()
    outputs = [run(project, *command) for command in commands]
    wall = time.perf_counter() - started
    return Timing(wall, children_cpu() - cpu, outputs)


class BenchmarkInvalid(Exception):
    """The project or a command is not what the benchmark assumes: its figures would lie."""


STATUS = ((FASTAPI_ALEMBIC, "status"),)
STATUS_JSON = ((FASTAPI_ALEMBIC, "status", "--json"),)
PLAIN = ((ALEMBIC, "current"), (ALEMBIC, "heads"))


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, timing: Timing) -> None:
        self.wall.append(timing.wall)
        self.cpu.append(timing.cpu)


@dataclass
class Result:
    revisions: int
    ours: Samples = field(default_factory=Samples)
    plain: Samples = field(default_factory=Samples)
    ours_json: Samples = field(default_factory=Samples)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours.wall) / statistics.median(self.plain.wall)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.ours.cpu) / statistics.median(self.plain.cpu)

    @property
    def passed(self) -> bool:
        return self.ratio <= BOUND


def check_answers(head: str, status_json: str, plain: Sequence[str]) -> None:
    """Both ways must report the same, correct state, or the timing compares unlike work."""
    report = json.loads(status_json)
    problems = []
    if report["current"] != [head] or report["heads"] != [head]:
        problems.append(f"status says current={report['current']} heads={report['heads']}")
    if report["pending"]:
        problems.append(f"status lists {len(report['pending'])} pending revisions")
    if not report["models_match"]:
        problems.append(f"the models differ from the database: {report['differences']}")
    for what, output in zip(("alembic current", "alembic heads"), plain, strict=True):
        if head not in output:
            problems.append(f"{what} does not print the head {head}: {output!r}")
    if problems:
        raise BenchmarkInvalid("; ".join(problems))


def measure(project: Project, count: int, repeat: int, seed: int) -> Result:
    head = build_project(project, count, seed)
    # Warm-up: writes the bytecode of every module and revision file (both tools import them
    # all) and fills the OS page cache, so no timed run pays a one-off cost the other did not.
    (status_json,) = timed(project, *STATUS_JSON).outputs
    plain_out = timed(project, *PLAIN).outputs
    timed(project, *STATUS)
    check_answers(head, status_json, plain_out)
    result = Result(count)
    # Interleaved, so a burst of load elsewhere on the machine hits each command alike.
    for _ in range(repeat):
        result.ours.add(timed(project, *STATUS))
        result.plain.add(timed(project, *PLAIN))
        result.ours_json.add(timed(project, *STATUS_JSON))
    return result


# -- databases ------------------------------------------------------------------------------


@contextmanager
def database(backend: str, root: Path, server_url: str, name: str) -> Iterator[str]:
    """A database URL for one synthetic project: a file, or a scratch database on the server."""
    if backend == "sqlite":
        yield f"sqlite:///{root / 'bench.db'}"
        return
    # Imported here: the SQLite run needs no server driver.
    from sqlalchemy.engine import make_url

    from fastapi_alembic.dialects import for_url

    server = make_url(server_url)
    dialect = for_url(server)
    url = dialect.create_database(server, name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)


# -- report ---------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def print_table(results: Sequence[Result], backend: str, repeat: int, cached: bool) -> None:
    bytecode = "bytecode cached" if cached else "no bytecode cache"
    print(
        f"\nfastapi-alembic status vs alembic current + alembic heads: {backend}, {bytecode}, "
        f"median of {repeat} runs after 1 warm-up, wall time of whole processes"
    )
    columns = (
        ("revisions", 9),
        ("ours (ms)", 9),
        ("plain alembic (ms)", 18),
        ("ratio", 5),
        ("verdict", 16),
        ("cpu ratio", 9),
        ("ours --json (ms)", 16),
    )
    header = "  ".join(f"{name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    for r in results:
        cells = (
            str(r.revisions),
            ms(statistics.median(r.ours.wall)),
            ms(statistics.median(r.plain.wall)),
            f"{r.ratio:.2f}",
            f"{'PASS' if r.passed else 'FAIL'} (<= {BOUND:.2f})",
            f"{r.cpu_ratio:.2f}",
            ms(statistics.median(r.ours_json.wall)),
        )
        print(
            "  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, columns, strict=True))
        )
    print("\nspread of wall times (min-max ms):")
    for r in results:
        print(
            f"  {r.revisions:>5} revisions: ours {ms(min(r.ours.wall))}-{ms(max(r.ours.wall))}, "
            f"plain {ms(min(r.plain.wall))}-{ms(max(r.plain.wall))}, "
            f"--json {ms(min(r.ours_json.wall))}-{ms(max(r.ours_json.wall))}"
        )


def server_url(args: argparse.Namespace) -> str:
    """The server named by --postgres-url or --mysql-url for --backend (unused for SQLite)."""
    return str(getattr(args, SERVER_OPTION.get(args.backend, "postgres_url")))


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="revision counts")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per command")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "mysql"), default="sqlite")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES, help="server for --backend postgres"
    )
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL, help="server for --backend mysql")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the revision ids")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="set PYTHONDONTWRITEBYTECODE=1, as many images do: revision files compile on every run",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the synthetic projects and print where"
    )
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be at least 1")

    results: list[Result] = []
    print(f"load average before: {load()} on {os.cpu_count()} CPUs")
    workspace = Path(tempfile.mkdtemp(prefix="fm-bench-status-"))
    try:
        for count in args.sizes:
            root = workspace / f"project_{count}"
            root.mkdir()
            name = f"fm_bench_status_{count}_{os.getpid()}"
            started = time.perf_counter()
            with database(args.backend, root, server_url(args), name) as url:
                pycache = None if args.no_bytecode else workspace / "pycache"
                project = Project(root, project_environment(url, pycache))
                print(f"{count} revisions: building and measuring ...", end=" ", flush=True)
                results.append(measure(project, count, args.repeat, args.seed))
            print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    except BenchmarkInvalid as error:
        print(f"\nThe benchmark is invalid: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"projects kept in {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")
    print_table(results, args.backend, args.repeat, cached=not args.no_bytecode)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

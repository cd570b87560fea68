"""`fastapi-alembic upgrade` from an empty database against plain `alembic upgrade head`.

The synthetic project of bench/status_overhead.py (1000 revisions by default, each adding a
column or a table), its database emptied before every run: a new SQLite file, or the scratch
database dropped and made again on the server. The peer that is judged is what a team without
FastAPI-Alembic runs: `alembic upgrade head` with Alembic's own generic env.py (no lock, no
ledger), on the same revision files. For information, `alembic upgrade head` on the env.py
`init` writes (which runs the lock and the ledger too) is timed beside it. Whole processes,
interleaved, median wall time with the CPU ratio beside it; bound 1.15x. The peak memory
(maximum resident set) of each process is compared too, with the same bound. On MySQL and
MariaDB the run also times the statements the ledger and the lock must add per migration there
(bench/mysql_ledger_floor.py) and prints the ratio against the peer with them added: the floor
under that backend's ratio.

Usage:
  .venv/bin/python -m bench.upgrade_speed [--revisions 1000] [--repeat 5]
      [--backend sqlite|postgres|mysql]

Exits 1 when over the bound, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import alembic
from sqlalchemy.engine import make_url

from bench import mysql_ledger_floor
from bench.status_overhead import (
    ALEMBIC,
    DEFAULT_MYSQL,
    DEFAULT_POSTGRES,
    FASTAPI_ALEMBIC,
    BenchmarkInvalid,
    Project,
    build_project,
    database,
    load,
    project_environment,
    server_url,
    timed,
)
from fastapi_alembic.dialects import for_url

BOUND = 1.15


def emptied(url: str) -> None:
    """The database as it was before the first migration."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return
    dialect = for_url(parsed)
    dialect.drop_database(parsed)
    dialect.create_database(parsed, parsed.database or "")


def generic_peer(project: Project, url: str) -> tuple[str, ...]:
    """The command of a project on Alembic's generic env.py: its template's env.py and
    script.py.mako beside the same versions folder, and an ini that names the URL."""
    template = Path(alembic.__file__).parent / "templates" / "generic"
    folder = project.root / "generic"
    folder.mkdir()
    for name in ("env.py", "script.py.mako"):
        shutil.copy(template / name, folder / name)
    (folder / "versions").symlink_to(project.root / "migrations" / "versions")
    ini = project.root / "generic.ini"
    text = (template / "alembic.ini.mako").read_text(encoding="utf-8")
    text = text.replace("${script_location}", "generic").replace(
        "driver://user:pass@localhost/dbname", url.replace("%", "%%")
    )
    ini.write_text(text, encoding="utf-8")
    return (ALEMBIC, "-c", str(ini), "upgrade", "head")


def peak_kib(project: Project, *command: str) -> int:
    """The command's peak resident memory (KiB), from the kernel's account of that child."""
    child = subprocess.Popen(
        command,
        cwd=project.root,
        env=project.environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise BenchmarkInvalid(f"`{' '.join(command)}` exited {child.returncode}")
    return usage.ru_maxrss


def synthetic_project_options(
    description: str | None, argv: Sequence[str] | None, *, revisions: int, repeat: int
) -> argparse.Namespace:
    """The options of a benchmark on one synthetic project (this one and bench/cli_startup.py)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=revisions)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "mysql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = synthetic_project_options(__doc__, argv, revisions=1000, repeat=5)
    server = server_url(args)
    print(f"load average before: {load()} on {os.cpu_count()} CPUs")
    workspace = Path(tempfile.mkdtemp(prefix="fa-bench-upgrade-"))
    ours: list[tuple[float, float]] = []
    plain: list[tuple[float, float]] = []
    same_env: list[tuple[float, float]] = []
    floor: mysql_ledger_floor.Floor | None = None
    try:
        root = workspace / "project"
        root.mkdir()
        with database(args.backend, root, server, f"fa_bench_upgrade_{os.getpid()}") as url:
            project = Project(root, project_environment(url, workspace / "pycache"))
            build_project(project, args.revisions, args.seed)  # warm: bytecode written
            generic = generic_peer(project, url)
            emptied(url)
            timed(project, generic)  # warm: the generic env.py's bytecode
            for _ in range(args.repeat):
                emptied(url)
                run = timed(project, (FASTAPI_ALEMBIC, "upgrade"))
                ours.append((run.wall, run.cpu))
                emptied(url)
                run = timed(project, generic)
                plain.append((run.wall, run.cpu))
                emptied(url)
                run = timed(project, (ALEMBIC, "upgrade", "head"))
                same_env.append((run.wall, run.cpu))
            emptied(url)
            ours_peak, plain_peak = [], []
            for _ in range(3):
                emptied(url)
                ours_peak.append(peak_kib(project, FASTAPI_ALEMBIC, "upgrade"))
                emptied(url)
                plain_peak.append(peak_kib(project, *generic))
            emptied(url)
        if args.backend == "mysql":
            # The floor under the ratio, in the same run: the ledger's and the lock's
            # statements alone, on the same server (bench/mysql_ledger_floor.py).
            floor = mysql_ledger_floor.measure(server, rounds=6, per_round=100)
    except BenchmarkInvalid as error:
        print(f"\nThe benchmark is invalid: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")

    def median(runs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(run[index] for run in runs)

    wall = median(ours, 0) / median(plain, 0)
    cpu = median(ours, 1) / median(plain, 1)
    print(
        f"\n{args.backend}, {args.revisions} revisions from empty, median of {args.repeat}:\n"
        f"  fastapi-alembic upgrade                     {median(ours, 0):.2f} s\n"
        f"  alembic upgrade head, generic env.py        {median(plain, 0):.2f} s\n"
        f"  alembic upgrade head, the env.py init wrote {median(same_env, 0):.2f} s "
        f"({median(ours, 0) / median(same_env, 0):.2f}x, not judged)\n"
        f"  ratio {wall:.2f}x wall, {cpu:.2f}x CPU: {'ok' if wall <= BOUND else 'OVER'} "
        f"(bound {BOUND:.2f}x)"
    )
    if floor is not None:
        # What the peer would take if it sent the statements the guarantees need on this server
        # (a durable started row before each migration's DDL, the finished row carrying the
        # lock's fence): the ratio no implementation of them can go under.
        floored = median(plain, 0) + floor.extra() * args.revisions
        print(
            f"  the ledger's and lock's statements alone ({floor.server}): "
            f"+{floor.extra() * 1000:.3f} ms per migration, {floor.ratio():.2f}x Alembic's own "
            f"statements; the peer with them added {floored:.2f} s, against which ours is "
            f"{median(ours, 0) / floored:.2f}x (bench/mysql_ledger_floor.py, docs/benchmarks.md)"
        )
    memory = statistics.median(ours_peak) / statistics.median(plain_peak)
    print(
        f"  peak memory {statistics.median(ours_peak) / 1024:.0f} MiB against "
        f"{statistics.median(plain_peak) / 1024:.0f} MiB: {memory:.2f}x, "
        f"{'ok' if memory <= BOUND else 'OVER'} (bound {BOUND:.2f}x)"
    )
    return 0 if wall <= BOUND and memory <= BOUND else 1


if __name__ == "__main__":
    sys.exit(main())

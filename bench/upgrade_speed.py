"""`fastapi-alembic upgrade` from an empty database against plain `alembic upgrade head`.

The synthetic project of bench/status_overhead.py (1000 revisions by default, each adding a
column or a table), its database emptied before every run: a new SQLite file, or the scratch
database dropped and made again on the server. Both commands run the same env.py (the one
`init` writes), so the lock and the ledger's rows and checksums, which that env.py runs, are on
both sides; the difference is what the command adds: its start-up (the gate's probe, the
command line), the data-loss guard, the progress lines. Whole
processes, interleaved, median wall time with the CPU ratio beside it; bound 1.15x. The peak
memory (maximum resident set) of each process is compared too, with the same bound.

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

from sqlalchemy.engine import make_url

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
    try:
        root = workspace / "project"
        root.mkdir()
        with database(args.backend, root, server, f"fa_bench_upgrade_{os.getpid()}") as url:
            project = Project(root, project_environment(url, workspace / "pycache"))
            build_project(project, args.revisions, args.seed)  # warm: bytecode written
            for _ in range(args.repeat):
                emptied(url)
                run = timed(project, (FASTAPI_ALEMBIC, "upgrade"))
                ours.append((run.wall, run.cpu))
                emptied(url)
                run = timed(project, (ALEMBIC, "upgrade", "head"))
                plain.append((run.wall, run.cpu))
            emptied(url)
            ours_peak, plain_peak = [], []
            for _ in range(3):
                emptied(url)
                ours_peak.append(peak_kib(project, FASTAPI_ALEMBIC, "upgrade"))
                emptied(url)
                plain_peak.append(peak_kib(project, ALEMBIC, "upgrade", "head"))
            emptied(url)
    except BenchmarkInvalid as error:
        print(f"\nThe benchmark is invalid: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")
    wall = statistics.median(w for w, _ in ours) / statistics.median(w for w, _ in plain)
    cpu = statistics.median(c for _, c in ours) / statistics.median(c for _, c in plain)
    print(
        f"\n{args.backend}, {args.revisions} revisions from empty, median of {args.repeat}:\n"
        f"  fastapi-alembic upgrade  {statistics.median(w for w, _ in ours):.2f} s\n"
        f"  alembic upgrade head     {statistics.median(w for w, _ in plain):.2f} s\n"
        f"  ratio {wall:.2f}x wall, {cpu:.2f}x CPU: {'ok' if wall <= BOUND else 'OVER'} "
        f"(bound {BOUND:.2f}x)"
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

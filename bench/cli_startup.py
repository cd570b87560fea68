"""How fast `fastapi-alembic`'s everyday commands start, next to Alembic's own.

Whole processes, interleaved, on the synthetic project of bench/status_overhead.py (SQLite by
default, 100 revisions, the database at head), each pair compared on the median wall time with
the CPU ratio beside it (CPU time moves much less than wall time when the machine is shared):

  fastapi-alembic --help    vs  alembic --help                   bound 1.0x
  fastapi-alembic current   vs  alembic current                  bound 1.0x
  fastapi-alembic status    vs  alembic current + alembic heads  bound 1.0x
  fastapi-alembic heads     vs  alembic heads                    (for interest)

Then the peak memory (maximum resident set) of `fastapi-alembic status` against the largest of
the Alembic commands that report what it reports: `alembic current`, `alembic heads` and
`alembic check` (status's "models match the database" is check's comparison, and like check it
imports the app's models, which `alembic current` no longer does on the env.py `init` writes),
bound 1.15x. The ratio against `current` and `heads` alone is printed beside it.

Usage:
  .venv/bin/python -m bench.cli_startup [--revisions 100] [--repeat 11]
      [--backend sqlite|postgres|mysql]

Exits 1 when a judged pair is over its bound, 2 when a command fails (the figures would lie).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.status_overhead import (
    ALEMBIC,
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
from bench.upgrade_speed import peak_kib, synthetic_project_options


@dataclass
class Pair:
    name: str
    ours: tuple[tuple[str, ...], ...]
    peer: tuple[tuple[str, ...], ...]
    bound: float | None
    ours_wall: list[float] = field(default_factory=list)
    peer_wall: list[float] = field(default_factory=list)
    ours_cpu: list[float] = field(default_factory=list)
    peer_cpu: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours_wall) / statistics.median(self.peer_wall)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.ours_cpu) / statistics.median(self.peer_cpu)

    @property
    def passed(self) -> bool:
        return self.bound is None or self.ratio <= self.bound


def pairs() -> list[Pair]:
    return [
        Pair("--help", ((FASTAPI_ALEMBIC, "--help"),), ((ALEMBIC, "--help"),), 1.0),
        Pair("current", ((FASTAPI_ALEMBIC, "current"),), ((ALEMBIC, "current"),), 1.0),
        Pair(
            "status",
            ((FASTAPI_ALEMBIC, "status"),),
            ((ALEMBIC, "current"), (ALEMBIC, "heads")),
            1.0,
        ),
        Pair("heads", ((FASTAPI_ALEMBIC, "heads"),), ((ALEMBIC, "heads"),), None),
    ]


def measure(project: Project, repeat: int) -> list[Pair]:
    measured = pairs()
    for pair in measured:  # warm-up: bytecode written, page cache filled, for both tools
        timed(project, *pair.ours)
        timed(project, *pair.peer)
    for _ in range(repeat):
        for pair in measured:
            ours = timed(project, *pair.ours)
            peer = timed(project, *pair.peer)
            pair.ours_wall.append(ours.wall)
            pair.ours_cpu.append(ours.cpu)
            pair.peer_wall.append(peer.wall)
            pair.peer_cpu.append(peer.cpu)
    return measured


MEMORY_BOUND = 1.15


def memory_ratio(project: Project) -> tuple[int, int, int]:
    """Peak KiB of ``status``, of the largest of Alembic's three commands, and of the larger of
    ``current`` and ``heads``; medians of 3."""
    ours, plain, reading = [], [], []
    for _ in range(3):
        ours.append(peak_kib(project, FASTAPI_ALEMBIC, "status"))
        current, heads = peak_kib(project, ALEMBIC, "current"), peak_kib(project, ALEMBIC, "heads")
        reading.append(max(current, heads))
        plain.append(max(current, heads, peak_kib(project, ALEMBIC, "check")))
    return (
        int(statistics.median(ours)),
        int(statistics.median(plain)),
        int(statistics.median(reading)),
    )


def print_table(measured: Sequence[Pair], revisions: int, backend: str, repeat: int) -> None:
    print(f"\n{backend}, {revisions} revisions, median of {repeat} interleaved runs")
    print(f"{'command':<10} {'ours ms':>8} {'alembic ms':>11} {'ratio':>6} {'cpu':>6}  verdict")
    for pair in measured:
        verdict = "-" if pair.bound is None else ("ok" if pair.passed else "OVER")
        bound = "" if pair.bound is None else f" (bound {pair.bound:.2f}x)"
        print(
            f"{pair.name:<10} {statistics.median(pair.ours_wall) * 1000:>8.0f} "
            f"{statistics.median(pair.peer_wall) * 1000:>11.0f} {pair.ratio:>5.2f}x "
            f"{pair.cpu_ratio:>5.2f}x  {verdict}{bound}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = synthetic_project_options(__doc__, argv, revisions=100, repeat=11)
    server = server_url(args)
    print(f"load average before: {load()} on {os.cpu_count()} CPUs")
    workspace = Path(tempfile.mkdtemp(prefix="fa-bench-startup-"))
    try:
        root = workspace / "project"
        root.mkdir()
        name = f"fa_bench_startup_{os.getpid()}"
        with database(args.backend, root, server, name) as url:
            project = Project(root, project_environment(url, workspace / "pycache"))
            build_project(project, args.revisions, args.seed)
            measured = measure(project, args.repeat)
            ours_peak, plain_peak, reading_peak = memory_ratio(project)
    except BenchmarkInvalid as error:
        print(f"\nThe benchmark is invalid: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")
    print_table(measured, args.revisions, args.backend, args.repeat)
    memory = ours_peak / plain_peak
    print(
        f"status peak memory {ours_peak / 1024:.0f} MiB against {plain_peak / 1024:.0f} MiB "
        f"(the largest of alembic current, heads and check): {memory:.2f}x, "
        f"{'ok' if memory <= MEMORY_BOUND else 'OVER'} (bound {MEMORY_BOUND:.2f}x); against "
        f"current and heads alone, {reading_peak / 1024:.0f} MiB: {ours_peak / reading_peak:.2f}x"
    )
    return 0 if all(pair.passed for pair in measured) and memory <= MEMORY_BOUND else 1


if __name__ == "__main__":
    sys.exit(main())

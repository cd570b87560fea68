"""The start-up gate's speed against Alembic's own way to answer "is the database at head?".

On the synthetic project of bench/status_overhead.py (a linear history of 1000 revisions by
default, upgraded to head), measured side by side and interleaved:

  (1) in process: ``Migrations.head_check()`` (the gate: revision ids read from the files'
      text, cached by name, size and mtime, then one SELECT on the version table) against
      Alembic's revision-map load plus ``get_current_heads`` (a fresh ``ScriptDirectory``,
      ``get_heads()``, and a ``MigrationContext`` on a new connection). The gate is also timed
      with its in-process snapshot dropped (the graph cache read from disk, as a new process's
      first question) and with its cache removed before each run ("cold").
      Bound: alembic / gate >= 25.
      Then both again on a connection from one pooled engine, as a readiness endpoint in the
      app would ask (``head_check(connection)`` against Alembic on the same pool); printed,
      not judged.
  (2) whole processes: a no-op ``fastapi-alembic upgrade`` against a no-op
      ``alembic upgrade head``. Bound: ours / alembic <= 0.25.

Bytecode is cached as on a developer's machine (in a folder of the run's own), after one
warm-up of each. By default each way pays for the garbage collections its own allocations
trigger, as in a running process (Alembic's map load allocates much, the gate little);
--collect instead collects before every timed call, outside the timer, which leaves Alembic's
side the cost of its allocations alone and starts every way with cold CPU caches. Medians are reported, with the CPU time of the processes for (2).

Usage:
  .venv/bin/python -m bench.startup_gate [--revisions 1000] [--repeat 15]
      [--backend sqlite|postgres|mysql] [--postgres-url URL] [--mysql-url URL] [--collect]

Exits 1 when a bound is not met, 2 when the project is not what it claims to be.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

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

IN_PROCESS_BOUND = 25.0
PROCESS_BOUND = 0.25


def in_process(
    root: Path, url: str, repeat: int, collect: bool = False
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per answer: the gate (warm and cold cache) and Alembic's way."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from fastapi_alembic import Migrations
    from fastapi_alembic.gate import scan as scan_module

    migrations = Migrations(url=url, root=root)
    cache_folder = root / "migrations" / "__pycache__"
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))

    def gate() -> object:
        check = migrations.head_check()
        if not (check.static and check.at_head):
            raise BenchmarkInvalid(f"the gate did not answer statically at head: {check}")
        return check

    def gate_new_process() -> object:
        # What a new process's first question pays for the graph: the cache file is read and
        # unpacked again (the in-process snapshot is dropped; imports stay warm).
        scan_module._SNAPSHOTS.clear()
        return gate()

    def gate_cold() -> object:
        for cache in cache_folder.glob("fastapi_alembic_revisions.*"):
            cache.unlink(missing_ok=True)
        scan_module._SNAPSHOTS.clear()
        return gate()

    app_engine = create_engine(url)  # the application's own engine, with its pool

    def gate_pooled() -> object:
        with app_engine.connect() as connection:
            check = migrations.head_check(connection)
        if not (check.static and check.at_head):
            raise BenchmarkInvalid(f"the gate did not answer statically at head: {check}")
        return check

    def alembic_pooled() -> object:
        script = ScriptDirectory.from_config(config)
        heads = script.get_heads()
        with app_engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        if set(current) != set(heads):
            raise BenchmarkInvalid(f"Alembic sees {current} against heads {heads}")
        return current

    def alembic() -> object:
        script = ScriptDirectory.from_config(config)
        heads = script.get_heads()
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_heads()
        finally:
            engine.dispose()
        if set(current) != set(heads):
            raise BenchmarkInvalid(f"Alembic sees {current} against heads {heads}")
        return current

    ways: dict[str, Callable[[], object]] = {
        "gate": gate,
        "gate, first in a process": gate_new_process,
        "gate, cold cache": gate_cold,
        "alembic": alembic,
        "gate, pooled": gate_pooled,
        "alembic, pooled": alembic_pooled,
    }
    for way in ways.values():  # warm-up: bytecode, page cache, the gate's cache
        way()
    gate()
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            if collect:
                gc.collect()  # outside the timer: no way pays for another's garbage
            started, started_cpu = time.perf_counter(), time.process_time()
            way()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    app_engine.dispose()
    return wall, cpu


def whole_processes(project: Project, repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    """(wall, cpu) seconds of a no-op upgrade, ours and Alembic's."""
    commands = {
        "fastapi-alembic upgrade": ((FASTAPI_ALEMBIC, "upgrade"),),
        "alembic upgrade head": ((ALEMBIC, "upgrade", "head"),),
    }
    for name, command in commands.items():
        output = timed(project, *command).outputs[0]
        if name.startswith("fastapi") and not output.startswith("Nothing to upgrade"):
            raise BenchmarkInvalid(f"the no-op upgrade said {output!r}")
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            timing = timed(project, *command)
            samples[name][0].append(timing.wall)
            samples[name][1].append(timing.cpu)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "mysql"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--collect",
        action="store_true",
        help="collect garbage before each timed call (outside the timer) instead of letting "
        "each way pay for the collections its allocations trigger",
    )
    args = parser.parse_args(argv)

    print(f"load average before: {load()} on {os.cpu_count()} CPUs")
    workspace = Path(tempfile.mkdtemp(prefix="fm-bench-gate-"))
    try:
        root = workspace / "project"
        root.mkdir()
        name = f"fm_bench_gate_{os.getpid()}"
        with database(args.backend, root, server_url(args), name) as url:
            project = Project(root, project_environment(url, workspace / "pycache"))
            print(f"{args.revisions} revisions: building ...", flush=True)
            build_project(project, args.revisions, args.seed)
            # The in-process run uses the same bytecode folder as the processes.
            sys.pycache_prefix = str(workspace / "pycache")
            inside, inside_cpu = in_process(root, url, args.repeat, args.collect)
            processes = whole_processes(project, args.repeat)
    except BenchmarkInvalid as error:
        print(f"\nThe benchmark is invalid: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")

    labels = {
        "gate": "gate (Migrations.head_check)",
        "gate, first in a process": "gate, graph cache read from disk",
        "gate, cold cache": "gate, its cache removed first",
        "alembic": "alembic: revision map + current heads",
    }
    median = {name: statistics.median(values) for name, values in inside.items()}
    median_cpu = {name: statistics.median(values) for name, values in inside_cpu.items()}
    print(
        f"\n(1) is the database at head? in process, {args.backend}, {args.revisions} "
        f"revisions, median of {args.repeat}"
    )
    print(f"{'way':<40} {'wall ms':>8} {'ratio':>6} {'cpu ms':>8} {'ratio':>6}")
    for name, label in labels.items():
        print(
            f"{label:<40} {ms(median[name]):>8} {median['alembic'] / median[name]:>6.1f} "
            f"{ms(median_cpu[name]):>8} {median_cpu['alembic'] / median_cpu[name]:>6.1f}"
        )
    print("on a connection from the application's pooled engine (not judged):")
    for name, label in {
        "gate, pooled": "gate (head_check(connection))",
        "alembic, pooled": "alembic: revision map + current heads",
    }.items():
        print(
            f"{label:<40} {ms(median[name]):>8} "
            f"{median['alembic, pooled'] / median[name]:>6.1f} {ms(median_cpu[name]):>8} "
            f"{median_cpu['alembic, pooled'] / median_cpu[name]:>6.1f}"
        )
    speedup = median["alembic"] / median["gate"]
    speedup_cpu = median_cpu["alembic"] / median_cpu["gate"]
    verdict_1 = speedup >= IN_PROCESS_BOUND
    print(
        f"verdict: {'PASS' if verdict_1 else 'FAIL'} (wall ratio >= {IN_PROCESS_BOUND:g}x); "
        f"cpu ratio {speedup_cpu:.1f}x, gate {ms(median['gate'])} ms wall "
        f"(target < 20 ms)"
    )

    ours_wall, ours_cpu = processes["fastapi-alembic upgrade"]
    plain_wall, plain_cpu = processes["alembic upgrade head"]
    ratio = statistics.median(ours_wall) / statistics.median(plain_wall)
    cpu_ratio = statistics.median(ours_cpu) / statistics.median(plain_cpu)
    print(f"\n(2) no-op upgrade, whole processes, median of {args.repeat}")
    print(f"{'command':<28} {'wall ms':>8} {'cpu ms':>8}")
    print(f"{'fastapi-alembic upgrade':<28} {ms(statistics.median(ours_wall)):>8} "
          f"{ms(statistics.median(ours_cpu)):>8}")  # fmt: skip
    print(f"{'alembic upgrade head':<28} {ms(statistics.median(plain_wall)):>8} "
          f"{ms(statistics.median(plain_cpu)):>8}")  # fmt: skip
    verdict_2 = ratio <= PROCESS_BOUND
    print(
        f"ratio {ratio:.2f} (cpu {cpu_ratio:.2f}): {'PASS' if verdict_2 else 'FAIL'} "
        f"(<= {PROCESS_BOUND:g})"
    )
    return 0 if verdict_1 and verdict_2 else 1


if __name__ == "__main__":
    sys.exit(main())

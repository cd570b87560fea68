"""Whether every verb's time grows linearly with the history: 5,000 against 50,000 revisions.

A synthetic project on SQLite: one table in the models, and a linear history whose every
revision runs one small statement (`UPDATE items SET n = n WHERE id < 0`: real SQL for lint to
read, nothing to change). The smaller database is upgraded for real; both are then stamped at
head, so the no-op `upgrade` has nothing to do. Each verb runs as a whole process, once per
size (the sizes differ tenfold, far beyond the noise), and the script prints the ratio of the
two times against the bound of 12x (linear, with room for a larger working set). It judges the
processes' CPU time (user + system), which other work on a shared machine barely moves, and
prints the wall time beside it.

  heads, status, history, check --no-database, lint, upgrade (no-op)

Usage:
  .venv/bin/python -m bench.history_scale [--sizes 5000 50000] [--timeout 1800]

Exits 1 when a verb is over the bound or does not finish within --timeout seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.status_overhead import FASTAPI_ALEMBIC, children_cpu, load

BOUND = 12.0
VERBS: tuple[tuple[str, ...], ...] = (
    ("heads",),
    ("status",),
    ("history",),
    ("check", "--no-database"),
    ("lint",),
    ("upgrade",),
)

MODELS = """\
from sqlalchemy import Integer, MetaData, Column, Table

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("n", Integer))
"""

FIRST = '''\
"""create items"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("items")
'''

STEP = '''\
"""step {number}"""
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE items SET n = n WHERE id < 0")


def downgrade() -> None:
    op.execute("UPDATE items SET n = n WHERE id < 0")
'''


def revision_id(number: int) -> str:
    return f"{number:012x}"


def build(root: Path, count: int) -> dict[str, str]:
    (root / "benchmodels.py").write_text(MODELS, encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\n\n[tool.fastapi-alembic]\nmetadata = "benchmodels:metadata"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{root / 'bench.db'}", "NO_COLOR": "1"}
    # Bytecode cached as on a developer's machine, in a folder of the run's own.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    run(root, env, "init")
    versions = root / "migrations" / "versions"
    (versions / ".gitkeep").unlink(missing_ok=True)
    (versions / f"{revision_id(1)}_create_items.py").write_text(
        FIRST.format(revision=revision_id(1)), encoding="utf-8"
    )
    for number in range(2, count + 1):
        (versions / f"{revision_id(number)}_step.py").write_text(
            STEP.format(number=number, revision=revision_id(number), down=revision_id(number - 1)),
            encoding="utf-8",
        )
    run(root, env, "upgrade", revision_id(1))
    run(root, env, "stamp", "head")
    run(root, env, "heads")  # warm: bytecode written, the gate's cache filled
    return env


def run(root: Path, env: dict[str, str], *args: str, timeout: float = 3600) -> float:
    """The wall time of one command, in seconds (see :func:`timed` for the CPU time too)."""
    return timed(root, env, *args, timeout=timeout)[0]


def timed(
    root: Path, env: dict[str, str], *args: str, timeout: float = 3600
) -> tuple[float, float]:
    """Wall and CPU time (user + system, of the process and its children) of one command."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [FASTAPI_ALEMBIC, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu
    if done.returncode not in (0, 1):  # check and lint may find something: still timed
        raise RuntimeError(
            f"`fastapi-alembic {' '.join(args)}` exited {done.returncode}:\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return wall, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[5000, 50000])
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    small, large = args.sizes
    print(f"load average before: {load()}")
    workspace = Path(tempfile.mkdtemp(prefix="fa-bench-scale-"))
    times: dict[int, dict[str, tuple[float, float] | None]] = {}
    try:
        for count in (small, large):
            root = workspace / str(count)
            root.mkdir()
            started = time.perf_counter()
            env = build(root, count)
            print(f"{count} revisions built in {time.perf_counter() - started:.0f} s", flush=True)
            times[count] = {}
            for verb in VERBS:
                name = " ".join(verb)
                try:
                    times[count][name] = timed(root, env, *verb, timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    times[count][name] = None
                print(f"  {name}: {times[count][name]}", flush=True)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f"load average after: {load()}")
    print(
        f"\n{'verb':<22} {'CPU s':>8} {'CPU s':>8} {'ratio':>6}   {'wall s':>8} {'wall s':>8}"
        f" {'ratio':>6}  verdict (CPU, bound {BOUND:.0f}x)"
    )
    print(f"{'':<22} {small:>8} {large:>8} {'':>6}   {small:>8} {large:>8}")
    ok = True
    for verb in VERBS:
        name = " ".join(verb)
        a, b = times[small][name], times[large][name]
        if a is None or b is None:
            ok = False
            print(f"{name:<22} did not finish within --timeout")
            continue
        cpu_ratio, wall_ratio = b[1] / a[1], b[0] / a[0]
        ok &= cpu_ratio <= BOUND
        print(
            f"{name:<22} {a[1]:>8.2f} {b[1]:>8.2f} {cpu_ratio:5.1f}x   {a[0]:>8.2f} {b[0]:>8.2f}"
            f" {wall_ratio:5.1f}x  {'ok' if cpu_ratio <= BOUND else 'OVER'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

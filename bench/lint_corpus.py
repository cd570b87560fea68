"""Lint's accuracy on the corpus of labelled revisions, and its speed on a 1000-revision history.

Accuracy: tests/support/lint_corpus.py holds revisions written the way people write them (autogenerate
output, hand edits, data migrations, raw SQL), each labelled with the rules it must trigger, or
none for a safe one. Printed: recall (dangerous revisions whose every expected rule was found),
precision (findings that were expected, over all alarms) and the false-alarm rate (safe
revisions with any alarm; a warning about downgrade() fails nothing and is not one). Targets:
recall 100 %, false alarms under 5 %; without a database, and with one of each backend
(--backends) whose tables hold rows past the size the rules start at.

Speed: a project with N revisions (default 1000: the corpus entries repeated in one linear
history on top of the base schema) is linted for every backend, no database, in this process,
files loaded by Alembic included. Side by side: the time Alembic alone takes to load the same
revision files (ScriptDirectory walking them), so the ratio is lint's own cost. Target: the
whole lint under 5 s.

Usage:
  .venv/bin/python -m bench.lint_corpus [--revisions 1000] [--repeat 3] [--backends sqlite postgres mysql]

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic import revisions as graph
from fastapi_alembic.dialects import for_url
from fastapi_alembic.urls import mask_url
from tests.support.lint_corpus import BASE, BASE_DOWN, CORPUS, evaluate
from tests.support.lint_helpers import revision_source

SERVERS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def accuracy(folder: Path, url: str | None = None, label: str = "without a database") -> bool:
    scores = evaluate(folder, url)
    print(
        f"corpus, {label}: {len(scores.outcomes)} revisions, {len(scores.dangerous)} dangerous, "
        f"{len(scores.safe)} safe"
    )
    for outcome in scores.outcomes:
        if outcome.missed or outcome.unexpected:
            print(
                f"  {outcome.entry.name}: missed {sorted(outcome.missed)}, "
                f"unexpected {sorted(outcome.unexpected)}"
            )
    print(f"  recall           {scores.recall:7.1%}   (target 100 %)")
    print(f"  precision        {scores.precision:7.1%}")
    print(f"  false-alarm rate {scores.false_alarm_rate:7.1%}   (target < 5 %)")
    return scores.recall == 1.0 and scores.false_alarm_rate < 0.05


def write_history(root: Path, count: int) -> Migrations:
    (root / "bench_models.py").write_text("import sqlalchemy as sa\nmetadata = sa.MetaData()\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\n\n[tool.fastapi-alembic]\nmetadata = "bench_models:metadata"\n'
    )
    migrations = Migrations(url=f"sqlite:///{root / 'app.db'}", root=root)  # init needs one
    migrations.init()
    versions = root / "migrations" / "versions"
    parent = None
    for number in range(count):
        item = CORPUS[number % len(CORPUS)] if number else None
        upgrade, downgrade, header = (
            (item.upgrade, item.downgrade, item.header) if item else (BASE, BASE_DOWN, "")
        )
        revision = f"{number:012x}"
        # The corpus's app package is importable: evaluate() made it first.
        source = revision_source(upgrade, downgrade, header)
        source = source.replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\n\n"
            + textwrap.dedent(
                f"""\
                revision = {revision!r}
                down_revision = {parent!r}
                branch_labels = None
                depends_on = None
                """
            ),
            1,
        )
        (versions / f"{revision}_r.py").write_text(source)
        parent = revision
    return migrations


def speed(folder: Path, count: int, repeat: int) -> bool:
    write_history(folder, count)
    lint_times, load_times = [], []
    for _ in range(repeat):
        fresh = Migrations(root=folder)
        started = time.perf_counter()
        graph.ordered(fresh.script_directory())
        load_times.append(time.perf_counter() - started)
        fresh = Migrations(root=folder)  # no URL: every backend's rules
        started = time.perf_counter()
        report = fresh.lint(database=False)
        lint_times.append(time.perf_counter() - started)
    assert len(report.revisions) == count and len(report.backends) == 3, report.backends
    lint_time, load_time = statistics.median(lint_times), statistics.median(load_times)
    print(f"\n{count} revisions, every backend's rules, no database (median of {repeat}):")
    print(f"  Alembic loading the files        {load_time:6.2f} s")
    print(f"  fastapi-alembic lint (all of it) {lint_time:6.2f} s   (target < 5 s)")
    print(f"  ratio lint / loading             {lint_time / load_time:6.1f} x")
    print(f"  findings: {len(report.errors)} errors, {len(report.warnings)} warnings")
    return lint_time < 5.0


def accuracy_with_database(backend: str) -> bool:
    """The corpus on a scratch database of ``backend`` (its tables holding rows), dropped after."""
    with tempfile.TemporaryDirectory() as folder:
        if backend == "sqlite":
            return accuracy(Path(folder), f"sqlite:///{folder}/corpus.db", "with a SQLite database")
        server = make_url(os.environ.get(f"TEST_{backend.upper()}_URL", SERVERS[backend]))
        dialect = for_url(server)
        url = dialect.create_database(server, dialect.scratch_name("corpus"))
        try:
            label = f"with a {backend} database ({mask_url(url)})"
            return accuracy(Path(folder), url.render_as_string(hide_password=False), label)
        finally:
            dialect.drop_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--backends",
        nargs="*",
        default=["sqlite", "postgres", "mysql"],
        choices=["sqlite", "postgres", "mysql"],
    )
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as accuracy_folder,
        tempfile.TemporaryDirectory() as speed_folder,
    ):
        accurate = accuracy(Path(accuracy_folder))
        for backend in options.backends:
            accurate = accuracy_with_database(backend) and accurate
        fast = speed(Path(speed_folder), options.revisions, options.repeat)
    return 0 if accurate and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())

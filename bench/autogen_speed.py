"""`make` against plain Alembic autogenerate on the same 300 tables, side by side.

Each backend gets two databases holding the same 300 tables (a name, a timestamp with a server
default, a flag, an amount, an index, and a foreign key to the table before), each made by its
side's own first revision, so both sides load the same history. The models then
gain one column, and a revision is generated again and again, alternating (ABBA): plain Alembic (the
env.py `alembic init` writes, aimed at the models, compare_type on) on one database, and
`Migrations.make` on the other. Each written revision is deleted before the next run. The
figure is the median; the promise (docs/benchmarks.md) is that make takes at most 1.1 times as
long as plain autogenerate.

Usage:
  .venv/bin/python -m bench.autogen_speed [--tables 300] [--repeat 9]
      [--backends sqlite postgres mysql]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    false,
    func,
)
from sqlalchemy.engine import URL, make_url

from fastapi_alembic import Migrations
from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import MigrationsError
from tests.support.backends import SERVER_URLS


def models(tables: int, extra: bool) -> MetaData:
    metadata = MetaData()
    for number in range(tables):
        columns: list[object] = [
            Column("id", Integer, primary_key=True),
            Column("name", String(100), nullable=False),
            Column("created_at", DateTime, server_default=func.now(), nullable=False),
            Column("active", Boolean, server_default=false(), nullable=False),
            Column("amount", Numeric(10, 2)),
        ]
        if number:
            columns.append(Column("parent_id", ForeignKey(f"t{number - 1}.id")))
        if extra and number == tables - 1:
            columns.append(Column("note", String(200)))
        Table(f"t{number}", metadata, *columns, Index(f"ix_t{number}_name", "name"))
    return metadata


def plain_config(folder: Path, url: str, metadata: MetaData) -> Config:
    directory = folder / "plain"
    config = Config(str(folder / "plain.ini"), stdout=io.StringIO())
    if not directory.exists():
        command.init(config, str(directory))
        env = directory / "env.py"
        env.write_text(
            env.read_text().replace(
                "target_metadata = None", 'target_metadata = config.attributes["target_metadata"]'
            )
        )
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["target_metadata"] = metadata
    return config


def timed(work: Callable[[], str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU time: this process's, which load disturbs less)."""
    gc.collect()  # neither run pays for the garbage the other left
    start, start_cpu = time.perf_counter(), time.process_time()
    path = work()
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    Path(path).unlink()
    return seconds, cpu


def bench(
    backend: str, urls: list[str], tables: int, repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    folder = Path(tempfile.mkdtemp(prefix="autogen-speed-"))
    plain_url, ours_url = urls
    before, after = models(tables, False), models(tables, True)
    ours = Migrations(metadata=before, url=ours_url, directory=folder / "migrations", root=folder)
    ours.init()
    with contextlib.redirect_stdout(io.StringIO()):  # `alembic init` talks on stdout
        plain_before = plain_config(folder, plain_url, before)
    # The same history on both sides: one revision creating the 300 tables, applied, so each
    # side loads (and plain Alembic executes) the same kind of file before it compares.
    command.revision(plain_before, message="initial", autogenerate=True)
    command.upgrade(plain_before, "head")
    ours.make("initial")
    ours.upgrade()
    ours_after = Migrations(
        metadata=after, url=ours_url, directory=folder / "migrations", root=folder
    )
    config = plain_config(folder, plain_url, after)

    def plain_once() -> str:
        script = command.revision(config, message="note", autogenerate=True)
        assert script is not None and "add_column" in Path(script.path).read_text()
        return str(script.path)

    def ours_once() -> str:
        return ours_after.make("note").path

    timed(plain_once)  # warm both (imports, first connection)
    timed(ours_once)
    plain_times: list[tuple[float, float]] = []
    our_times: list[tuple[float, float]] = []
    for run in range(repeat):
        # ABBA: neither side always runs first (warm caches, the other's garbage)
        if run % 2:
            our_times.append(timed(ours_once))
            plain_times.append(timed(plain_once))
        else:
            plain_times.append(timed(plain_once))
            our_times.append(timed(ours_once))

    def medians(times: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)

    return medians(plain_times), medians(our_times)


def databases(backend: str, folder: Path) -> tuple[list[str], Callable[[], None]]:
    if backend == "sqlite":
        return [f"sqlite:///{folder / 'plain.db'}", f"sqlite:///{folder / 'ours.db'}"], lambda: None
    server = make_url(SERVER_URLS[backend])
    dialect = for_url(server)
    made: list[URL] = [dialect.create_database(server, dialect.scratch_name("speed")) for _ in "ab"]

    def drop() -> None:
        for url in made:
            dialect.drop_database(url)

    return [u.render_as_string(hide_password=False) for u in made], drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(f"make on {args.tables} tables (one column added), median of {args.repeat} runs\n")
    print(
        "| backend | plain Alembic autogenerate | fastapi-alembic make | ratio "
        "| plain CPU | make CPU | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for backend in args.backends:
        try:
            urls, drop = databases(backend, Path(tempfile.mkdtemp()))
        except MigrationsError as error:
            print(f"| {backend} | skipped: {error} | | | | | |")
            continue
        try:
            plain, ours = bench(backend, urls, args.tables, args.repeat)
        finally:
            drop()
        print(
            f"| {backend} | {plain[0] * 1000:.0f} ms | {ours[0] * 1000:.0f} ms "
            f"| {ours[0] / plain[0]:.2f}x | {plain[1] * 1000:.0f} ms | {ours[1] * 1000:.0f} ms "
            f"| {ours[1] / plain[1]:.2f}x |"
        )


if __name__ == "__main__":
    main()

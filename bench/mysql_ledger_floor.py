"""What the ledger's and the lock's statements cost per migration on MySQL or MariaDB, apart
from Python: the statement pattern of one migration, run on the server through the driver.

On these servers DDL commits as it goes, so an upgrade that can name a migration left half done
after a crash needs a durable "started" row before each migration's first DDL statement, and a
lock that no pooler can lose needs its fence read in each transaction that moves the version.
This script times, per migration (an ``ALTER TABLE`` that adds or drops a column):

- ``alembic``: what plain Alembic sends: the DDL, the version update, a commit;
- ``+ finish``: and the ledger's "finished" update carrying the lock's fence (one statement);
- ``+ finish + started row``: and the started row written just before the DDL, which the server
  commits as the DDL begins (what FastAPI-Alembic does: a migration that fails before anything
  of it was committed leaves no row);
- ``+ finish + started row ahead``: the started row written in the previous migration's
  transaction instead (one log flush less, but a migration that fails or is killed before its
  first DDL is then refused as half applied).

Rounds are interleaved; medians; the ratios are against ``alembic``. Nothing is judged: the
figures are the floor under bench/upgrade_speed.py's MariaDB ratio.

Usage:
  .venv/bin/python -m bench.mysql_ledger_floor [--mysql-url URL] [--rounds 12] [--per-round 100]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.status_overhead import DEFAULT_MYSQL, database, load

PATTERNS = ("alembic", "+ finish", "+ finish + started row", "+ finish + started row ahead")


class Migrations:
    """One connection's migrations: a column added and dropped in turn, a version row, and a
    ledger and lock table shaped like ours."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.number = 0
        self.row_id = 1
        self.ahead = False

    def setup(self) -> None:
        for statement in (
            "CREATE TABLE things (id INT)",
            "CREATE TABLE versions (version_num VARCHAR(32) NOT NULL)",
            "INSERT INTO versions VALUES ('0')",
            "CREATE TABLE ledger (id INT AUTO_INCREMENT PRIMARY KEY, revision VARCHAR(64), "
            "outcome VARCHAR(16), started_at DATETIME(6), finished_at DATETIME(6))",
            "CREATE TABLE locks (name VARCHAR(191) PRIMARY KEY, token VARCHAR(64)) ENGINE=InnoDB",
            "INSERT INTO locks VALUES ('owner', 'ours')",
            "INSERT INTO ledger (revision, outcome) VALUES ('0', 'running')",
        ):
            self.connection.exec_driver_sql(statement)
        self.connection.commit()

    def _sql(self, statement: str, *parameters: Any) -> Any:
        return self.connection.exec_driver_sql(statement, parameters or ())

    def _ddl(self) -> None:
        self.number += 1
        if self.number % 2:
            self._sql("ALTER TABLE things ADD COLUMN extra INT")
        else:
            self._sql("ALTER TABLE things DROP COLUMN extra")
        self._sql("UPDATE versions SET version_num = %s", str(self.number))

    def _started(self) -> None:
        result = self._sql(
            "INSERT INTO ledger (revision, outcome, started_at) VALUES (%s, 'running', NOW(6))",
            str(self.number + 1),
        )
        self.row_id = result.lastrowid

    def _finish(self) -> None:
        self._sql(
            "UPDATE ledger SET outcome = 'applied', finished_at = NOW(6) WHERE id = %s AND "
            "EXISTS (SELECT name FROM locks WHERE name = 'owner' AND token = 'ours' "
            "LOCK IN SHARE MODE)",
            self.row_id,
        )

    def run(self, pattern: str) -> None:
        if pattern == "+ finish + started row":
            self._started()
        self._ddl()
        if pattern != "alembic":
            self._finish()
        if pattern == "+ finish + started row ahead":
            self._started()
        self.connection.commit()


def timed(step: Callable[[], None], count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        step()
    return (time.perf_counter() - began) / count


@dataclass(frozen=True)
class Floor:
    """Seconds per migration of each statement pattern (medians), and the server."""

    server: str
    seconds: dict[str, float]

    def extra(self, pattern: str = "+ finish + started row") -> float:
        """What ``pattern`` (by default what FastAPI-Alembic sends) adds to Alembic's own."""
        return self.seconds[pattern] - self.seconds["alembic"]

    def ratio(self, pattern: str = "+ finish + started row") -> float:
        return self.seconds[pattern] / self.seconds["alembic"]


def measure(url: str, rounds: int, per_round: int) -> Floor:
    """The patterns, interleaved, on a scratch database of the server at ``url``."""
    seconds: dict[str, list[float]] = {pattern: [] for pattern in PATTERNS}
    name = f"fa_bench_floor_{os.getpid()}"
    with database("mysql", Path(tempfile.gettempdir()), url, name) as scratch:
        engine = create_engine(scratch)
        try:
            with engine.connect() as connection:
                migrations = Migrations(connection)
                migrations.setup()
                for pattern in PATTERNS:  # warm
                    timed(functools.partial(migrations.run, pattern), 10)
                for _ in range(rounds):
                    for pattern in PATTERNS:
                        step = functools.partial(migrations.run, pattern)
                        seconds[pattern].append(timed(step, per_round))
                version = str(connection.execute(text("SELECT VERSION()")).scalar())
        finally:
            engine.dispose()
    return Floor(version, {pattern: statistics.median(runs) for pattern, runs in seconds.items()})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mysql-url", default=DEFAULT_MYSQL)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args(argv)
    print(f"load average before: {load()} on {os.cpu_count()} CPUs")
    floor = measure(args.mysql_url, args.rounds, args.per_round)
    print(f"load average after: {load()}")
    print(
        f"\n{floor.server}, per migration, median of {args.rounds} rounds of {args.per_round} "
        "(statements only, no Python of ours):"
    )
    for pattern in PATTERNS:
        median = floor.seconds[pattern]
        print(
            f"  {pattern:<30} {median * 1000:6.3f} ms  {floor.ratio(pattern):.2f}x  "
            f"(+{floor.extra(pattern) * 1000:.3f} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The fidelity corpus through plain Alembic autogenerate and through `fastapi-alembic make`.

For each model change of tests/support/model_changes.py and each backend, a fresh database is migrated
to the models before, rows are written, and a revision is generated for the models after; then
it is upgraded, checked against the models, its rows read back, downgraded, the schema compared
with the one before, and autogenerate run again on the unchanged models (see
tests/support/fidelity.py). "Plain Alembic" is the env.py `alembic init` writes, aimed at the
models (compare_type is on by default); "ours" is `make`, with --rename given where the change
is a rename. A change is right when every step holds, else the first thing that went wrong is
shown.

Usage:
  .venv/bin/python -m bench.autogen_fidelity [--backends sqlite postgres mysql] [--only TEXT]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from fastapi_alembic.dialects import for_url
from fastapi_alembic.errors import MigrationsError
from tests.support.backends import SERVER_URLS
from tests.support.fidelity import Outcome, Runner
from tests.support.model_changes import CORPUS


def run_one(backend: str, change, plain: bool) -> Outcome:  # type: ignore[no-untyped-def]
    with contextlib.redirect_stdout(io.StringIO()):  # `alembic init` talks on stdout
        return _run_one(backend, change, plain)


def _run_one(backend: str, change, plain: bool) -> Outcome:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="fidelity-"))
    if backend == "sqlite":
        return Runner(f"sqlite:///{folder / 'app.db'}", folder, plain=plain).run(change)
    server = make_url(SERVER_URLS[backend])
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("fidelity"))
    try:
        return Runner(url.render_as_string(hide_password=False), folder, plain=plain).run(change)
    finally:
        dialect.drop_database(url)


def cell(outcome: Outcome) -> str:
    if outcome.right:
        return "right"
    return "wrong: " + outcome.problems[0].replace("|", "/").replace("\n", " ")[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres", "mysql"])
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # plain Alembic's env.py logs every step at INFO
    for backend in args.backends:
        if backend != "sqlite":
            try:
                for_url(make_url(SERVER_URLS[backend]))
                run_one(backend, CORPUS[0], plain=False)
            except MigrationsError as error:
                print(f"\n{backend}: skipped, {error}")
                continue
        changes = [c for c in CORPUS if backend in c.backends and args.only in c.name]
        rows = []
        for change in changes:
            plain, ours = run_one(backend, change, True), run_one(backend, change, False)
            rows.append((change.name, cell(plain), cell(ours)))
            print(f"  {backend}: {change.name}", file=sys.stderr)
        plain_right = sum(r[1] == "right" for r in rows)
        ours_right = sum(r[2] == "right" for r in rows)
        print(
            f"\n### {backend}: plain Alembic {plain_right}/{len(rows)} right, ours {ours_right}/{len(rows)}\n"
        )
        print("| change | plain Alembic | ours |")
        print("|---|---|---|")
        for name, plain_cell, ours_cell in rows:
            print(f"| {name} | {plain_cell} | {ours_cell} |")


if __name__ == "__main__":
    main()

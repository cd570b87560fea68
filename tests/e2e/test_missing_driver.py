"""A driver that is not installed is one sentence naming what to install for that URL: the
extra that brings it, or the driver's own package. The drivers are made missing in a child
process whose sys.modules blocks their import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.helpers import Project

# In a child process: the modules named in argv[1] cannot be imported, as if their packages
# were not installed; then `current --url URL` for each URL that follows; the outcomes as JSON.
RUN_BLOCKED = """
import json, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from typer.testing import CliRunner
from fastapi_alembic.cli import app
outcomes = []
for url in sys.argv[2:]:
    done = CliRunner().invoke(app, ["current", "--url", url], env={"DATABASE_URL": ""})
    outcomes.append([done.exit_code, done.stderr, repr(done.exception)])
print(json.dumps(outcomes))
"""

CASES = [
    # (URL, modules made missing, what the sentence says to install)
    ("sqlite+aiosqlite:///app.db", "aiosqlite", 'pip install "fastapi-alembic[aiosqlite]"'),
    ("sqlite+aiosqlite:///app.db", "greenlet", 'pip install "fastapi-alembic[aiosqlite]"'),
    ("postgresql+psycopg_async://app@127.0.0.1/app", "greenlet", "pip install greenlet"),
    ("postgresql+asyncpg://app@127.0.0.1/app", "asyncpg", 'pip install "fastapi-alembic[asyncpg]"'),
    (
        "postgresql://app@127.0.0.1/app",
        "psycopg2,psycopg",
        'pip install "fastapi-alembic[postgresql]"',
    ),
    (
        "postgresql+psycopg://app@127.0.0.1/app",
        "psycopg",
        'pip install "fastapi-alembic[postgresql]"',
    ),
    ("mysql+pymysql://root@127.0.0.1/app", "pymysql", 'pip install "fastapi-alembic[mysql]"'),
    ("mysql://root@127.0.0.1/app", "MySQLdb,pymysql", 'pip install "fastapi-alembic[mysql]"'),
    (
        "mariadb+aiomysql://root@127.0.0.1/app",
        "aiomysql",
        'pip install "fastapi-alembic[aiomysql]"',
    ),
    ("postgresql+psycopg2://app@127.0.0.1/app", "psycopg2", "pip install psycopg2-binary"),
    ("postgresql+pg8000://app@127.0.0.1/app", "pg8000", "pip install pg8000"),
    ("mysql+asyncmy://root@127.0.0.1/app", "asyncmy", "pip install asyncmy"),
]


def outcomes(root: Path, blocked: set[str], urls: list[str]) -> list[tuple[int, str, str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_BLOCKED, ",".join(sorted(blocked)), *urls],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [tuple(outcome) for outcome in json.loads(done.stdout)]


def test_a_missing_driver_names_what_to_install(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert project.cli("init").exit_code == 0
    # Every driver missing at once, and then greenlet alone (the async drivers' dependency).
    drivers = [case for case in CASES if case[1] != "greenlet"]
    blocked = {name for _, names, _ in drivers for name in names.split(",")}
    found = outcomes(tmp_path, blocked, [url for url, _, _ in drivers])
    greenlet = [case for case in CASES if case[1] == "greenlet"]
    found += outcomes(tmp_path, {"greenlet"}, [url for url, _, _ in greenlet])
    for (url, _, install), (code, stderr, exception) in zip(drivers + greenlet, found, strict=True):
        assert code == 2, (url, stderr, exception)
        driver = url.split(":", 1)[0]
        assert stderr.startswith(f"Error: The driver for {driver} is not installed ("), stderr
        assert stderr.endswith(f"install it with `{install}`.\n"), stderr
        assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr

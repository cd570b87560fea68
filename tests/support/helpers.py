"""A throwaway application project for CLI tests: models, pyproject, and ways to run commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from fastapi_alembic.dialects.engines import run_with_connection

BIN = Path(sys.executable).parent

USERS_AND_VOTES = """
    from datetime import datetime

    from sqlalchemy import ForeignKey, String, func
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(255), unique=True)
        password: Mapped[str] = mapped_column(String(255))
        created_at: Mapped[datetime] = mapped_column(server_default=func.now())
        # PHONE


    class Post(Base):
        __tablename__ = "posts"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(200))
        published: Mapped[bool] = mapped_column(server_default="1")
        owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


    class Vote(Base):
        __tablename__ = "votes"
        user_id: Mapped[int] = mapped_column(
            ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        )
        post_id: Mapped[int] = mapped_column(
            ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
        )
"""
PHONE_NUMBER = "phone_number: Mapped[str | None] = mapped_column(String(50))"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Project:
    """A project folder whose models live in a uniquely named module, so many projects can
    be imported by one test process without colliding in sys.modules."""

    root: Path
    url: str
    module: str = field(default_factory=lambda: f"models_{uuid.uuid4().hex[:10]}")

    @classmethod
    def create(cls, root: Path, url: str, models: str = USERS_AND_VOTES) -> Project:
        project = cls(root, url)
        project.write_models(models)
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nmetadata = "{project.module}:Base"\n'
        )
        return project

    def write_models(self, source: str) -> None:
        (self.root / f"{self.module}.py").write_text(textwrap.dedent(source))

    def add_phone_number(self) -> None:
        path = self.root / f"{self.module}.py"
        path.write_text(path.read_text().replace("# PHONE", PHONE_NUMBER))

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def revision_files(self) -> list[Path]:
        return sorted(self.versions.glob("*.py"))

    def cli(self, *args: str, url: str | None = None, no_url: bool = False) -> Result:
        """Run a verb in this process (fast); the models module must not change between calls.
        ``no_url``: with DATABASE_URL unset."""
        runner = CliRunner()
        env: dict[str, str | None] = {"DATABASE_URL": None if no_url else url or self.url}
        cwd = Path.cwd()
        os.chdir(self.root)
        try:
            outcome = runner.invoke(app, list(args), env=env)
        finally:
            os.chdir(cwd)
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise outcome.exception
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    def run(self, *args: str, program: str = "fastapi-alembic", url: str | None = None) -> Result:
        """Run a command as a user would: a new process in the project folder."""
        env = {**os.environ, "DATABASE_URL": url or self.url}
        done = subprocess.run(
            [str(BIN / program), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)


def snapshot(url: str) -> tuple[set[str], list[str]]:
    """Tables and the recorded revision: what 'unchanged' means here. The migration lock's
    table is left out: the first migrator to lock a database makes it, and it holds no rows
    of the app's (docs/production.md)."""

    def read(connection):  # type: ignore[no-untyped-def]
        names = set(inspect(connection).get_table_names()) - {"fastapi_alembic_lock"}
        versions = []
        if "alembic_version" in names:
            versions = [
                r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))
            ]
        return names, versions

    return run_with_connection(make_url(url), read)


def assert_clean_failure(result: Result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def move_result(stdout: str) -> dict:  # type: ignore[type-arg]
    """The result of `upgrade --json` / `downgrade --json`: the last of its JSON Lines."""
    last = json.loads(stdout.strip().splitlines()[-1])
    assert last.pop("event") == "result", stdout
    return last  # type: ignore[no-any-return]


def assert_ruff_clean(files: list[Path]) -> None:
    """``ruff check`` and ``ruff format --check`` pass on ``files`` with Ruff's defaults."""
    assert files

    def ruff(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(BIN / "ruff"), *args, "--isolated", *map(str, files)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    checked = ruff("check", "--output-format", "concise")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = ruff("format", "--check", "--diff")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def head_of(project: Project) -> str:
    return project.cli("heads", "--json").stdout.split('"revision": "')[1].split('"')[0]


def write_revision(
    project: Project,
    revision: str,
    parent: str | None,
    body: str = "pass",
    header: str = "",
    folder: Path | None = None,
) -> Path:
    """A revision file in the project's versions folder (or ``folder``); ``body`` and
    ``header`` are one line each."""
    path = (folder or project.versions) / f"{revision}_hand_written.py"
    path.write_text(
        textwrap.dedent(
            f'''\
            """hand written {revision}"""
            {header}
            from alembic import op
            import sqlalchemy as sa

            revision = "{revision}"
            down_revision = {parent!r}
            branch_labels = None
            depends_on = None


            def upgrade():
                {body}


            def downgrade():
                pass
            '''
        )
    )
    return path


BLOCKER = {
    # A transaction that has read the table holds a lock that ALTER TABLE must wait for.
    "postgres": "SELECT * FROM items",
    "mysql": "SELECT * FROM items",
}


@contextmanager
def held_lock(url: str, backend: str) -> Iterator[Connection]:
    """Another session reads ``items`` in an open transaction until it is rolled back (or
    the block ends)."""
    engine = create_engine(url)
    connection = engine.connect()
    connection.execute(text(BLOCKER[backend]))  # begins the transaction and takes the lock
    try:
        yield connection
    finally:
        connection.close()
        engine.dispose()

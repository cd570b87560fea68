"""Synthetic migration histories in temporary folders, built from Python, and the helpers the
toolkit's tests share: a user's own pytest run in a project folder, SQLModel models."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.migrations import Migrations

ENV = "from fastapi_alembic.env import run_migrations\n\nrun_migrations()\n"

MODELS = """
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(50))
    age: Mapped[int | None] = mapped_column(Integer)


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    published: Mapped[bool] = mapped_column(Boolean)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""

CREATE_USERS = (
    """op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("name", sa.String(50), nullable=True),
        sa.UniqueConstraint("email"),
    )""",
    'op.drop_table("users")',
)
CREATE_POSTS = (
    """op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
    )""",
    'op.drop_table("posts")',
)
ADD_AGE = (
    'op.add_column("users", sa.Column("age", sa.Integer(), nullable=True))',
    """with op.batch_alter_table("users") as batch:
        batch.drop_column("age")""",
)
GOOD = [("create users", CREATE_USERS), ("create posts", CREATE_POSTS), ("add users.age", ADD_AGE)]


@dataclass
class History:
    """A project folder with models and a migrations folder whose revisions we write."""

    root: Path
    module: str = field(default_factory=lambda: f"models_{uuid.uuid4().hex[:10]}")
    revisions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.root / "migrations" / "versions").mkdir(parents=True)
        (self.root / "migrations" / "env.py").write_text(ENV)
        (self.root / "pyproject.toml").write_text(
            f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nmetadata = "{self.module}:Base"\n'
        )
        self.write_models(MODELS)

    def write_models(self, source: str) -> None:
        (self.root / f"{self.module}.py").write_text(textwrap.dedent(source))

    def add(
        self, message: str, upgrade: str, downgrade: str = "pass", *, parent: str | None = "last"
    ) -> str:
        """Write a revision on top of the last one (or on ``parent``); returns its id."""
        revision = f"r{len(self.revisions) + 1:02d}{uuid.uuid4().hex[:6]}"
        down = (self.revisions[-1] if self.revisions else None) if parent == "last" else parent
        source = f'''"""{message}"""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''
        path = (
            self.root / "migrations" / "versions" / f"{len(self.revisions) + 1:03d}_{revision}.py"
        )
        path.write_text(source)
        self.revisions.append(revision)
        return revision

    def add_good(self) -> History:
        for message, (up, down) in GOOD:
            self.add(message, up, down)
        return self

    def migrations(self, url: str | None = None) -> Migrations:
        return Migrations(root=self.root, url=url)


def new_history(tmp_path: Path) -> History:
    """A fresh project folder under the test's tmp_path."""
    return History(tmp_path / f"app_{uuid.uuid4().hex[:6]}")


def dead_pid() -> int:
    """A process id no process has on this machine."""
    for pid in range(4_000_000, 4_100_000, 7919):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free process id found")


def server_for(backend: str, tmp_path: Path) -> str:
    """Where a test's templates and copies go: a server, or a SQLite folder of its own."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'server' / 'server.db'}"
    from tests.support.backends import require_server

    return require_server(backend)


@contextmanager
def restricted_user(backend: str, tmp_path: Path) -> Iterator[str]:
    """A server URL for a new user who may connect but not create databases."""
    admin = make_url(server_for(backend, tmp_path))
    name = f"fm_nocreate_{uuid.uuid4().hex[:8]}"
    if backend == "postgres":
        setup = [f'DROP ROLE IF EXISTS "{name}"', f'CREATE ROLE "{name}" LOGIN NOCREATEDB']
        teardown = [f'DROP ROLE IF EXISTS "{name}"']
        server = admin.set(username=name, database="postgres")
    else:
        setup = [f"DROP USER IF EXISTS '{name}'@'%%'", f"CREATE USER '{name}'@'%%'"]
        teardown = [f"DROP USER IF EXISTS '{name}'@'%%'"]
        server = admin._replace(username=name, database=None)
    maintenance = (
        admin.set(database="postgres") if backend == "postgres" else admin._replace(database=None)
    )

    def run(statements: list[str]) -> None:
        def work(connection: Connection) -> None:
            for statement in statements:
                connection.exec_driver_sql(statement)

        run_with_connection(maintenance, work, autocommit=True)

    run(setup)
    try:
        yield server.render_as_string(hide_password=False)
    finally:
        run(teardown)


SQLMODEL_MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    __tablename__ = "heroes"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
"""


def pytest_in(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """Run pytest as a user's project would, in ``root``, without this run's database settings."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("FASTAPI_ALEMBIC", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=root,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )

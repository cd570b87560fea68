"""Projects made with plain `alembic init`, then edited as their authors would: what `adopt`
starts from (the adoption tests and lint's gating tests use them)."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from tests.support.helpers import BIN, Result

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""
CREATE_USERS = """op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )"""


@dataclass
class AlembicProject:
    """A project made with `alembic init`, then edited as its authors would."""

    root: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def models(self) -> str:
        return f"models_{self.tag}"

    @property
    def env(self) -> Path:
        return self.root / "alembic" / "env.py"

    @classmethod
    def init(cls, tmp_path: Path, template: str = "generic", ini_url: str = "") -> AlembicProject:
        project = cls(tmp_path / f"project_{uuid.uuid4().hex[:6]}")
        project.root.mkdir()
        config = Config(str(project.root / "alembic.ini"))
        cwd = Path.cwd()
        os.chdir(project.root)
        try:
            command.init(config, "alembic", template=template)
        finally:
            os.chdir(cwd)
        ini = project.root / "alembic.ini"
        ini.write_text(
            ini.read_text().replace(
                "sqlalchemy.url = driver://user:pass@localhost/dbname",
                f"sqlalchemy.url = {ini_url}",
            )
        )
        (project.root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
        (project.root / f"{project.models}.py").write_text(MODELS)
        return project

    def edit_env(self, old: str, new: str) -> None:
        text = self.env.read_text()
        assert old in text, old
        self.env.write_text(text.replace(old, new, 1))

    def use_models(self) -> None:
        self.edit_env(
            "target_metadata = None",
            f"from {self.models} import Base\n\ntarget_metadata = Base.metadata",
        )

    def add_revision(
        self, upgrade: str = CREATE_USERS, downgrade: str = 'op.drop_table("users")'
    ) -> str:
        revision = uuid.uuid4().hex[:12]
        (self.root / "alembic" / "versions" / f"{revision}_create_users.py").write_text(
            f'''"""create users"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''
        )
        return revision

    def cli(self, *args: str, url: str = "") -> Result:
        cwd = Path.cwd()
        os.chdir(self.root)
        try:
            outcome = CliRunner().invoke(app, list(args), env={"DATABASE_URL": url})
        finally:
            os.chdir(cwd)
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            raise outcome.exception
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    def alembic(self, *args: str, **environ: str) -> Result:
        """Plain `alembic`, in a new process, without DATABASE_URL."""
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        done = subprocess.run(
            [str(BIN / "alembic"), *args],
            cwd=self.root,
            env={**env, **environ},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

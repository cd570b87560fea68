"""`adopt` where alembic.ini is not in the project's root (a package folder, with a
package-resource script_location) and where one alembic.ini holds two trees (``-n NAME``):
found with --ini or ``ini = "..."`` in pyproject, adopted tree by tree with --name, and then
every command works on the tree it is given, beside plain `alembic -c ... -n ...`."""

from __future__ import annotations

import os
import subprocess
import textwrap
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from tests.support.helpers import BIN, Result, assert_clean_failure, snapshot

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class {cls}(Base):
    __tablename__ = "{table}"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""


class Layout:
    """A project whose Alembic configuration lives in a package of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.package = f"pkg_{uuid.uuid4().hex[:8]}"
        self.folder = root / "src" / self.package
        self.ini = self.folder / "alembic.ini"

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

    def alembic(self, *args: str) -> Result:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["PYTHONPATH"] = os.pathsep.join([str(self.root / "src"), env.get("PYTHONPATH", "")])
        done = subprocess.run(
            [str(BIN / "alembic"), "-c", str(self.ini), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def tree(self, name: str, section: str, plain_url: str) -> str:
        """An `alembic init` folder src/PKG/NAME/migrations, its models and one revision;
        its section in alembic.ini names it as a package resource."""
        migrations = self.folder / name / "migrations"
        migrations.parent.mkdir(parents=True)
        (self.folder / "__init__.py").touch()
        (migrations.parent / "__init__.py").touch()
        scratch = self.root / f"scratch_{name}.ini"
        cwd = Path.cwd()
        os.chdir(self.root)
        try:
            command.init(Config(str(scratch)), str(migrations), template="generic")
        finally:
            os.chdir(cwd)
        scratch.unlink()
        (migrations.parent / "models.py").write_text(
            MODELS.format(cls=name.title(), table=f"{name}_rows")
        )
        env = migrations / "env.py"
        env.write_text(
            env.read_text().replace(
                "target_metadata = None",
                f"from {self.package}.{name}.models import Base\n\ntarget_metadata = Base.metadata",
            )
        )
        with self.ini.open("a") as ini:
            ini.write(
                f"\n[{section}]\nscript_location = {self.package}:{name}:migrations\n"
                f"sqlalchemy.url = {plain_url.replace('%', '%%')}\n"
            )
        revision = uuid.uuid4().hex[:12]
        (migrations / "versions" / f"{revision}_create.py").write_text(
            textwrap.dedent(
                f'''\
                """create {name}_rows"""
                from alembic import op
                import sqlalchemy as sa

                revision = {revision!r}
                down_revision = None
                branch_labels = None
                depends_on = None


                def upgrade():
                    op.create_table(
                        "{name}_rows",
                        sa.Column("id", sa.Integer(), primary_key=True),
                        sa.Column("name", sa.String(50), nullable=False),
                    )


                def downgrade():
                    op.drop_table("{name}_rows")
                '''
            )
        )
        return revision


def new_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    layout = Layout(tmp_path / "project")
    # The package is importable, as it is once the project is installed (pip install -e .).
    monkeypatch.syspath_prepend(str(layout.root / "src"))
    layout.folder.mkdir(parents=True)
    (layout.root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    return layout


def test_alembic_ini_in_a_package_folder(
    fresh_url: str, second_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = new_layout(tmp_path, monkeypatch)
    revision = layout.tree("db", "alembic", second_url)
    relative = layout.ini.relative_to(layout.root).as_posix()

    lost = layout.cli("adopt", "--yes")
    assert_clean_failure(lost, 2, f"there is {relative}: pass `--ini {relative}`")
    adopted = layout.cli("adopt", "--yes", "--ini", relative)
    assert adopted.exit_code == 0, adopted.output
    pyproject = (layout.root / "pyproject.toml").read_text()
    assert f'ini = "{relative}"' in pyproject
    assert f'directory = "src/{layout.package}/db/migrations"' in pyproject

    upgraded = layout.cli("upgrade", url=fresh_url)
    assert upgraded.exit_code == 0, upgraded.output
    tables, versions = snapshot(fresh_url)
    assert "db_rows" in tables and versions == [revision]
    # Plain alembic, given the same alembic.ini, migrates the database that file names.
    plain = layout.alembic("upgrade", "head")
    assert plain.exit_code == 0, plain.output
    tables, versions = snapshot(second_url)
    assert "db_rows" in tables and versions == [revision]


def test_ini_named_in_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = new_layout(tmp_path, monkeypatch)
    layout.tree("db", "alembic", f"sqlite:///{tmp_path / 'plain.db'}")
    relative = layout.ini.relative_to(layout.root).as_posix()
    (layout.root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nini = "{relative}"\n'
    )
    adopted = layout.cli("adopt", "--yes")
    assert adopted.exit_code == 0, adopted.output
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert layout.cli("upgrade", url=url).exit_code == 0
    assert "db_rows" in snapshot(url)[0]

    missing = layout.cli("adopt", "--yes", "--ini", "nowhere/alembic.ini")
    assert_clean_failure(missing, 2, "nowhere/alembic.ini")


def test_two_trees_adopted_one_by_one(
    fresh_url: str, second_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = new_layout(tmp_path, monkeypatch)
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    shop = layout.tree("shop", "shop", plain)
    audit = layout.tree("audit", "audit", plain)
    relative = layout.ini.relative_to(layout.root).as_posix()
    (layout.root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.fastapi-alembic]\nini = "{relative}"\n'
    )

    unnamed = layout.cli("adopt", "--yes")
    assert_clean_failure(unnamed, 2, "it has [shop], [audit]", "--name shop adopt")
    for name in ("shop", "audit"):
        adopted = layout.cli("--name", name, "adopt", "--yes")
        assert adopted.exit_code == 0, adopted.output
        assert f"--name {name}" in adopted.stdout
        env = (layout.folder / name / "migrations" / "env.py").read_text()
        assert "from fastapi_alembic.env import run_migrations" in env
        assert f"from {layout.package}.{name}.models import Base" in env
    pyproject = (layout.root / "pyproject.toml").read_text()
    assert "directory =" not in pyproject and "metadata =" not in pyproject

    for name, url, revision in (("shop", fresh_url, shop), ("audit", second_url, audit)):
        upgraded = layout.cli("--name", name, "upgrade", url=url)
        assert upgraded.exit_code == 0, upgraded.output
        tables, versions = snapshot(url)
        assert f"{name}_rows" in tables and versions == [revision]
        checked = layout.cli("--name", name, "check", url=url)
        assert checked.exit_code == 0, checked.output
    assert "audit_rows" not in snapshot(fresh_url)[0]
    assert "shop_rows" not in snapshot(second_url)[0]

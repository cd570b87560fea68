"""`fastapi-alembic adopt` on Alembic folders shaped the ways projects write them: Alembic's own
templates, a URL from a settings class, from other environment variables, include_object with
user_module_prefix, a target_metadata list. Each adopted project passes `check` and `test`, and
plain `alembic upgrade head` still works; what adopt cannot carry over is refused in one
sentence with nothing written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.support.alembic_projects import CREATE_USERS, MODELS, AlembicProject
from tests.support.helpers import assert_clean_failure, snapshot


def scratch_server(url: str) -> str:
    return url if not url.startswith("sqlite") else url.rsplit("/", 1)[0] + "/server.db"


def adopt_and_verify(project: AlembicProject, url: str, plain_url: str, **environ: str) -> str:
    """Adopt; then `check` and `test` pass, and plain `alembic upgrade head` migrates
    ``plain_url`` (the database the project's own env.py code picks)."""
    revision = project.add_revision()
    before = project.env.read_text()
    checked = project.cli("adopt", "--check")
    assert checked.exit_code == 1, checked.output
    assert project.env.read_text() == before  # --check writes nothing
    adopted = project.cli("adopt", "--yes")
    assert adopted.exit_code == 0, adopted.output
    assert "+from fastapi_alembic.env import run_migrations" in adopted.stdout
    assert (project.env.parent / "env.py.orig").read_text() == before
    assert project.cli("adopt", "--check").exit_code == 0

    upgraded = project.cli("upgrade", url=url)
    assert upgraded.exit_code == 0, upgraded.output
    checked = project.cli("check", url=url)
    assert checked.exit_code == 0, checked.output
    if url.startswith("sqlite"):  # the suite itself is tested on every backend elsewhere
        tested = project.cli("test", "--url", scratch_server(url), url=url)
        assert tested.exit_code == 0, tested.output
        assert "All checks passed." in tested.stdout

    plain = project.alembic("upgrade", "head", **environ)
    assert plain.exit_code == 0, plain.output
    tables, versions = snapshot(plain_url)
    assert {"alembic_version", "users"} <= tables and versions == [revision]
    return project.env.read_text()


def test_alembic_generic_template(fresh_url: str, second_url: str, tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic", ini_url=second_url.replace("%", "%%"))
    project.use_models()
    env = adopt_and_verify(project, fresh_url, second_url)
    assert "run_migrations()" in env
    assert f"from {project.models} import Base" in env
    pyproject = (project.root / "pyproject.toml").read_text()
    assert f'metadata = "{project.models}:Base.metadata"' in pyproject
    assert 'directory = "alembic"' in pyproject


def test_alembic_async_template(tmp_path: Path) -> None:
    plain_db = f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"
    project = AlembicProject.init(tmp_path, "async", ini_url=plain_db)
    project.use_models()
    adopt_and_verify(project, f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", plain_db)


def test_a_url_from_the_apps_settings_class(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    settings = f"settings_{project.tag}"
    (project.root / f"{settings}.py").write_text(
        textwrap.dedent(
            """
            from pydantic_settings import BaseSettings, SettingsConfigDict


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="SHOP_")
                database_url: str = "sqlite:///never.db"


            settings = Settings()
            """
        )
    )
    project.use_models()
    project.edit_env(
        "target_metadata = Base.metadata",
        f"target_metadata = Base.metadata\nfrom {settings} import settings\n\n"
        'config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))',
    )
    plain_db = f"sqlite:///{tmp_path / 'plain.db'}"
    env = adopt_and_verify(
        project, f"sqlite:///{tmp_path / 'app.db'}", plain_db, SHOP_DATABASE_URL=plain_db
    )
    assert "url=lambda: settings.database_url," in env
    assert not (project.root / "never.db").exists()


INCLUDE_OBJECT_ENV = '''\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from {models} import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata
LEGACY_TABLES = {{"legacy_audit"}}


def get_url():
    engine = os.environ["DB_ENGINE"]
    return f"{{engine}}:///{{os.environ['DB_NAME']}}"


def include_object(object, name, type_, reflected, compare_to):
    """The old audit table belongs to another service."""
    return not (type_ == "table" and name in LEGACY_TABLES)


def run_migrations_offline():
    context.configure(
        url=get_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        user_module_prefix="shop.types.",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    configuration = config.get_section(config.config_ini_section, {{}})
    configuration["sqlalchemy.url"] = get_url()
    connectable = engine_from_config(configuration, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            user_module_prefix="shop.types.",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


def test_include_object_user_module_prefix_and_a_url_from_other_variables(
    tmp_path: Path,
) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    project.env.write_text(INCLUDE_OBJECT_ENV.format(models=project.models))
    # A table the models do not have: only include_object keeps `check` from asking to drop it.
    revision = project.add_revision(
        'op.create_table("legacy_audit", sa.Column("id", sa.Integer(), primary_key=True))\n    '
        + CREATE_USERS,
        'op.drop_table("users")\n    op.drop_table("legacy_audit")',
    )
    plain = tmp_path / "plain.db"
    assert project.cli("adopt", "--yes").exit_code == 0
    env = project.env.read_text()
    assert "include_object=include_object," in env
    assert 'user_module_prefix="shop.types.",' in env
    assert "url=get_url," in env
    assert "def include_object(" in env and "LEGACY_TABLES = " in env
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert project.cli("upgrade", url=url).exit_code == 0
    checked = project.cli("check", url=url)
    assert checked.exit_code == 0, checked.output
    tested = project.cli("test", "--url", scratch_server(url))
    assert tested.exit_code == 0, tested.output
    done = project.alembic("upgrade", "head", DB_ENGINE="sqlite", DB_NAME=str(plain))
    assert done.exit_code == 0, done.output
    tables, versions = snapshot(f"sqlite:///{plain}")
    assert {"alembic_version", "users", "legacy_audit"} <= tables and versions == [revision]


def test_a_target_metadata_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = AlembicProject.init(tmp_path, "generic", ini_url=f"sqlite:///{tmp_path / 'plain.db'}")
    billing = f"billing_{project.tag}"
    (project.root / f"{billing}.py").write_text(
        MODELS.replace("users", "invoices").replace("class User", "class Invoice")
    )
    project.edit_env(
        "target_metadata = None",
        f"from {project.models} import Base\nfrom {billing} import Base as BillingBase\n\n"
        "target_metadata = [Base.metadata, BillingBase.metadata]",
    )
    project.add_revision(
        CREATE_USERS + "\n    " + CREATE_USERS.replace('"users"', '"invoices"'),
        'op.drop_table("invoices")\n    op.drop_table("users")',
    )
    adopted = project.cli("adopt", "--yes")
    assert adopted.exit_code == 0, adopted.output
    # No "module:attribute" names these models, so nothing else imports them from the project
    # root before env.py does: in this process, put the root on sys.path as `alembic` would.
    monkeypatch.syspath_prepend(str(project.root))
    env = project.env.read_text()
    assert "target_metadata=target_metadata," in env
    assert "target_metadata = [Base.metadata, BillingBase.metadata]" in env
    assert "metadata =" not in (project.root / "pyproject.toml").read_text()
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert project.cli("upgrade", url=url).exit_code == 0
    checked = project.cli("check", url=url)
    assert checked.exit_code == 0, checked.output
    assert project.cli("test", "--url", scratch_server(url)).exit_code == 0
    assert project.alembic("upgrade", "head").exit_code == 0


def test_several_databases_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "multidb")
    before = sorted(p.name for p in project.env.parent.iterdir())
    env = project.env.read_text()
    result = project.cli("adopt", "--yes", "--metadata", f"{project.models}:Base")
    assert_clean_failure(result, 2, "loops in run_migrations_offline()", "one database")
    assert project.env.read_text() == env
    assert sorted(p.name for p in project.env.parent.iterdir()) == before


def test_work_in_the_runner_it_cannot_follow_is_named_and_refused(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    project.use_models()
    project.edit_env(
        "    with connectable.connect() as connection:\n",
        "    with connectable.connect() as connection:\n"
        '        schema = "shop"\n'
        "        schema = schema.upper()\n"
        '        connection.exec_driver_sql(f"SET search_path TO {schema}")\n',
    )
    line = (
        project.env.read_text()
        .splitlines()
        .index('        connection.exec_driver_sql(f"SET search_path TO {schema}")')
        + 1
    )
    result = project.cli("adopt", "--yes")
    assert_clean_failure(
        result,
        2,
        f"env.py line {line} uses 'schema', a variable of run_migrations_online() adopt cannot "
        "follow",
    )
    assert not (project.env.parent / "env.py.orig").exists()


def test_adopt_asks_first_and_never_overwrites_a_backup(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    project.use_models()
    (project.env.parent / "env.py.orig").write_text("# an older backup\n")
    original = project.env.read_text()
    result = project.cli("adopt")  # no terminal, no --yes
    assert_clean_failure(result, 2, "pass --yes")
    assert project.env.read_text() == original
    assert project.cli("adopt", "--yes").exit_code == 0
    assert (project.env.parent / "env.py.orig").read_text() == "# an older backup\n"
    assert (project.env.parent / "env.py.orig.1").read_text() == original


def test_no_models_anywhere_is_one_sentence(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    result = project.cli("adopt", "--yes")
    assert_clean_failure(result, 2, "target_metadata is None", "--metadata")


SQLMODEL_MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    __tablename__ = "heroes_{tag}"
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""


def test_a_sqlmodel_app_gets_import_sqlmodel_in_its_script_template(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    (project.root / f"{project.models}.py").write_text(SQLMODEL_MODELS.format(tag=project.tag))
    project.edit_env(
        "target_metadata = None",
        f"from sqlmodel import SQLModel\nimport {project.models}  # noqa: F401\n\n"
        "target_metadata = SQLModel.metadata",
    )
    mako = project.env.parent / "script.py.mako"
    before = mako.read_text()
    assert project.cli("adopt", "--yes").exit_code == 0
    after = mako.read_text()
    assert "import sqlmodel\n" in after
    assert after.replace("import sqlmodel\n", "", 1) == before  # nothing else changed
    url = f"sqlite:///{tmp_path / 'app.db'}"
    made = project.cli("make", "create heroes", url=url)
    assert made.exit_code == 0, made.output
    # alembic.ini is the project's own: its file_template (Alembic's default here) still names
    # the files.
    written = [p.name for p in (project.env.parent / "versions").glob("*.py")]
    assert len(written) == 1 and re.fullmatch(r"[0-9a-f]{12}_create_heroes\.py", written[0])
    assert (
        "sqlmodel.sql.sqltypes.AutoString"
        in next((project.env.parent / "versions").glob("*.py")).read_text()
    )
    assert project.cli("upgrade", url=url).exit_code == 0  # the revision imports and runs
    assert project.cli("adopt", "--check").exit_code == 0


def test_plain_alembic_without_any_url_says_so(tmp_path: Path) -> None:
    project = AlembicProject.init(tmp_path, "generic")
    project.use_models()
    project.add_revision()
    assert project.cli("adopt", "--yes").exit_code == 0
    done = project.alembic("upgrade", "head")
    assert done.exit_code != 0
    assert "No database URL is set" in done.output


def test_init_on_a_sqlmodel_app_writes_import_sqlmodel(tmp_path: Path) -> None:
    project = AlembicProject(tmp_path / "heroes")
    project.root.mkdir()
    (project.root / "pyproject.toml").write_text('[project]\nname = "heroes"\n')
    (project.root / f"{project.models}.py").write_text(SQLMODEL_MODELS.format(tag=project.tag))
    result = project.cli("init", "--metadata", f"{project.models}:SQLModel")
    assert result.exit_code == 0, result.output
    mako = (project.root / "migrations" / "script.py.mako").read_text()
    assert "import sqlalchemy as sa\nimport sqlmodel\n" in mako


# -- reading env.py shapes without a database ---------------------------------------------------

ASYNC_SQLMODEL_ENV = """\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlmodel import SQLModel

config = context.config
fileConfig(config.config_file_name)

NAMING_CONVENTION = {"pk": "pk_%(table_name)s"}
target_metadata = SQLModel.metadata
target_metadata.naming_convention = NAMING_CONVENTION


def run_migrations_offline() -> None:
    context.configure(
        url=os.environ["SHOP_DATABASE_URL"],
        target_metadata=target_metadata,
        literal_binds=True,
        user_module_prefix="sqlalchemy.dialects.",
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section),
        url=os.environ["SHOP_DATABASE_URL"],
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    import asyncio
    asyncio.run(run_migrations_online())
"""


def test_what_an_async_env_keeps_and_what_only_offline_runs_had(tmp_path: Path) -> None:
    from fastapi_alembic.adoption.envpy import read_env
    from fastapi_alembic.adoption.rendering import render_env

    path = tmp_path / "env.py"
    path.write_text(ASYNC_SQLMODEL_ENV)
    env = render_env(read_env(path), "env.py.orig", metadata_in_call=True)
    compile(env, "env.py", "exec")
    assert "target_metadata.naming_convention = NAMING_CONVENTION" in env  # a change, kept
    assert 'url=lambda: os.environ["SHOP_DATABASE_URL"],' in env
    assert "    render_as_batch=True,\n" in env
    # Given only to --sql runs: written, commented out, never applied to upgrades.
    assert '    # user_module_prefix="sqlalchemy.dialects.",\n' in env
    assert "fileConfig" not in env and "async_engine_from_config" not in env


def test_the_projects_own_work_in_a_runner_is_refused(tmp_path: Path) -> None:
    from fastapi_alembic.adoption.envpy import CannotAdopt, read_env

    path = tmp_path / "env.py"
    path.write_text(
        ASYNC_SQLMODEL_ENV.replace(
            "    async with connectable.connect() as connection:\n",
            "    check_every_column_has_a_comment()\n"
            "    async with connectable.connect() as connection:\n",
        ).replace(
            "def run_migrations_offline",
            "def check_every_column_has_a_comment():\n    pass\n\n\ndef run_migrations_offline",
        )
    )
    with pytest.raises(
        CannotAdopt,
        match=r"runs `check_every_column_has_a_comment\(\)` in run_migrations_online\(\)",
    ):
        read_env(path)


def test_set_up_it_cannot_classify_is_kept_with_a_comment_and_a_connection_refused(
    tmp_path: Path,
) -> None:
    from fastapi_alembic.adoption.envpy import CannotAdopt, read_env
    from fastapi_alembic.adoption.rendering import KEPT_COMMENT, render_env

    path = tmp_path / "env.py"
    path.write_text(
        ASYNC_SQLMODEL_ENV.replace(
            "config = context.config\n",
            "from dotenv import load_dotenv\n\nload_dotenv()\nconfig = context.config\n",
        )
    )
    env = render_env(read_env(path), "env.py.orig", metadata_in_call=True)
    assert f"{KEPT_COMMENT}\nload_dotenv()" in env
    assert "from dotenv import load_dotenv" in env

    path.write_text(
        ASYNC_SQLMODEL_ENV.replace(
            "config = context.config\n",
            "config = context.config\n"
            'engine = create_engine(os.environ["SHOP_DATABASE_URL"])\n'
            "warm = engine.connect()\n",
        )
    )
    line = (
        path.read_text()
        .splitlines()
        .index('engine = create_engine(os.environ["SHOP_DATABASE_URL"])')
        + 1
    )
    with pytest.raises(CannotAdopt, match=f"line {line} opens a database connection"):
        read_env(path)

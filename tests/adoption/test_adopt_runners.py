"""`adopt` on env.py files whose runners do more than connect: a guard, a context variable set
around the run, statements on the connection before the migrations (the on_connect hook), and a
process_revision_directives defined inside the runner. Each is carried over and works on every
backend, under our commands and plain `alembic`; what cannot be carried is named with its line."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.alembic_projects import AlembicProject
from tests.support.helpers import assert_clean_failure

RUNNER = """
def run_migrations_online() -> None:
    configuration = config.get_section(config.config_ini_section, {})
    if not configuration:
        raise ValueError("alembic.ini has no [alembic] section")
    if not HOOK_SQL:
        raise RuntimeError("HOOK_SQL is not set")
    token = BEGIN_MODE.set("IMMEDIATE")
    try:
        connectable = engine_from_config(
            configuration, prefix="sqlalchemy.", poolclass=pool.NullPool
        )

        def process_revision_directives(context, revision, directives):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []

        with connectable.connect() as connection:
            statement = text(HOOK_SQL)
            connection.execute(statement)
            connection.commit()
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                process_revision_directives=process_revision_directives,
            )

            with context.begin_transaction():
                context.run_migrations()
    finally:
        BEGIN_MODE.reset(token)
"""


def runner_project(tmp_path: Path, ini_url: str) -> AlembicProject:
    project = AlembicProject.init(tmp_path, "generic", ini_url=ini_url.replace("%", "%%"))
    models = project.root / f"{project.models}.py"
    models.write_text(
        models.read_text()
        + '\nfrom contextvars import ContextVar\n\nBEGIN_MODE: ContextVar[str] = ContextVar("m", default="DEFERRED")\n'
    )
    project.edit_env(
        "target_metadata = None",
        f"import os\n\nfrom sqlalchemy import text\n\nfrom {project.models} import BEGIN_MODE, Base\n\n"
        'HOOK_SQL = os.environ.get("HOOK_SQL")\ntarget_metadata = Base.metadata',
    )
    env = project.env.read_text()
    start = env.index("def run_migrations_online()")
    end = env.index("if context.is_offline_mode():")
    project.env.write_text(env[:start] + RUNNER.lstrip() + "\n\n" + env[end:])
    return project


def hook_sql(url: str, schema: str) -> str:
    """A statement on the connection whose effect the test can see afterwards."""
    if url.startswith("postgresql"):
        return f"SET search_path TO {schema}"
    if url.startswith("sqlite"):
        return "PRAGMA user_version = 7"
    return "SET SESSION auto_increment_increment = 10, auto_increment_offset = 5"


def hook_ran(url: str, schema: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if url.startswith("postgresql"):
                return {"users", "alembic_version"} <= set(
                    inspect(connection).get_table_names(schema=schema)
                )
            if url.startswith("sqlite"):
                return connection.exec_driver_sql("PRAGMA user_version").scalar() == 7
            # the row the migration inserted took the session's auto-increment offset
            return list(connection.execute(text("SELECT id FROM users")).scalars()) == [5]
    finally:
        engine.dispose()


def users_names(url: str, schema: str) -> list[str]:
    where = f"{schema}.users" if url.startswith("postgresql") else "users"
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(f"SELECT name FROM {where}")).scalars())
    finally:
        engine.dispose()


def make_schema(url: str, schema: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()


def test_a_runners_own_work_is_carried_over(
    fresh_url: str, second_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = f"tenant_{uuid.uuid4().hex[:6]}"
    for url in (fresh_url, second_url):
        make_schema(url, schema)
    monkeypatch.setenv("HOOK_SQL", hook_sql(fresh_url, schema))
    project = runner_project(tmp_path, second_url)
    revision = project.add_revision(
        upgrade=(
            "op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True), "
            "sa.Column('name', sa.String(50), nullable=False))\n"
            f"    from {project.models} import BEGIN_MODE\n"
            "    op.execute(f\"INSERT INTO users (name) VALUES ('{BEGIN_MODE.get()}')\")"
        ),
    )

    adopted = project.cli("adopt", "--yes")
    assert adopted.exit_code == 0, adopted.output
    assert "Traceback" not in adopted.output
    env = project.env.read_text()
    # The guard on the app's setting is carried; the one on the engine configuration is not.
    assert 'if not HOOK_SQL:\n    raise RuntimeError("HOOK_SQL is not set")' in env
    assert "configuration" not in env
    assert "dropped the check at line" in adopted.stdout
    assert (
        "def on_connect(connection):\n"
        '    """Runs on the connection before the migrations, as in the old env.py."""\n'
        "    statement = text(HOOK_SQL)\n"
        "    connection.execute(statement)\n"
    ) in env
    assert "def process_revision_directives(context, revision, directives):\n    script" in env
    assert '_token_0 = BEGIN_MODE.set("IMMEDIATE")\ntry:\n    run_migrations(' in env
    assert "finally:\n    BEGIN_MODE.reset(_token_0)" in env

    upgraded = project.cli("upgrade", url=fresh_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert hook_ran(fresh_url, schema)
    # The context variable was set while it migrated.
    assert users_names(fresh_url, schema) == ["IMMEDIATE"]
    current = project.cli("current", url=fresh_url)
    assert current.exit_code == 0 and revision in current.stdout, current.output
    # The version table is where on_connect left the connection: only Alembic can tell.
    check = project.cli("current", "--check", "--json", url=fresh_url)
    assert check.exit_code == 0, check.output
    assert "runs on_connect on the connection first" in json.loads(check.stdout)["why_not_static"]

    # Nothing changed in the models: the carried hook empties the autogenerated revision.
    files = sorted(p.name for p in (project.root / "alembic" / "versions").glob("*.py"))
    plain = project.alembic("upgrade", "head")
    assert plain.exit_code == 0, plain.output
    assert hook_ran(second_url, schema)
    assert users_names(second_url, schema) == ["IMMEDIATE"]
    made = project.alembic("revision", "--autogenerate", "-m", "nothing")
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in (project.root / "alembic" / "versions").glob("*.py")) == files


def test_a_function_in_the_runner_using_its_variables_is_named(tmp_path: Path) -> None:
    project = runner_project(tmp_path, f"sqlite:///{tmp_path / 'plain.db'}")
    project.edit_env(
        "            if script.upgrade_ops.is_empty():",
        "            if script.upgrade_ops.is_empty() and connectable:",
    )
    line = (
        project.env.read_text()
        .splitlines()
        .index("        def process_revision_directives(context, revision, directives):")
        + 1
    )
    result = project.cli("adopt", "--yes")
    assert_clean_failure(
        result,
        2,
        f"env.py line {line}: process_revision_directives(), given to context.configure, uses "
        "'connectable', a variable of run_migrations_online()",
    )
    assert not (project.env.parent / "env.py.orig").exists()


def test_a_statement_on_the_connection_after_the_migrations_is_named(tmp_path: Path) -> None:
    project = runner_project(tmp_path, f"sqlite:///{tmp_path / 'plain.db'}")
    project.edit_env(
        "                context.run_migrations()\n",
        "                context.run_migrations()\n            connection.execute(statement)\n",
    )
    result = project.cli("adopt", "--yes")
    assert_clean_failure(
        result, 2, "runs `connection.execute(statement)` on the connection after the migrations"
    )


def test_an_async_runner_awaiting_a_statement_gets_the_hook(tmp_path: Path) -> None:
    from fastapi_alembic.adoption.envpy import read_env
    from fastapi_alembic.adoption.rendering import render_env

    project = AlembicProject.init(tmp_path, "async")
    project.use_models()
    project.edit_env(
        "    async with connectable.connect() as connection:\n",
        "    async with connectable.connect() as connection:\n"
        '        await connection.execute(text("SET search_path TO shop"))\n',
    )
    project.edit_env("import asyncio\n", "import asyncio\n\nfrom sqlalchemy import text\n")
    env = render_env(read_env(project.env), "env.py.orig", metadata_in_call=True)
    assert (
        textwrap.dedent(
            '''\
        def on_connect(connection):
            """Runs on the connection before the migrations, as in the old env.py."""
            connection.execute(text("SET search_path TO shop"))
        '''
        )
        in env
    )
    assert "on_connect=on_connect," in env


def test_an_offline_branch_that_only_logs_is_dropped_and_a_loop_is_named(tmp_path: Path) -> None:
    from fastapi_alembic.adoption.envpy import CannotAdopt, read_env
    from fastapi_alembic.adoption.rendering import render_env

    project = runner_project(tmp_path, f"sqlite:///{tmp_path / 'plain.db'}")
    project.edit_env(
        "if context.is_offline_mode():\n    run_migrations_offline()",
        'if context.is_offline_mode():\n    logger.info("Cannot run migrations offline")',
    )
    project.edit_env(
        "config = context.config\n",
        "config = context.config\nlogger = logging.getLogger(__name__)\n",
    )
    project.edit_env(
        "from logging.config import fileConfig\n",
        "import logging\nfrom logging.config import fileConfig\n",
    )
    env = render_env(read_env(project.env), "env.py.orig", metadata_in_call=True)
    assert "Cannot run migrations offline" not in env
    assert "run_migrations_online()" not in env

    project.edit_env(
        "            statement = text(HOOK_SQL)\n            connection.execute(statement)\n",
        "            for schema in SCHEMAS:\n"
        "                statement = text(HOOK_SQL + schema)\n"
        "                connection.execute(statement)\n",
    )
    with pytest.raises(CannotAdopt, match=r"loops in run_migrations_online\(\)"):
        read_env(project.env)

"""An env.py of the project's own (Alembic's generic template, not adopted) gets the same
guarantees from our verbs as a generated one: the migration lock, the ledger, lock timeouts,
and comparisons that leave our tables alone."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from fastapi_alembic.runtime import LockTarget, migration_lock
from tests.support.envshapes import SHAPES, make_project
from tests.support.helpers import BIN, Project, held_lock, snapshot, write_revision

CREATE_RUNS = (
    'op.create_table("runs", sa.Column("id", sa.Integer, primary_key=True)); '
    'op.execute("INSERT INTO runs (id) VALUES (1)"); '
    'time.sleep(float(os.environ.get("MIGRATION_SECONDS", "0")))'
)


def _revision(project: Project, revision: str, parent: str | None, body: str) -> Path:
    versions = project.root / "alembic" / "versions"
    versions.mkdir(exist_ok=True)
    return write_revision(project, revision, parent, body, "import os, time", versions)


@pytest.fixture
def own_env(fresh_url: str, tmp_path: Path) -> Project:
    """Alembic's generic env.py and alembic.ini, aimed at the test's database, with one
    revision that makes a table and writes a row (a second run of it would fail)."""
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["generic"], root, fresh_url, fresh_url)
    _revision(project, "a00000000001", None, CREATE_RUNS)
    return project


def _upgrade(project: Project, *args: str, seconds: float = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "fastapi-alembic"), "upgrade", *args],
        cwd=project.root,
        env={**os.environ, "DATABASE_URL": project.url, "MIGRATION_SECONDS": str(seconds)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_an_own_env_py_waits_for_the_migration_lock(own_env: Project) -> None:
    target = LockTarget(make_url(own_env.url), "alembic_version")
    with migration_lock(target, wait_seconds=5):
        waited = own_env.run("upgrade", "--lock-wait", "1.5")
    assert waited.exit_code == 3, waited.output
    assert "Traceback" not in waited.output
    assert "Waiting for the migration lock on " in waited.stderr
    assert (
        waited.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: Gave up waiting for the migration lock on ")
    ), waited.stderr
    assert "runs" not in snapshot(own_env.url)[0]


def _in_one_transaction(project: Project) -> Project:
    """The same env.py holding one transaction of its own around configure and the migrations
    (`with engine.begin()`), committed after our run, as many projects write it."""
    env_py = project.root / "alembic" / "env.py"
    source = env_py.read_text()
    assert "with connectable.connect() as connection:" in source
    online = "            context.run_migrations()\n"
    assert source.count(online) == 1
    env_py.write_text(
        source.replace(
            "with connectable.connect() as connection:", "with connectable.begin() as connection:"
        ).replace(
            # The commit comes a while after our run: a lock given back at the end of the run
            # would let a waiter read the version before it moved.
            online,
            online + '            __import__("time").sleep(float(__import__("os").environ.get('
            '"MIGRATION_SECONDS", "0")))\n',
        )
    )
    return project


@pytest.mark.parametrize("shape", ["template", "one_transaction"])
def test_replicas_starting_together_on_an_own_env_py_run_each_migration_once(
    own_env: Project, shape: str
) -> None:
    if shape == "one_transaction":
        _in_one_transaction(own_env)
    starters = [_upgrade(own_env, seconds=1.5) for _ in range(3)]
    outputs = [starter.communicate(timeout=120) for starter in starters]
    for starter, (stdout, stderr) in zip(starters, outputs, strict=True):
        assert starter.returncode == 0, stdout + stderr
    applied = sum("Done: 1 migration(s)" in stdout for stdout, _ in outputs)
    assert applied == 1, outputs
    engine = create_engine(own_env.url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 1
    finally:
        engine.dispose()


def test_an_own_env_py_is_recorded_in_the_ledger_and_its_edits_are_seen(
    own_env: Project,
) -> None:
    assert own_env.run("upgrade").exit_code == 0
    rows = json.loads(own_env.run("log", "--json").stdout)
    assert [(row["revision"], row["outcome"]) for row in rows] == [("a00000000001", "applied")]
    path = next((own_env.root / "alembic" / "versions").glob("a00000000001_*.py"))
    path.write_text(path.read_text().replace("VALUES (1)", "VALUES (2)"))
    checked = own_env.run("check")
    assert checked.exit_code == 1, checked.output
    assert "changed after it was applied" in checked.output, checked.output


def test_an_own_env_py_compares_without_our_tables(own_env: Project) -> None:
    """After an upgrade the database holds the ledger and the lock's table; `make` on the
    project's own env.py must not write a migration that drops them."""
    own_env.write_models(
        """
        from sqlalchemy import Integer
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Run(Base):
            __tablename__ = "runs"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
        """
    )
    assert own_env.run("upgrade").exit_code == 0
    tables = set(inspect(create_engine(own_env.url)).get_table_names())
    assert "fastapi_alembic_ledger" in tables
    made = own_env.run("make", "nothing new")
    assert made.exit_code == 1, made.output
    assert "The models match the database: no revision was written." in made.stderr, made.output
    for path in (own_env.root / "alembic" / "versions").glob("*.py"):
        assert "fastapi_alembic" not in path.read_text(), path.read_text()


@pytest.mark.parametrize(
    ("backend", "shape"),
    [("postgres", "template"), ("postgres", "one_transaction"), ("mysql", "one_transaction")],
    indirect=["backend"],
)
def test_a_lock_timeout_inside_an_own_env_py_transaction_ends_with_one_sentence(
    own_env: Project, backend: str, shape: str
) -> None:
    """Alembic's generic env.py holds one transaction around the migrations on PostgreSQL,
    and `with engine.begin()` does on every backend: a try that timed out on a table lock
    cannot be tried again inside it, and the sentence says so; the transaction is left for
    env.py to end."""
    if shape == "one_transaction":
        _in_one_transaction(own_env)
    assert own_env.run("upgrade").exit_code == 0
    _revision(
        own_env,
        "a00000000002",
        "a00000000001",
        'op.add_column("items", sa.Column("phone", sa.String(20)))',
    )
    engine = create_engine(own_env.url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with held_lock(own_env.url, backend):
        up = own_env.run("upgrade", "--lock-timeout", "1", "--lock-retries", "3")
    assert up.exit_code == 3, up.output
    assert "Traceback" not in up.output
    assert (
        up.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: A migration waited for a lock on table items, held by session ")
    ), up.stderr
    assert "cannot be tried again inside the transaction this env.py holds" in up.stderr
    assert "retry 1 of 3" not in up.stderr
    assert snapshot(own_env.url)[1] == ["a00000000001"]


def test_an_own_env_py_refused_for_data_loss_leaves_no_unfinished_row(own_env: Project) -> None:
    """The data-loss guard reads the revisions ahead where DDL commits as it runs; with the
    ledger recording too, a refusal leaves the ledger as it was, and the accepted run after it
    is not refused as half done."""
    assert own_env.run("upgrade").exit_code == 0
    _revision(own_env, "a00000000002", "a00000000001", 'op.drop_table("runs")')
    refused = own_env.run("upgrade")
    assert refused.exit_code == 3, refused.output
    assert "The upgrade refuses to run: dropping runs would delete 1 row" in refused.stderr
    rows = json.loads(own_env.run("log", "--json").stdout)
    assert [(row["revision"], row["outcome"]) for row in rows] == [("a00000000001", "applied")]
    accepted = own_env.run("upgrade", "--accept-data-loss")
    assert accepted.exit_code == 0, accepted.output
    assert snapshot(own_env.url)[1] == ["a00000000002"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_own_env_py_migrating_schema_after_schema_in_one_transaction(
    own_env: Project, backend: str
) -> None:
    """One transaction, the migrations run once per schema (`SET search_path`), one version
    table name: the second run finds the lock its own instead of waiting for itself."""
    engine = create_engine(own_env.url)
    with engine.begin() as connection:
        for schema in ("tenant_a", "tenant_b"):
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    env_py = own_env.root / "alembic" / "env.py"
    source = env_py.read_text()
    online = source.index("def run_migrations_online")
    env_py.write_text(
        source[:online]
        + textwrap.dedent(
            """            def run_migrations_online() -> None:
                from sqlalchemy import text

                connectable = engine_from_config(
                    config.get_section(config.config_ini_section, {}),
                    prefix="sqlalchemy.",
                    poolclass=pool.NullPool,
                )
                with connectable.begin() as connection:
                    for schema in ("tenant_a", "tenant_b"):
                        connection.execute(text(f"SET search_path TO {schema}"))
                        context.configure(connection=connection, target_metadata=target_metadata)
                        context.run_migrations()


            if context.is_offline_mode():
                run_migrations_offline()
            else:
                run_migrations_online()
            """
        )
    )
    done = own_env.run("upgrade", "--lock-wait", "5")
    assert done.exit_code == 0, done.output
    engine = create_engine(own_env.url)
    try:
        with engine.connect() as connection:
            for schema in ("tenant_a", "tenant_b"):
                count = connection.execute(text(f"SELECT count(*) FROM {schema}.runs")).scalar()
                assert count == 1, schema
    finally:
        engine.dispose()

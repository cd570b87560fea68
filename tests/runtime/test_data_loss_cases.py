"""The data-loss guard's harder cases, on every backend where they apply: renames before the
drop, a read before the drop, another schema, a USING that ignores the column, TRUNCATE and
DELETE without WHERE. Each is refused naming the table and the rows, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects import for_url
from tests.support.backends import BACKENDS
from tests.support.data_loss_tables import CREATE, rows, sql
from tests.support.envshapes import async_url
from tests.support.helpers import Project, assert_clean_failure, snapshot, write_revision

SERVERS = [b for b in BACKENDS if b.values[0] != "sqlite"]
POSTGRES = [b for b in BACKENDS if b.values[0] == "postgres"]


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    assert made.cli("upgrade").exit_code == 0
    sql(fresh_url, "INSERT INTO people (id, note, price) VALUES (1, 'ada', 3), (2, NULL, 4)")
    return made


def revision(project: Project, body: str, name: str = "bbbb00000002") -> None:
    """``body`` (lines, as upgrade()'s) as a revision after aaaa00000001."""
    path = write_revision(project, name, "aaaa00000001")
    indented = "\n".join(f"    {line}" for line in body.splitlines())
    path.write_text(
        path.read_text().replace("def upgrade():\n    pass", f"def upgrade():\n{indented}")
    )


def refused(project: Project, body: str, *phrases: str) -> None:
    """``body`` as revision bbbb00000002 is refused with ``phrases``, and nothing changes."""
    revision(project, body)
    before = snapshot(project.url), rows(project.url)
    result = project.cli("upgrade")
    assert_clean_failure(
        result, 3, "The upgrade refuses to run", "(revision bbbb00000002)", *phrases
    )
    assert (snapshot(project.url), rows(project.url)) == before


def passes(project: Project, body: str) -> None:
    revision(project, body)
    result = project.cli("upgrade")
    assert result.exit_code == 0, result.output
    assert "data loss" not in result.output.lower()


def test_a_table_renamed_then_dropped(project: Project) -> None:
    refused(
        project,
        'op.rename_table("people", "old_people"); op.drop_table("old_people")',
        "dropping old_people (renamed from people in this upgrade) would delete 2 rows",
    )
    accepted = project.cli("upgrade", "--accept-data-loss")
    assert accepted.exit_code == 0, accepted.output
    assert "Accepted data loss: dropping old_people (renamed from people" in accepted.stdout
    assert not {"people", "old_people"} & snapshot(project.url)[0]


def test_a_column_renamed_then_dropped_in_batches(project: Project) -> None:
    refused(
        project,
        'with op.batch_alter_table("people") as b: '
        'b.alter_column("note", new_column_name="memo", existing_type=sa.String(50)); '
        'b.drop_column("memo")',
        "dropping people.memo (renamed from note in this upgrade) would delete 1 non-empty values",
    )


def test_a_column_renamed_in_one_batch_and_dropped_in_the_next(project: Project) -> None:
    refused(
        project,
        'with op.batch_alter_table("people") as b:\n'
        '    b.alter_column("note", new_column_name="memo", existing_type=sa.String(50))\n'
        'with op.batch_alter_table("people") as b:\n'
        '    b.drop_column("memo")',
        "dropping people.memo (renamed from note in this upgrade) would delete 1 non-empty values",
    )


@pytest.mark.parametrize("backend", SERVERS)  # SQLite: in batches, above
def test_a_column_renamed_then_dropped(project: Project) -> None:
    refused(
        project,
        'op.alter_column("people", "note", new_column_name="memo", existing_type=sa.String(50)); '
        'op.drop_column("people", "memo")',
        "dropping people.memo (renamed from note in this upgrade) would delete 1 non-empty values",
    )


def test_a_read_before_the_drop_does_not_stop_the_guard(project: Project) -> None:
    refused(
        project,
        'counted = op.get_bind().execute(sa.text("SELECT count(*) FROM people")).scalar_one(); '
        'op.get_bind().execute(sa.text("SELECT id FROM people")).fetchall(); '
        'op.drop_table("people")',
        "dropping people would delete 2 rows",
    )


def test_a_table_made_and_dropped_in_the_same_upgrade_loses_nothing(project: Project) -> None:
    passes(
        project,
        'op.create_table("scratch", sa.Column("id", sa.Integer())); '
        'op.execute("INSERT INTO scratch (id) SELECT id FROM people"); '
        'op.drop_table("scratch")',
    )


@pytest.fixture
def other_schema(project: Project, backend: str) -> Iterator[str]:
    """A schema ``s`` (on MySQL a database) holding a people table of its own, with 3 rows."""
    url = make_url(project.url)
    name = "s" if backend == "postgres" else f"{url.database}_s"
    if backend == "postgres":
        sql(project.url, "CREATE SCHEMA s")
    else:
        sql(project.url, f"CREATE DATABASE {name}")
    try:
        sql(
            project.url,
            f"CREATE TABLE {name}.people (id INTEGER PRIMARY KEY)",
            f"INSERT INTO {name}.people (id) VALUES (1), (2), (3)",
        )
        yield name
    finally:
        if backend == "mysql":
            sql(project.url, f"DROP DATABASE IF EXISTS {name}")


@pytest.mark.parametrize("backend", SERVERS)  # SQLite has schemas only as attached files
def test_a_drop_in_another_schema_counts_that_schema(project: Project, other_schema: str) -> None:
    refused(
        project,
        f'op.drop_table("people", schema="{other_schema}")',
        f"dropping {other_schema}.people would delete 3 rows",
    )
    # The other way round: that table empty, the default one full; the drop goes through.
    sql(project.url, f"DELETE FROM {other_schema}.people")
    result = project.cli("upgrade")
    assert result.exit_code == 0, result.output
    assert len(rows(project.url)) == 2


@pytest.mark.parametrize("backend", POSTGRES)  # postgresql_using is PostgreSQL's
def test_a_using_that_does_not_read_the_column(project: Project) -> None:
    refused(
        project,
        'op.alter_column("people", "price", type_=sa.String(10), postgresql_using="NULL")',
        "converting people.price would overwrite 2 non-empty values "
        "(USING NULL does not read the column)",
    )
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.alter_column("people", "price", type_=sa.String(10), postgresql_using="0")',
    )
    assert_clean_failure(project.cli("upgrade"), 3, "(USING 0 does not read the column)")
    passes(
        project,
        'op.alter_column("people", "price", type_=sa.String(10), '
        'postgresql_using="price::varchar")',
    )
    assert rows(project.url) == [(1, "ada", "3"), (2, None, "4")]


@pytest.mark.parametrize("backend", SERVERS)  # SQLite has no TRUNCATE
def test_truncate_through_op_execute(project: Project) -> None:
    refused(project, 'op.execute("TRUNCATE TABLE people")', "truncating people would delete 2 rows")


@pytest.mark.parametrize(
    "body",
    [
        'op.execute("DELETE FROM people")',
        'op.execute(sa.text("DELETE FROM people"))',
        'op.get_bind().execute(sa.text("DELETE FROM people"))',
        'op.execute(sa.table("people").delete())',
    ],
    ids=["op.execute", "text", "the bind", "core"],
)
def test_a_delete_without_where(project: Project, body: str) -> None:
    refused(project, body, "a DELETE without WHERE on people would delete 2 rows")


def test_a_delete_with_where_or_on_an_empty_table_passes(project: Project) -> None:
    sql(project.url, "DELETE FROM people WHERE note IS NULL")
    write_revision(
        project,
        "bbbb00000002",
        "aaaa00000001",
        body='op.execute("DELETE FROM people WHERE id = 1")',
    )
    assert project.cli("upgrade").exit_code == 0
    write_revision(project, "cccc00000003", "bbbb00000002", body='op.execute("DELETE FROM people")')
    result = project.cli("upgrade")
    assert result.exit_code == 0, result.output


def test_the_backup_holds_the_rows_from_before_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    made = Project.create(tmp_path, url)
    assert made.cli("init").exit_code == 0
    write_revision(made, "aaaa00000001", None, body=CREATE)
    assert made.cli("upgrade").exit_code == 0
    sql(url, "INSERT INTO people (id, note, price) VALUES (1, 'ada', 3)")
    write_revision(
        made,
        "bbbb00000002",
        "aaaa00000001",
        body="op.execute(\"UPDATE people SET note = 'changed'\"); "
        'op.rename_table("people", "old_people"); op.drop_table("old_people")',
    )
    accepted = made.cli("upgrade", "--accept-data-loss")
    assert accepted.exit_code == 0, accepted.output
    backup = tmp_path / "app.before-bbbb00000002.db"
    assert f"Backup of the database written to {backup}" in accepted.stdout
    assert rows(f"sqlite:///{backup}") == [(1, "ada", 3)]  # before the UPDATE, too
    assert not for_url(make_url(url)).absent(make_url(url))
    assert [p.name for p in tmp_path.glob("*.partial")] == []


@pytest.mark.parametrize("template", ["generic", "async"])
def test_an_env_py_with_an_engine_of_its_own(
    fresh_url: str, backend: str, tmp_path: Path, template: str
) -> None:
    """Alembic's own templates run the migrations on their own engine, whose SQLite driver
    commits DDL as it runs: there the revisions are read ahead, so nothing runs."""
    url = fresh_url if template == "generic" else async_url(fresh_url)
    made = Project.create(tmp_path, url)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'directory = "alembic"\n')
    command.init(
        Config(str(tmp_path / "alembic.ini")), str(tmp_path / "alembic"), template=template
    )
    env_py = tmp_path / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None",
            f"from {made.module} import Base\ntarget_metadata = Base.metadata",
        )
    )
    versions = tmp_path / "alembic" / "versions"
    made.versions.mkdir(parents=True)  # write_revision writes there: move each file after
    for name, parent, body in (
        ("aaaa00000001", None, CREATE),
        ("bbbb00000002", "aaaa00000001", 'op.rename_table("people", "old"); op.drop_table("old")'),
    ):
        write_revision(made, name, parent, body=body).rename(versions / f"{name}.py")
    assert made.cli("upgrade", "aaaa00000001").exit_code == 0
    sql(fresh_url, "INSERT INTO people (id, note, price) VALUES (1, 'ada', 3)")
    before = snapshot(fresh_url), rows(fresh_url)
    result = made.cli("upgrade")
    assert_clean_failure(result, 3, "dropping old (renamed from people in this upgrade)")
    transactional = backend == "postgres"  # its own engine: SQLite's driver commits DDL
    assert ("rolled back" if transactional else "nothing was run") in result.stderr
    assert (snapshot(fresh_url), rows(fresh_url)) == before

"""Every expected failure: one clear sentence, a documented exit code, no traceback, and the
database left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.backends import require_server
from tests.support.helpers import Project, assert_clean_failure, head_of, snapshot, write_revision


@pytest.fixture
def project(fresh_url: str, tmp_path: Path) -> Project:
    """A project with one revision applied."""
    made = Project.create(tmp_path, fresh_url)
    assert made.cli("init").exit_code == 0
    assert made.cli("make", "create tables").exit_code == 0
    assert made.cli("upgrade").exit_code == 0
    return made


# -- configuration --------------------------------------------------------------------------


def test_missing_url_is_a_configuration_error(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    assert project.cli("init").exit_code == 0
    result = project.cli("status", url="")
    assert_clean_failure(result, 2, "No database URL is set")


def test_malformed_url_is_named_without_its_password(tmp_path: Path) -> None:
    project = Project.create(tmp_path, "")
    result = project.cli("status", "--url", "postgresql://bob:hunter2@host:notaport/db")
    assert_clean_failure(result, 2, "is not valid")
    assert "hunter2" not in result.output


def test_missing_metadata_setting(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    result = Project(tmp_path, "sqlite:///x.db").cli("init")
    assert_clean_failure(result, 2, "No models are configured")
    assert not (tmp_path / "migrations").exists()


def test_unimportable_metadata(tmp_path: Path) -> None:
    result = Project(tmp_path, "sqlite:///x.db").cli(
        "init", "--metadata", "no_such_module_here:Base"
    )
    assert_clean_failure(result, 2, "Cannot import 'no_such_module_here'")


def test_metadata_that_is_not_metadata(tmp_path: Path) -> None:
    (tmp_path / "notmodels_abc.py").write_text("Base = 42\n")
    result = Project(tmp_path, "sqlite:///x.db").cli("init", "--metadata", "notmodels_abc:Base")
    assert_clean_failure(result, 2, "not a SQLAlchemy MetaData")


def test_no_migrations_folder_yet(tmp_path: Path) -> None:
    project = Project.create(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    assert_clean_failure(project.cli("upgrade"), 2, "run `fastapi-alembic init` first")


def test_init_refuses_an_existing_folder_without_force(project: Project) -> None:
    kept = project.revision_files()
    assert_clean_failure(project.cli("init"), 2, "already exists", "--force")
    forced = project.cli("init", "--force")
    assert forced.exit_code == 0, forced.output
    assert project.revision_files() == kept  # revisions are never touched


# -- the database ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:1/test", id="postgres"),
        pytest.param("mysql+pymysql://root:s3cr3t-pw@127.0.0.1:1/test", id="mysql"),
        pytest.param("sqlite:////nonexistent-folder/deeper/app.db", id="sqlite"),
    ],
)
def test_unreachable_database(url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, url)
    project.cli("init")
    for verb in ("status", "upgrade", "current"):
        result = project.cli(verb)
        assert_clean_failure(result, 3, "Cannot connect to the database")
        assert "s3cr3t-pw" not in result.output


@pytest.mark.mysql
def test_wrong_password_is_refused_and_never_printed(tmp_path: Path) -> None:
    server = make_url(require_server("mysql"))
    url = server.set(password="wr0ng-pass").render_as_string(hide_password=False)
    project = Project.create(tmp_path, url)
    project.cli("init")
    result = project.cli("status")
    assert_clean_failure(result, 3, "Cannot connect", "Access denied", "***")
    assert "wr0ng-pass" not in result.output


@pytest.mark.postgres
def test_password_is_masked_in_reports(tmp_path: Path) -> None:
    # The server trusts local connections, so a password is accepted and must not show up.
    server = make_url(require_server("postgres"))
    url = server.set(password="t0p-secret").render_as_string(hide_password=False)
    project = Project.create(tmp_path, url)
    project.cli("init")
    for args in (("status",), ("status", "--json"), ("upgrade", "--json"), ("check",)):
        result = project.cli(*args)
        assert "t0p-secret" not in result.output
    assert "***" in project.cli("status").stdout


def test_database_at_an_unknown_revision(project: Project) -> None:
    run_with_connection(
        make_url(project.url),
        lambda c: c.execute(text("UPDATE alembic_version SET version_num = 'feedfacecafe'")),
    )
    before = snapshot(project.url)
    for verb in ("upgrade", "status", "make"):
        args = (verb, "anything") if verb == "make" else (verb,)
        assert_clean_failure(project.cli(*args), 3, "feedfacecafe", "not among the migrations")
    assert snapshot(project.url) == before


def test_make_refuses_a_database_behind_head(project: Project) -> None:
    write_revision(project, "b0b0b0b0b0b0", head_of(project))
    result = project.cli("make", "next change")
    assert_clean_failure(result, 3, "behind head", "fastapi-alembic upgrade")
    assert len(project.revision_files()) == 2


def test_make_with_no_model_changes_writes_nothing(project: Project) -> None:
    result = project.cli("make", "nothing changed")
    assert_clean_failure(result, 1, "models match the database", "--empty")
    assert len(project.revision_files()) == 1
    empty = project.cli("make", "backfill data", "--empty")
    assert empty.exit_code == 0, empty.output
    assert len(project.revision_files()) == 2


# -- the migration files --------------------------------------------------------------------


def test_two_heads(project: Project) -> None:
    base = head_of(project)
    write_revision(project, "aaaa00000001", base)
    write_revision(project, "bbbb00000002", base)
    before = snapshot(project.url)
    assert_clean_failure(
        project.cli("upgrade"), 2, "2 heads", "aaaa00000001", "bbbb00000002", "merge"
    )
    assert snapshot(project.url) == before
    check = project.cli("check")
    assert check.exit_code == 1
    assert "2 heads" in check.stdout
    assert project.cli("merge", "-m", "join branches").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    graph = project.cli("history", "--graph").stdout
    assert "(head, merge" in graph or "(head, merge, " in graph or "(head, merge)" in graph
    assert "\\" in graph and "/" in graph


def test_syntax_error_in_a_migration(project: Project) -> None:
    bad = write_revision(
        project,
        "c0ffee000001",
        head_of(project),
        body="op.add_column('users' sa.Column('x', sa.Integer()))",
    )
    before = snapshot(project.url)
    for verb in ("upgrade", "status", "history"):
        assert_clean_failure(project.cli(verb), 2, bad.name, "SyntaxError at line")
    assert snapshot(project.url) == before


def test_import_error_in_a_migration(project: Project) -> None:
    bad = write_revision(
        project, "c0ffee000002", head_of(project), header="import no_such_dependency_xyz"
    )
    before = snapshot(project.url)
    assert_clean_failure(project.cli("upgrade"), 2, bad.name, "ModuleNotFoundError")
    assert snapshot(project.url) == before


def test_missing_parent_revision(project: Project) -> None:
    write_revision(project, "c0ffee000003", "0000deadbeef")
    before = snapshot(project.url)
    assert_clean_failure(project.cli("upgrade"), 2, "c0ffee000003", "0000deadbeef", "not in")
    assert snapshot(project.url) == before


def test_unknown_target_is_a_usage_error(project: Project) -> None:
    assert_clean_failure(project.cli("upgrade", "zzzz9999"), 2, "zzzz9999")
    assert_clean_failure(project.cli("show", "zzzz9999"), 2, "No revision matches")


def test_downgrade_needs_a_target(project: Project) -> None:
    result = project.cli("downgrade")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_failing_migration_leaves_the_database_unchanged(project: Project, backend: str) -> None:
    head = head_of(project)
    write_revision(
        project,
        "f00d00000001",
        head,
        body="op.create_table('half_done', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "                op.execute('SELECT * FROM no_such_table_anywhere')",
    )
    result = project.cli("upgrade")
    assert_clean_failure(result, 3, "Migration f00d00000001 (hand written f00d00000001) failed")
    tables, versions = snapshot(project.url)
    assert versions == [head]
    if backend == "mysql":
        assert "commits DDL as it goes" in result.stderr
    else:
        assert "rolled back and the database is unchanged" in result.stderr
        assert "half_done" not in tables

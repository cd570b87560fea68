"""Every verb on Alembic projects written the ways projects write them (tests/support/envshapes.py).

For each env.py shape, each verb works against the database it was given, or refuses in one
sentence with exit 2; after every verb the database the env.py would pick by itself (the
sentinel) is byte for byte unchanged. The default run covers a slice (every shape on SQLite,
two shapes on the servers); ``make test-envs`` runs the whole matrix (marker ``envs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.envshapes import (
    SHAPES,
    Shape,
    async_url,
    make_project,
    sentinel_database,
    sentinel_state,
    unique_name,
)
from tests.support.helpers import Project, Result, assert_clean_failure, move_result, snapshot

#: The slice the default suite runs; the rest is marked ``envs``.
DEFAULT_SLICE = {
    ("generic", "sqlite"),
    ("async", "sqlite"),
    ("include_object", "sqlite"),
    ("metadata_list", "sqlite"),
    ("named_sections", "sqlite"),
    ("pyproject", "sqlite"),
    ("multidb", "sqlite"),
    ("settings_class", "sqlite"),
    ("environment_variables", "sqlite"),
    ("version_folders", "sqlite"),
    ("async_own_url", "sqlite"),
    ("connect_statement", "sqlite"),
    ("command_options", "sqlite"),
    ("anyio_worker", "sqlite"),
    ("generic", "postgres"),
    ("settings_class", "mysql"),
    ("version_folders", "postgres"),
    ("async_own_url", "postgres"),
    ("connect_statement", "mysql"),
}


def _cases() -> Iterator[object]:
    for name in SHAPES:
        for backend in ("sqlite", "postgres", "mysql"):
            marks = [getattr(pytest.mark, backend)]
            if (name, backend) not in DEFAULT_SLICE:
                marks.append(pytest.mark.envs)
            yield pytest.param(name, backend, marks=marks, id=f"{name}-{backend}")


@pytest.fixture
def sentinel_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The database the project's env.py would pick by itself, with rows of its own."""
    with sentinel_database(backend, tmp_path) as url:
        yield url


class Run:
    """One shape's project, and the verbs as a user types them."""

    def __init__(self, shape: Shape, project: Project, sentinel: str) -> None:
        self.shape = shape
        self.project = project
        self.sentinel = sentinel
        self.sentinel_before = sentinel_state(sentinel)

    def verb(self, *args: str) -> Result:
        result = self.project.cli(*self.shape.options, *args)
        assert "Traceback" not in result.output, result.output
        assert sentinel_state(self.sentinel) == self.sentinel_before, (
            f"`{' '.join(args)}` changed the sentinel database: {result.output}"
        )
        return result

    def ok(self, *args: str) -> Result:
        result = self.verb(*args)
        assert result.exit_code == 0, result.output
        return result

    def refused(self, *args: str) -> None:
        result = self.verb(*args)
        assert_clean_failure(result, 2, "connects to", "env.py", "fastapi-alembic adopt")


def _project(shape_name: str, backend: str, tmp_path: Path, url: str, sentinel: str) -> Run:
    shape = SHAPES[shape_name]
    if shape.needs_async:
        url, sentinel = async_url(url), async_url(sentinel)
    if shape.template == "pyproject":
        pytest.importorskip("alembic", minversion="1.16")
    root = tmp_path / f"project_{unique_name()}"
    root.mkdir()
    return Run(shape, make_project(shape, root, url, sentinel), sentinel)


def _revision_by_hand(project: Project, folder: str = "") -> str:
    """A revision in the versions folder, or in its subfolder ``folder`` (the one an env.py
    that names a folder per dialect loads)."""
    versions = project.root / "alembic" / "versions" / folder
    versions.mkdir(parents=True, exist_ok=True)
    (versions / "a1b2c3d4e5f6_create_notes.py").write_text(
        textwrap.dedent(
            '''\
            """create notes"""
            from alembic import op
            import sqlalchemy as sa

            revision = "a1b2c3d4e5f6"
            down_revision = None
            branch_labels = None
            depends_on = None


            def upgrade():
                op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))


            def downgrade():
                op.drop_table("notes")
            '''
        )
    )
    return "a1b2c3d4e5f6"


@pytest.mark.parametrize(("shape_name", "backend"), list(_cases()), indirect=["backend"])
def test_every_verb_uses_the_given_database_or_refuses(
    shape_name: str, backend: str, fresh_url: str, sentinel_url: str, tmp_path: Path
) -> None:
    run = _project(shape_name, backend, tmp_path, fresh_url, sentinel_url)
    url = run.project.url
    if run.shape.works:
        _all_verbs_work(run, url)
    else:
        _all_verbs_refuse(run, url)


def _all_verbs_work(run: Run, url: str) -> None:
    made = run.ok("make", "create tables")
    assert "Wrote revision" in made.stdout
    head = json.loads(run.ok("heads", "--json").stdout)[0]["revision"]

    upgraded = run.ok("upgrade")
    assert "Done: 1 migration(s)" in upgraded.stdout, upgraded.output
    assert f"↑ {head}" in upgraded.stdout
    assert snapshot(url)[1] == [head]

    status = json.loads(run.ok("status", "--json").stdout)
    assert status["current"] == [head]
    assert status["models_match"] is True
    assert any("fastapi-alembic adopt" in note for note in status["notes"])
    assert run.ok("current").stdout.strip() == f"{head} (head)"

    down = move_result(run.ok("downgrade", "base", "--json").stdout)
    assert [step["revision"] for step in down["steps"]] == [head]
    assert down["after"] == []
    assert snapshot(url)[1] == []
    up = move_result(run.ok("upgrade", "--json").stdout)
    assert [step["revision"] for step in up["steps"]] == [head]

    assert "now base" in run.ok("stamp", "base").stdout
    assert snapshot(url)[1] == []
    run.ok("stamp", "head")
    assert snapshot(url)[1] == [head]

    # Stamping records nothing in the ledger: adopt the applied files as they are.
    run.ok("log", "--adopt")
    checked = run.ok("check")
    assert "All checks passed." in checked.stdout
    assert "fastapi-alembic adopt" in checked.stdout
    assert "All checks passed." in run.ok("test").stdout
    assert head in run.ok("history").stdout
    assert head in run.ok("show", head).stdout
    assert run.ok("log", "--json").exit_code == 0
    assert "1 revision(s) checked" in run.ok("lint").stdout
    assert snapshot(url)[1] == [head]


def _all_verbs_refuse(run: Run, url: str) -> None:
    head = _revision_by_hand(run.project)
    before = snapshot(url)
    for verb in (
        ("make", "more tables"),
        ("upgrade",),
        ("upgrade", "--json"),
        ("downgrade", "base"),
        ("status",),
        ("status", "--json"),
        ("current",),
        ("stamp", head),
        ("check",),
        ("test",),
        ("log",),
    ):
        run.refused(*verb)
        assert snapshot(url) == before, verb
    # Verbs that read the files only (and lint, the given database's sizes) work.
    assert head in run.ok("history").stdout
    assert head in run.ok("heads").stdout
    assert head in run.ok("show", head).stdout
    assert "1 revision(s) checked" in run.ok("lint").stdout
    assert snapshot(url) == before
    assert [path.name for path in (run.project.root / "alembic" / "versions").glob("*.py")] == [
        f"{head}_create_notes.py"
    ]


PLUGIN_TEST = """
from sqlalchemy import create_engine, inspect


def test_the_copy_is_migrated(migrated_url):
    engine = create_engine(migrated_url)
    try:
        assert "notes" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
"""


@pytest.mark.parametrize(
    ("shape_name", "backend"),
    [
        pytest.param("generic", "sqlite", marks=pytest.mark.sqlite, id="generic-sqlite"),
        pytest.param("settings_class", "sqlite", marks=pytest.mark.sqlite, id="settings-sqlite"),
        *(
            pytest.param(name, backend, marks=[getattr(pytest.mark, backend), pytest.mark.envs])
            for name, shape in SHAPES.items()
            for backend in ("sqlite", "postgres", "mysql")
            if (name, backend) not in {("generic", "sqlite"), ("settings_class", "sqlite")}
            and not shape.needs_async
            and not shape.options
        ),
    ],
    indirect=["backend"],
)
def test_the_pytest_plugin_builds_its_template_in_the_given_database(
    shape_name: str, backend: str, fresh_url: str, sentinel_url: str, tmp_path: Path
) -> None:
    run = _project(shape_name, backend, tmp_path, fresh_url, sentinel_url)
    # That shape's env.py loads the revisions of the given database's dialect only.
    dialect_folder = make_url(run.project.url).get_backend_name()
    _revision_by_hand(run.project, dialect_folder if shape_name == "version_folders" else "")
    (run.project.root / "test_notes.py").write_text(PLUGIN_TEST)
    server = fresh_url if backend != "sqlite" else f"sqlite:///{tmp_path / 'copies' / 'x.db'}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FASTAPI_ALEMBIC", "DATABASE_URL"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--migrate-url={server}"],
        cwd=run.project.root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    assert sentinel_state(run.sentinel) == run.sentinel_before, output
    if run.shape.works:
        assert done.returncode == 0, output
        assert "1 passed" in output, output
    else:
        assert done.returncode == 1, output
        assert "connects to" in output and "fastapi-alembic adopt" in output, output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_offline_sql_is_checked_too(
    backend: str, fresh_url: str, sentinel_url: str, tmp_path: Path
) -> None:
    """--sql never connects: the URL env.py gives configure is compared instead."""
    works = _project("generic", backend, tmp_path, fresh_url, sentinel_url)
    _revision_by_hand(works.project)
    sql = works.ok("upgrade", "--sql", "base:head")
    assert "CREATE TABLE notes" in sql.stdout
    refuses = _project("environment_variables", backend, tmp_path, fresh_url, sentinel_url)
    _revision_by_hand(refuses.project)
    refuses.refused("upgrade", "--sql", "base:head")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_what_the_app_prints_stays_out_of_json_and_info_needs_v(
    backend: str, fresh_url: str, sentinel_url: str, tmp_path: Path
) -> None:
    run = _project("generic", backend, tmp_path, fresh_url, sentinel_url)
    _revision_by_hand(run.project)
    models = run.project.root / f"{run.project.module}.py"
    models.write_text(
        "import logging, sys\n"
        "print('app says hello on stdout')\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.INFO)\n"
        "logging.getLogger('app').warning('app logs to stdout')\n" + models.read_text()
    )
    upgraded = run.project.run("upgrade", "--json")  # a new process: the models load here
    assert upgraded.exit_code == 0, upgraded.output
    assert move_result(upgraded.stdout)["after"] == ["a1b2c3d4e5f6"]
    assert "app says hello on stdout" in upgraded.stderr
    assert "Running upgrade" not in upgraded.output  # alembic.ini's INFO logging is off
    status = run.project.run("status", "--json")
    assert json.loads(status.stdout)["current"] == ["a1b2c3d4e5f6"], status.output
    verbose = run.project.run("-v", "downgrade", "base")
    assert verbose.exit_code == 0, verbose.output
    assert "Running downgrade a1b2c3d4e5f6" in verbose.stderr
    assert "Done: 1 migration(s)" in verbose.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_one_sqlite_file_by_two_paths_is_one_database(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """env.py's URL reaches the given file through a symlink: the same database, not refused."""
    target = Path(make_url(fresh_url).database or "")
    target.touch()
    link = tmp_path / "link.db"
    link.symlink_to(target)
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["generic"], root, fresh_url, f"sqlite:///{link}")
    _revision_by_hand(project)
    # env.py ignores the URL it is given and opens the symlink: still the same file.
    env_py = root / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "config = context.config\n",
            f'config = context.config\nconfig.set_main_option("sqlalchemy.url", "sqlite:///{link}")\n',
            1,
        )
    )
    upgraded = project.cli("upgrade")
    assert "Done: 1 migration(s)" in upgraded.stdout, upgraded.output
    assert snapshot(fresh_url)[1] == ["a1b2c3d4e5f6"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_localhost_and_127_0_0_1_are_one_server(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """env.py names the given database by another host name: asked of the server, the same."""
    url = make_url(fresh_url)
    other_name = url.set(host="localhost" if url.host != "localhost" else "127.0.0.1")
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["environment_variables"], root, fresh_url, str(other_name))
    _revision_by_hand(project)
    upgraded = project.cli("upgrade")
    assert "Done: 1 migration(s)" in upgraded.stdout, upgraded.output
    assert snapshot(fresh_url)[1] == ["a1b2c3d4e5f6"]


@pytest.mark.parametrize("shape_name", ["generic", "named_sections", "pyproject"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_folder_comes_from_the_projects_alembic_configuration(
    shape_name: str, backend: str, fresh_url: str, sentinel_url: str, tmp_path: Path
) -> None:
    """Without `directory`, script_location is read from alembic.ini (the section --name picks)
    or [tool.alembic]."""
    run = _project(shape_name, backend, tmp_path, fresh_url, sentinel_url)
    pyproject = run.project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('directory = "alembic"\n', ""))
    head = _revision_by_hand(run.project)
    assert head in run.ok("history").stdout
    assert "Done: 1 migration(s)" in run.ok("upgrade").stdout
    assert snapshot(run.project.url)[1] == [head]


@pytest.mark.parametrize(
    ("shape_name", "give", "phrase"),
    [
        ("async", "sync", "connects with an async engine, but sqlite:///"),
        ("generic", "async", "connects with a sync engine, but sqlite+aiosqlite:///"),
    ],
)
def test_a_url_for_the_other_kind_of_driver_is_one_sentence(
    shape_name: str, give: str, phrase: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'given.db'}"
    url = async_url(database) if give == "async" else database
    (tmp_path / "project").mkdir()
    project = make_project(SHAPES[shape_name], tmp_path / "project", url, database)
    for verb in (("status",), ("upgrade",), ("current",)):
        result = project.run(*verb)
        assert_clean_failure(result, 2, phrase, "env.py", "fastapi-alembic adopt")
    assert not (tmp_path / "given.db").exists() or snapshot(database)[1] == []

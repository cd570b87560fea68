"""What Alembic sees, how env.py fails, and what env.py is told (src/fastapi_alembic/env_runs.py,
version_folders.py, alembic_cli.py), on env.py files written the ways projects write them
(tests/support/envshapes.py)."""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic import Migrations
from fastapi_alembic.errors import ConfigError
from tests.support.envshapes import (
    ASYNC_GIVEN_URL,
    SHAPES,
    async_url,
    make_project,
    sentinel_state,
    unique_name,
)
from tests.support.helpers import Project, assert_clean_failure, move_result, snapshot

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


def _revision(folder: Path, revision: str, parent: str | None, table: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{revision}_{table}.py").write_text(
        textwrap.dedent(
            f'''\
            """create {table}"""
            from alembic import op
            import sqlalchemy as sa

            revision = "{revision}"
            down_revision = {parent!r}
            branch_labels = None
            depends_on = None


            def upgrade():
                op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


            def downgrade():
                op.drop_table("{table}")
            '''
        )
    )


NOTES_AND_TAGS = """
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""


def _version_folders_project(tmp_path: Path, url: str) -> Project:
    """Two revisions in the folder of the URL's dialect, others in every other dialect's."""
    root = tmp_path / f"project_{unique_name()}"
    root.mkdir()
    project = make_project(SHAPES["version_folders"], root, url, url)
    project.write_models(NOTES_AND_TAGS)
    versions = root / "alembic" / "versions"
    backend = make_url(url).get_backend_name()
    for folder in ("sqlite", "postgresql", "mysql"):
        if folder == backend:
            _revision(versions / folder, "a1a1a1a1a1a1", None, "notes")
            _revision(versions / folder, "b2b2b2b2b2b2", "a1a1a1a1a1a1", "tags")
        else:
            _revision(versions / folder, f"{folder[:4]}00000000", None, f"{folder}_only")
    return project


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_revision_folders_env_py_names_are_the_ones_loaded(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """revision_environment = true and context.script.version_locations set by env.py (one
    folder per dialect): every verb sees the dialect's revisions, and only those."""
    project = _version_folders_project(tmp_path, fresh_url)
    history = project.cli("history")
    assert history.exit_code == 0, history.output
    assert "a1a1a1a1a1a1" in history.stdout and "b2b2b2b2b2b2" in history.stdout
    assert "00000000" not in history.stdout and "dec0" not in history.stdout
    heads = json.loads(project.cli("heads", "--json").stdout)
    assert [head["revision"] for head in heads] == ["b2b2b2b2b2b2"]
    linted = project.cli("lint", "--no-database")
    assert linted.exit_code == 0, linted.output
    assert "2 revision(s) checked" in linted.stdout
    tested = project.cli("test", "--url", fresh_url)
    assert tested.exit_code == 0, tested.output
    assert "All checks passed." in tested.stdout

    # The Python API reports what ran, from what ran.
    migrations = Migrations(url=fresh_url, root=project.root)
    first = migrations.upgrade("+1")
    assert [step.revision for step in first.steps] == ["a1a1a1a1a1a1"]
    assert snapshot(fresh_url)[1] == ["a1a1a1a1a1a1"]
    upgraded = move_result(project.cli("upgrade", "--json").stdout)
    assert [step["revision"] for step in upgraded["steps"]] == ["b2b2b2b2b2b2"]
    tables, current = snapshot(fresh_url)
    assert current == ["b2b2b2b2b2b2"]
    assert {"notes", "tags"} <= tables and not any(t.endswith("_only") for t in tables)
    assert project.cli("current").stdout.strip() == "b2b2b2b2b2b2 (head)"
    assert migrations.upgrade().steps == ()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_no_revision_found_while_revision_files_sit_in_the_folder_is_never_a_pass(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """The same project, but env.py no longer names the folders: Alembic would find
    nothing; every verb says so (exit 2) instead of passing over nothing."""
    project = _version_folders_project(tmp_path, fresh_url)
    env_py = project.root / "alembic" / "env.py"
    env_py.write_text(env_py.read_text().replace("context.script.version_locations = [", "_ = ["))
    ini = project.root / "alembic.ini"
    ini.write_text(ini.read_text().replace("revision_environment = true\n", ""))
    before = snapshot(fresh_url)
    for verb in (
        ("history",),
        ("heads",),
        ("lint",),
        ("test", "--url", fresh_url),
        ("upgrade",),
        ("current", "--check"),
        ("status",),
        ("check",),
    ):
        result = project.cli(*verb)
        assert_clean_failure(
            result, 2, "No revision was found in", "revision file(s) are under", "version_locations"
        )
        assert snapshot(fresh_url) == before, verb
    with pytest.raises(ConfigError, match="No revision was found"):
        Migrations(url=fresh_url, root=project.root).upgrade()
    assert snapshot(fresh_url) == before


ENV_PY_FAILS = 'raise ValueError("APP_SECRET is not set")\n'


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_an_exception_in_env_py_is_one_sentence_naming_the_line(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["generic"], root, fresh_url, fresh_url)
    _revision(root / "alembic" / "versions", "a1a1a1a1a1a1", None, "notes")
    env_py = root / "alembic" / "env.py"
    source = env_py.read_text().replace(
        "config = context.config\n", "config = context.config\n" + ENV_PY_FAILS, 1
    )
    env_py.write_text(source)
    line = source.splitlines().index(ENV_PY_FAILS.strip()) + 1
    before = snapshot(fresh_url)
    for verb in (
        ("upgrade",),
        ("downgrade", "base"),
        ("current",),
        ("status",),
        ("stamp", "head"),
        ("make", "more"),
        ("check",),
        ("log",),
    ):
        result = project.cli(*verb)
        assert_clean_failure(
            result,
            2,
            f"env.py, line {line}, raised ValueError: APP_SECRET is not set",
            "nothing was run",
        )
        assert snapshot(fresh_url) == before, verb
    verbose = project.cli("-v", "upgrade")
    assert verbose.exit_code == 2
    assert "Traceback" in verbose.stderr and 'raise ValueError("APP_SECRET' in verbose.stderr


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_async_template_naming_the_given_database_itself_works(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """Alembic's async template, env.py setting sqlalchemy.url itself and ending in
    asyncio.run(): given that same database (async URL), the verbs run; check and test,
    which need a scratch database env.py cannot be pointed at, refuse in one sentence."""
    url = async_url(fresh_url)
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(ASYNC_GIVEN_URL, root, url, url)
    _revision(root / "alembic" / "versions", "a1a1a1a1a1a1", None, "notes")
    upgraded = project.cli("upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "↑ a1a1a1a1a1a1" in upgraded.stdout
    assert snapshot(fresh_url)[1] == ["a1a1a1a1a1a1"]
    assert project.cli("current").stdout.strip() == "a1a1a1a1a1a1 (head)"
    status = project.cli("status", "--json")
    assert json.loads(status.stdout)["current"] == ["a1a1a1a1a1a1"], status.output
    down = project.cli("downgrade", "base")
    assert down.exit_code == 0, down.output
    assert snapshot(fresh_url)[1] == []
    assert project.cli("stamp", "head").exit_code == 0
    assert snapshot(fresh_url)[1] == ["a1a1a1a1a1a1"]
    before = snapshot(fresh_url)
    assert_clean_failure(project.cli("check"), 2, "connects to", "fastapi-alembic adopt")
    assert snapshot(fresh_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cmd_opts_is_what_alembics_command_line_sets_for_the_verb(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["command_options"], root, fresh_url, fresh_url)
    assert project.cli("make", "create tables").exit_code == 0
    assert project.cli("upgrade").exit_code == 0
    assert project.cli("downgrade", "base").exit_code == 0
    assert project.cli("upgrade", "--sql", "base:head").exit_code == 0
    assert project.cli("current").exit_code == 0
    log = (root / "alembic" / "commands.log").read_text().splitlines()
    common = "name=alembic x=None raiseerr=False"
    assert f"revision {common} sql=False autogenerate=True" in log
    assert f"upgrade {common} sql=False autogenerate=None" in log
    assert f"downgrade {common} sql=False autogenerate=None" in log
    assert f"upgrade {common} sql=True autogenerate=None" in log
    assert f"current {common} sql=None autogenerate=None" in log


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_sqlite_sentinel_that_does_not_exist_is_not_created(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    """env.py names a database file that is not there: refused before SQLite creates it."""
    missing = tmp_path / "elsewhere" / "not_there.db"
    missing.parent.mkdir()
    root = tmp_path / "project"
    root.mkdir()
    project = make_project(SHAPES["connect_statement"], root, fresh_url, f"sqlite:///{missing}")
    _revision(root / "alembic" / "versions", "a1a1a1a1a1a1", None, "notes")
    for verb in (("upgrade",), ("current",), ("status",), ("downgrade", "base")):
        assert_clean_failure(project.cli(*verb), 2, "connects to", str(missing))
        assert not missing.exists(), verb
        assert sentinel_state(f"sqlite:///{missing}") is None


def test_threads_already_running_are_left_alone_and_new_ones_checked(tmp_path: Path) -> None:
    """While env.py runs, a connection from a thread env.py started without our context is
    checked; one from a thread that was serving before (an app whose lifespan migrates)
    is not: it may connect wherever it connects."""
    from sqlalchemy import create_engine

    from fastapi_alembic.connect_checks import checking

    class Refuse:
        def before_connect(self, dialect: object, cargs: object, cparams: object) -> None:
            raise RuntimeError("refused")

    def connect(name: str, outcome: dict[str, str]) -> None:
        engine = create_engine(f"sqlite:///{tmp_path / name}.db")
        try:
            engine.connect().close()
            outcome[name] = "connected"
        except RuntimeError:
            outcome[name] = "refused"
        finally:
            engine.dispose()

    outcome: dict[str, str] = {}
    go = threading.Event()
    serving = threading.Thread(target=lambda: (go.wait(), connect("serving", outcome)))
    serving.start()
    with checking(Refuse()):
        go.set()
        serving.join()
        started = threading.Thread(target=connect, args=("started", outcome))
        started.start()
        started.join()
        connect("here", outcome)
    assert outcome == {"serving": "connected", "started": "refused", "here": "refused"}
    assert not (tmp_path / "started.db").exists() and not (tmp_path / "here.db").exists()

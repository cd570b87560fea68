"""Alembic projects as people write them, for the env.py-shapes matrix (tests/test_env_shapes.py).

Each shape starts from what ``alembic init -t TEMPLATE`` writes (generated at test time with
Alembic's own templates, never copied here) and is edited the way projects edit it. Every
project also has a *sentinel*: the database its env.py or alembic.ini would pick by itself.
A verb run with another database must leave the sentinel byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from backends import require_server
from fastapi_alembic.db import run_with_connection
from fastapi_alembic.dialects import for_url
from helpers import Project

#: A second set of models, for the env.py whose target_metadata is a list.
AUDIT_MODELS = """
from sqlalchemy import Integer, MetaData, String, Table, Column

audit_metadata = MetaData()
audit_log = Table(
    "audit_log", audit_metadata,
    Column("id", Integer, primary_key=True),
    Column("event", String(100)),
)
"""


@dataclass
class Shape:
    """One way of writing env.py: how to build it, and whether our verbs can use it."""

    name: str
    template: str
    #: Edits the generated project: (project, sentinel URL) -> None.
    edit: Callable[[Project, str], None]
    #: True: every verb works on the database it is given. False: every verb that runs
    #: env.py refuses in one sentence (its env.py always connects to its own database).
    works: bool
    #: Global options to put before each verb (``--name dev``).
    options: tuple[str, ...] = ()
    #: The env.py needs an async driver in the URL.
    needs_async: bool = False


def _env_py(project: Project) -> Path:
    return project.root / "alembic" / "env.py"


def _replace(path: Path, old: str, new: str) -> None:
    source = path.read_text()
    assert old in source, f"{old!r} not in {path}"
    path.write_text(source.replace(old, new, 1))


def _set_ini_url(project: Project, url: str, section: str = "alembic") -> None:
    ini = project.root / "alembic.ini"
    lines, current, done = [], None, False
    for line in ini.read_text().splitlines():
        header = re.fullmatch(r"\[([\w.-]+)\]", line.strip())
        if header:
            current = header[1]
        elif current == section and line.startswith("sqlalchemy.url =") and not done:
            line, done = "sqlalchemy.url = " + url.replace("%", "%%"), True
        lines.append(line)
    assert done, f"no sqlalchemy.url under [{section}]"
    ini.write_text("\n".join(lines) + "\n")


def _models_metadata(project: Project) -> None:
    _replace(
        _env_py(project),
        "target_metadata = None",
        f"from {project.module} import Base\ntarget_metadata = Base.metadata",
    )


def generic(project: Project, sentinel: str) -> None:
    _models_metadata(project)
    _set_ini_url(project, sentinel)


def include_object_and_prefix(project: Project, sentinel: str) -> None:
    generic(project, sentinel)
    env_py = _env_py(project)
    _replace(
        env_py,
        "def run_migrations_online",
        textwrap.dedent(
            """\
            def include_object(object, name, type_, reflected, compare_to):
                # Tables another tool owns are left alone, as many projects do.
                return not (type_ == "table" and name.startswith("spatial_"))


            def run_migrations_online"""
        ),
    )
    _replace(
        env_py,
        "connection=connection, target_metadata=target_metadata",
        "connection=connection, target_metadata=target_metadata,\n"
        '            include_object=include_object, user_module_prefix="app_types."',
    )


def metadata_list(project: Project, sentinel: str) -> None:
    audit = f"audit_{project.module}"
    (project.root / f"{audit}.py").write_text(AUDIT_MODELS)
    _replace(
        _env_py(project),
        "target_metadata = None",
        f"from {project.module} import Base\nfrom {audit} import audit_metadata\n"
        "target_metadata = [Base.metadata, audit_metadata]",
    )
    _set_ini_url(project, sentinel)


def named_sections(project: Project, sentinel: str) -> None:
    _models_metadata(project)
    ini = project.root / "alembic.ini"
    source = ini.read_text().replace("[alembic]", "[dev]", 1)
    ini.write_text(source)
    _set_ini_url(project, sentinel, "dev")
    # A second environment beside it, as `alembic -n test` projects have.
    ini.write_text(
        ini.read_text()
        + "\n[test]\nscript_location = %(here)s/alembic\nsqlalchemy.url = sqlite:///nowhere.db\n"
    )


def pyproject_config(project: Project, sentinel: str) -> None:
    generic(project, sentinel)


def async_engine(project: Project, sentinel: str) -> None:
    generic(project, sentinel)


def settings_class(project: Project, sentinel: str) -> None:
    """The URL comes from the app's pydantic-settings class (a package under the root)."""
    package = project.root / f"app_{project.module}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        textwrap.dedent(
            f"""\
            from pydantic_settings import BaseSettings, SettingsConfigDict


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="SHAPE_APP_")
                database_url: str = {sentinel!r}


            settings = Settings()
            """
        )
    )
    _models_metadata(project)
    _replace(
        _env_py(project),
        "config = context.config\n",
        f"config = context.config\nfrom {package.name}.settings import settings\n"
        'config.set_main_option("sqlalchemy.url", settings.database_url)\n',
    )


def environment_variables(project: Project, sentinel: str) -> None:
    """The URL is put together from DB_ENGINE and POSTGRES_* style variables."""
    url = make_url(sentinel)
    _models_metadata(project)
    _replace(
        _env_py(project),
        "config = context.config\n",
        textwrap.dedent(
            f"""\
            config = context.config
            import os
            from sqlalchemy.engine import URL

            def database_url():
                return URL.create(
                    os.environ.get("SHAPE_DB_ENGINE", {url.drivername!r}),
                    username=os.environ.get("SHAPE_POSTGRES_USER", {url.username!r}),
                    host=os.environ.get("SHAPE_POSTGRES_SERVER", {url.host!r}),
                    port=int(os.environ.get("SHAPE_POSTGRES_PORT", 0)) or {url.port!r},
                    database=os.environ.get("SHAPE_POSTGRES_DB", {url.database!r}),
                )

            config.set_main_option(
                "sqlalchemy.url", database_url().render_as_string(hide_password=False)
            )
            """
        ),
    )


def multidb(project: Project, sentinel: str) -> None:
    _replace(
        _env_py(project),
        "target_metadata = {}",
        f"from {project.module} import Base\n"
        'target_metadata = {"engine1": Base.metadata, "engine2": None}',
    )
    _set_ini_url(project, sentinel, "engine1")
    _set_ini_url(project, sentinel, "engine2")


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("generic", "generic", generic, works=True),
        Shape("async", "async", async_engine, works=True, needs_async=True),
        Shape("include_object", "generic", include_object_and_prefix, works=True),
        Shape("metadata_list", "generic", metadata_list, works=True),
        Shape("named_sections", "generic", named_sections, works=True, options=("--name", "dev")),
        Shape("pyproject", "pyproject", pyproject_config, works=True),
        Shape("multidb", "multidb", multidb, works=False),
        Shape("settings_class", "generic", settings_class, works=False),
        Shape("environment_variables", "generic", environment_variables, works=False),
    )
}


def make_project(shape: Shape, root: Path, url: str, sentinel: str) -> Project:
    """A project of this shape in ``root``, aimed at ``url``, whose env.py would use ``sentinel``."""
    project = Project.create(root, url)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'directory = "alembic"\n')
    config = Config(str(root / "alembic.ini"))
    if shape.template == "pyproject":
        config = Config(str(root / "alembic.ini"), toml_file=str(pyproject))
    command.init(config, str(root / "alembic"), template=shape.template)
    shape.edit(project, sentinel)
    return project


def async_url(url: str) -> str:
    """The same database through the backend's async driver."""
    drivers = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = drivers.get(backend, "mysql+aiomysql")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def fill_sentinel(url: str) -> None:
    """Rows the sentinel keeps: a table of its own, and no revision recorded yet."""

    def fill(connection):  # type: ignore[no-untyped-def]
        connection.execute(text("CREATE TABLE sentinel_rows (id INTEGER PRIMARY KEY, note TEXT)"))
        connection.execute(
            text("INSERT INTO sentinel_rows (id, note) VALUES (1, 'keep me'), (2, 'and me')")
        )

    run_with_connection(make_url(url), fill)


@contextmanager
def sentinel_database(backend: str, folder: Path) -> Iterator[str]:
    """The database a project's env.py would pick by itself, with rows of its own; a file
    in ``folder`` on SQLite, a database of its own (dropped afterwards) on a server."""
    if backend == "sqlite":
        (folder / "sentinel").mkdir()
        url = f"sqlite:///{folder / 'sentinel' / 'sentinel.db'}"
        fill_sentinel(url)
        yield url
        return
    server = make_url(require_server(backend))
    dialect = for_url(server)
    created = dialect.create_database(server, dialect.scratch_name("sentinel"))
    try:
        url = created.render_as_string(hide_password=False)
        fill_sentinel(url)
        yield url
    finally:
        dialect.drop_database(created)


def sentinel_state(url: str) -> object:
    """Everything a wrong-database run could change: the file's bytes on SQLite; on a
    server, every table with its rows (the revision included)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return hashlib.sha256(Path(parsed.database or "").read_bytes()).hexdigest()

    def read(connection):  # type: ignore[no-untyped-def]
        state = {}
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            state[table] = sorted(tuple(str(v) for v in row) for row in rows)
        return state

    return run_with_connection(parsed, read)


def unique_name() -> str:
    return uuid.uuid4().hex[:8]

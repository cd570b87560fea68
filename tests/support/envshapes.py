"""Alembic projects as people write them, for the env.py-shapes matrix (tests/e2e/test_env_shapes.py).

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

from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection
from tests.support.backends import require_server
from tests.support.helpers import Project

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
    #: The URL env.py picks by itself is the one the verbs are given (not the sentinel).
    own_url_is_given: bool = False


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


def _after_config(project: Project, code: str) -> None:
    _replace(_env_py(project), "config = context.config\n", "config = context.config\n" + code)


def _ini_option(project: Project, line: str) -> None:
    ini = project.root / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", f"[alembic]\n{line}\n", 1))


def version_folders(project: Project, sentinel: str) -> None:
    """One versions folder per dialect, named by env.py (revision_environment = true); a
    decoy revision sits in a folder no dialect uses."""
    generic(project, sentinel)
    _ini_option(project, "revision_environment = true")
    _after_config(
        project,
        textwrap.dedent(
            """\
            import os
            from sqlalchemy.engine import make_url as _make_url

            _backend = _make_url(config.get_main_option("sqlalchemy.url")).get_backend_name()
            context.script.version_locations = [
                os.path.join(os.path.dirname(__file__), "versions", _backend)
            ]
            """
        ),
    )
    versions = project.root / "alembic" / "versions"
    for folder in ("sqlite", "postgresql", "mysql", "other"):
        (versions / folder).mkdir(parents=True)
    (versions / "other" / "dec0dec0dec0_decoy.py").write_text(
        'revision = "dec0dec0dec0"\ndown_revision = None\n\n\n'
        "def upgrade():\n    raise RuntimeError('the decoy ran')\n\n\n"
        "def downgrade():\n    pass\n"
    )


def _own_async_url(project: Project, url: str) -> None:
    """Alembic's async template whose env.py sets sqlalchemy.url itself (from the app's
    settings, unless something put one in config.attributes) and runs asyncio.run()."""
    _models_metadata(project)
    _after_config(
        project,
        f'config.set_main_option("sqlalchemy.url", config.attributes.get("sqlalchemy.url", '
        f"{url!r}))\n",
    )


def async_own_url(project: Project, sentinel: str) -> None:
    _own_async_url(project, sentinel)
    # As some projects do: asyncio.run()'s refusal rewrapped in a sentence of their own.
    _replace(
        _env_py(project),
        "    asyncio.run(run_async_migrations())",
        "    try:\n"
        "        asyncio.run(run_async_migrations())\n"
        "    except RuntimeError:\n"
        '        raise RuntimeError("run the migrations in a thread with no event loop")',
    )


def connect_statement(project: Project, sentinel: str) -> None:
    """env.py's engine runs a statement on every new connection (SQLite: journal_mode=WAL,
    which rewrites the file's header); env.py names its own database."""
    _models_metadata(project)
    _after_config(project, f"config.set_main_option('sqlalchemy.url', {sentinel!r})\n")
    statement = "PRAGMA journal_mode=WAL" if sentinel.startswith("sqlite") else "SELECT 1"
    _replace(
        _env_py(project),
        "    with connectable.connect() as connection:",
        "    from sqlalchemy import event\n\n"
        '    @event.listens_for(connectable, "connect")\n'
        "    def _on_connect(dbapi_connection, _record):\n"
        "        cursor = dbapi_connection.cursor()\n"
        f"        cursor.execute({statement!r})\n"
        "        cursor.close()\n\n"
        "    with connectable.connect() as connection:",
    )


def command_options(project: Project, sentinel: str) -> None:
    """env.py reads what Alembic's command line set (which command runs, -x, -n) and notes
    it in commands.log beside itself."""
    generic(project, sentinel)
    _after_config(
        project,
        textwrap.dedent(
            """\
            import os as _os

            _options = config.cmd_opts
            with open(_os.path.join(_os.path.dirname(__file__), "commands.log"), "a") as _log:
                _log.write(
                    f"{_options.cmd[0].__name__} name={_options.name} x={_options.x} "
                    f"raiseerr={_options.raiseerr} sql={getattr(_options, 'sql', None)} "
                    f"autogenerate={getattr(_options, 'autogenerate', None)}\\n"
                )
            """
        ),
    )


def anyio_worker(project: Project, sentinel: str) -> None:
    """env.py asks the event loop it expects to run under (anyio.from_thread), as code
    written for a worker thread of an async app does."""
    generic(project, sentinel)
    _after_config(
        project,
        textwrap.dedent(
            """\
            import anyio.from_thread


            async def _url_from_the_loop():
                return config.get_main_option("sqlalchemy.url")


            config.set_main_option("sqlalchemy.url", anyio.from_thread.run(_url_from_the_loop))
            """
        ),
    )


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
        Shape("version_folders", "generic", version_folders, works=True),
        Shape("async_own_url", "async", async_own_url, works=False, needs_async=True),
        Shape("connect_statement", "generic", connect_statement, works=False),
        Shape("command_options", "generic", command_options, works=True),
        Shape("anyio_worker", "generic", anyio_worker, works=True),
    )
}


#: The async template whose env.py names the given database itself: every verb on that
#: database works; those that need a scratch database (check, test) refuse, as env.py
#: cannot be pointed at one.
ASYNC_GIVEN_URL = Shape(
    "async_given_url", "async", async_own_url, works=True, needs_async=True, own_url_is_given=True
)


def make_project(shape: Shape, root: Path, url: str, sentinel: str) -> Project:
    """A project of this shape in ``root``, aimed at ``url``, whose env.py would use ``sentinel``."""
    project = Project.create(root, url)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'directory = "alembic"\n')
    config = Config(str(root / "alembic.ini"))
    if shape.template == "pyproject":
        config = Config(str(root / "alembic.ini"), toml_file=str(pyproject))
    command.init(config, str(root / "alembic"), template=shape.template)
    shape.edit(project, url if shape.own_url_is_given else sentinel)
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


#: How the state of each server sentinel is read: as an administrator, since the URL env.py
#: is given cannot connect at all (a database that accepts no connection, a locked account).
_READERS: dict[str, str] = {}


@contextmanager
def sentinel_database(backend: str, folder: Path) -> Iterator[str]:
    """The database a project's env.py would pick by itself, with rows of its own; a file
    in ``folder`` on SQLite, a database of its own (dropped afterwards) on a server.

    On a server nobody can connect to it through the URL yielded: PostgreSQL's database
    accepts no connection (ALLOW_CONNECTIONS false), MariaDB's user is locked. A verb that
    so much as opens a connection to it fails with the server's own error, not with our
    refusal: the refusal must come before any connection."""
    if backend == "sqlite":
        (folder / "sentinel").mkdir()
        url = f"sqlite:///{folder / 'sentinel' / 'sentinel.db'}"
        fill_sentinel(url)
        yield url
        return
    server = make_url(require_server(backend))
    dialect = for_url(server)
    created = dialect.create_database(server, dialect.scratch_name("sentinel"))
    name = created.database or ""
    admin = dialect.maintenance_url(server)
    user = f"fa_env_{unique_name()}"
    try:
        fill_sentinel(created.render_as_string(hide_password=False))
        if backend == "postgres":
            statements = [f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false']
            url = created
        else:
            statements = [
                f"CREATE USER '{user}'@'%' IDENTIFIED BY 'sentinel' ACCOUNT LOCK",
                f"GRANT ALL ON `{name}`.* TO '{user}'@'%'",
            ]
            url = created.set(username=user, password="sentinel")
        run_with_connection(admin, lambda c: [c.execute(text(sql)) for sql in statements])
        rendered = url.render_as_string(hide_password=False)
        _READERS[name] = created.render_as_string(hide_password=False)
        yield rendered
    finally:
        if backend == "postgres":
            run_with_connection(
                admin,
                lambda c: c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')),
                autocommit=True,
            )
        else:
            run_with_connection(
                admin, lambda c: c.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            )
        dialect.drop_database(created)


@contextmanager
def sentinel_reachable(url: str) -> Iterator[None]:
    """Connections to a server sentinel let in for a while: for a step that is meant to reach
    it (plain Alembic run as the project ran it before)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        yield
        return
    reader = make_url(_READERS.get(parsed.database or "") or url)  # the administrator's
    admin = for_url(reader).maintenance_url(reader)
    if parsed.get_backend_name() == "postgresql":
        opened, closed = (
            f'ALTER DATABASE "{parsed.database}" ALLOW_CONNECTIONS {on}' for on in ("true", "false")
        )
    else:
        opened, closed = (
            f"ALTER USER '{parsed.username}'@'%' ACCOUNT {on}" for on in ("UNLOCK", "LOCK")
        )
    run_with_connection(admin, lambda c: c.execute(text(opened)), autocommit=True)
    try:
        yield
    finally:
        run_with_connection(admin, lambda c: c.execute(text(closed)), autocommit=True)


def sentinel_state(url: str) -> object:
    """Everything a wrong-database run could change: the file's bytes and modification time
    on SQLite (and whether it exists); on a server, every table with its rows (the revision
    included), read as the administrator."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            return None
        return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    reader = make_url(_READERS.get(parsed.database or "") or url)
    admin = for_url(reader).maintenance_url(reader)
    name = reader.database or ""

    def read(connection):  # type: ignore[no-untyped-def]
        state = {}
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            state[table] = sorted(tuple(str(v) for v in row) for row in rows)
        return state

    if reader.get_backend_name() != "postgresql":
        return run_with_connection(reader, read)
    # Let the reader in for the time of the read only.
    toggle = 'ALTER DATABASE "{}" ALLOW_CONNECTIONS {}'
    run_with_connection(
        admin, lambda c: c.execute(text(toggle.format(name, "true"))), autocommit=True
    )
    try:
        return run_with_connection(reader, read)
    finally:
        run_with_connection(
            admin, lambda c: c.execute(text(toggle.format(name, "false"))), autocommit=True
        )


def unique_name() -> str:
    return uuid.uuid4().hex[:8]

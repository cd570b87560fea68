"""What every job works on: the settings, the database URL, the migrations folder, the
Alembic config made from them and the loaded migration files, as Alembic's commands receive a
``Config``. The facade (migrations.py) holds one; the jobs (jobs/) receive it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet

import fastapi_alembic.revisions as graph
from fastapi_alembic.alembic_cli import command_options
from fastapi_alembic.alembic_ini import alembic_toml_argument
from fastapi_alembic.config import Settings
from fastapi_alembic.database_pinning import PIN_KEY, DatabasePin, intercepting
from fastapi_alembic.env import MODELS_KEY
from fastapi_alembic.env_runs import env_py_may_move_versions
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.gate import head_check as gate
from fastapi_alembic.gate.scan import supports_options
from fastapi_alembic.migration_guards import SETTINGS_KEY
from fastapi_alembic.project import running_project_code
from fastapi_alembic.urls import anchored, mask_url, parse_url
from fastapi_alembic.version_folders import discovered_locations, require_revisions_found


class Workspace:
    """One project's migrations against one database: settings, URL, folder, Alembic config
    and the migration files, loaded once while they stay as they are."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The last loaded migration files and the folder's state then: reused while unchanged.
        self._loaded: tuple[object, ScriptDirectory] | None = None
        # The revision folders env.py names, once asked (version_folders.py).
        self._locations: tuple[list[str] | None] | None = None

    @property
    def url(self) -> URL:
        return self.settings.require_url()

    @property
    def directory(self) -> Path:
        return self.settings.directory

    def with_url(self, url: str | URL) -> Workspace:
        """The same project aimed at another database (its own loaded files)."""
        # A relative SQLite path is the project's, as for the URL the settings gave.
        settings = self.settings
        return Workspace(replace(settings, url=anchored(parse_url(url), settings.root)))

    def alembic_config(
        self, *, command: Sequence[str] = ("current",), models: bool = True, **hooks: Any
    ) -> Config:
        """An Alembic Config for this app: alembic.ini when there is one, our settings on top
        (see Migrations.alembic_config). ``models``: whether env.py hands Alembic the models
        (a job that does not compare them spares their import)."""
        settings = self.settings
        ini = settings.ini or settings.root / "alembic.ini"
        # Alembic's own chatter ("Generating ...") is replaced by our reports.
        config = Config(
            str(ini) if ini.is_file() else None,
            ini_section=settings.section,
            output_buffer=io.StringIO(),
            stdout=io.StringIO(),
            cmd_opts=command_options(command, ini if ini.is_file() else None, settings.section),
            **alembic_toml_argument(settings.root),
        )
        config.set_main_option("script_location", str(self.directory).replace("%", "%%"))
        if not config.get_main_option("path_separator"):
            config.set_main_option("path_separator", "os")
        config.attributes[SETTINGS_KEY] = settings
        config.attributes[MODELS_KEY] = models
        if settings.url is not None:
            # For an env.py that builds its engine from the ini, as `alembic init` writes it.
            real = settings.url.render_as_string(hide_password=False)
            config.set_main_option("sqlalchemy.url", real.replace("%", "%%"))
            config.attributes[PIN_KEY] = DatabasePin(
                settings.url,
                self.directory / "env.py",
                hooks,
                metadata=(lambda: settings.metadata) if models and settings.metadata_ref else None,
            )
        return config

    def environment_config(
        self, *, models: bool = True, command: Sequence[str] = ("current",), **hooks: Any
    ) -> Config:
        """An Alembic Config for running env.py, the models imported first when ``models``
        (see Migrations.environment_config)."""
        if models:
            self.check_models()
        return self.alembic_config(command=command, models=models, **hooks)

    def check_models(self, *, required: bool = True) -> None:
        """Import the models now (a wrong setting is its own sentence). When not
        ``required``: only if a metadata setting was given."""
        if required:
            self.settings.require_models()
        elif self.settings.metadata_ref:
            self.settings.metadata  # noqa: B018 - imported for its ConfigError

    def script_directory(
        self, config: Config | None = None, *, first: bool = False
    ) -> ScriptDirectory:
        """Every migration file loaded and checked, or one clear ScriptError; loaded again
        only when the folder changed (see Migrations.script_directory)."""
        config = config or self.alembic_config()
        moved = (self.directory / "env.py").is_file() and env_py_may_move_versions(
            config.get_main_option("revision_environment"), self.directory
        )
        ini = gate.alembic_ini_options(self.settings.root)
        state = None if moved else _folder_state(self.directory, ini)
        if state is not None and self._loaded is not None and self._loaded[0] == state:
            return graph.share(config, self._loaded[1])
        if moved and self._locations is None:  # what env.py names: asked once
            self._locations = (discovered_locations(config, self.running_env()),)
        locations = self._locations[0] if moved and self._locations else None
        script = graph.load_script_directory(config, self.directory, locations)
        if not first:  # ``first``: the job may write the first revision (make)
            require_revisions_found(script, self.directory)
        self._loaded = (state, script) if state is not None else None
        return script

    def remember_written(self, script: ScriptDirectory) -> None:
        """Alembic adds a revision it writes to the loaded map: the map is still the folder's."""
        state = _folder_state(self.directory, gate.alembic_ini_options(self.settings.root))
        self._loaded = (state, script) if state is not None else None

    @contextmanager
    def running_env(self) -> Iterator[None]:
        """Around every Alembic call that runs env.py: the database checked, the hooks added,
        the project importable, its stdout kept off ours."""
        try:
            with intercepting(), running_project_code(self.settings.root, self.settings.verbose):
                yield
        except InvalidRequestError as error:
            mismatch = _driver_mismatch(self, error)
            if mismatch is None:
                raise
            raise mismatch from None


def _driver_mismatch(workspace: Workspace, error: InvalidRequestError) -> ConfigError | None:
    """An env.py written for async drivers given a sync URL, or the reverse: SQLAlchemy
    raises these two from inside env.py, before anything ran."""
    env_py = workspace.directory / "env.py"
    url = mask_url(workspace.url)
    adopt = "or run `fastapi-alembic adopt` so that env.py uses the connection it is given"
    if isinstance(error, MissingGreenlet):
        return ConfigError(
            f"{env_py} connects with a sync engine, but {url} names an async driver: give the "
            f"URL of a sync one (for example postgresql+psycopg://, mysql+pymysql://, "
            f"sqlite://), {adopt}."
        )
    if "requires an async driver" in str(error):
        return ConfigError(
            f"{env_py} connects with an async engine, but {url} names a sync driver: give the "
            f"URL of an async one (for example postgresql+asyncpg://, mysql+aiomysql://, "
            f"sqlite+aiosqlite://), {adopt}."
        )
    return None


def _folder_state(directory: Path, alembic_options: dict[str, str | None]) -> object | None:
    """What changes when a revision file is added, removed or edited (None when revision files
    may live elsewhere too, so that only loading them again is safe)."""
    if not supports_options(alembic_options):
        return None
    try:
        entries = list(os.scandir(directory / "versions"))
        return frozenset((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries)
    except OSError:
        return None

"""Where settings come from: arguments, then the environment, then pyproject.toml (and for
the URL last, alembic.ini's sqlalchemy.url: see alembic_ini.py).

[tool.fastapi-alembic]
metadata = "app.models:Base"      # a MetaData, or a declarative Base that has one
directory = "migrations"          # default
url = "sqlite:///app.db"          # optional: DATABASE_URL or --url win over it; a relative
                                  # SQLite path is the project root's
lock_wait = 300                   # seconds to wait for another migrator (the migration lock)
lock_timeout = 5                  # seconds a statement waits for a table lock (0: no limit)
lock_retries = 3                  # tries again after a lock timeout, with growing pauses
lock_lease = 15                   # seconds a migrator's lock outlives its last renewal
ledger_table = "fastapi_alembic_ledger"   # default: the applied-migration ledger's table
test_database_prefix = "faa"      # default: starts the names of test and scratch databases
dialects = ["postgresql"]         # the backends the project runs on (lint); default: the URL's
lint-baseline = "3f2a9c1e7b55"    # `check` lints only the revisions after it (adopt writes it)
ini = "src/app/alembic.ini"       # the project's alembic.ini, when not in the root (adopt --ini)
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import URL

from fastapi_alembic.alembic_ini import (
    alembic_script_location,
    read_ini_url,
    script_location_folder,
)
from fastapi_alembic.database_names import DEFAULT_PREFIX, prefix_problem
from fastapi_alembic.dialects.registry import spellings
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.project import running_project_code
from fastapi_alembic.urls import anchored, mask_url, parse_url

TOOL_KEY = "fastapi-alembic"
URL_ENVIRONMENT_VARIABLE = "DATABASE_URL"
DEFAULT_DIRECTORY = "migrations"
DEFAULT_LEDGER_TABLE = "fastapi_alembic_ledger"
_KNOWN_KEYS = {
    "metadata",
    "directory",
    "url",
    "lint",
    "lock_wait",
    "lock_timeout",
    "lock_retries",
    "lock_lease",
    "ledger_table",
    "test_database_prefix",
    "dialects",
    "lint-baseline",
    "ini",
}
#: sub-tables, read by the part they configure: [tool.fastapi-alembic.lint] by lint/settings.py
_TABLE_KEYS = {"lint"}
#: Settings that are numbers (seconds or counts), with their defaults.
DEFAULT_LOCK_WAIT = 300.0
DEFAULT_LOCK_TIMEOUT = 5.0
DEFAULT_LOCK_RETRIES = 3
DEFAULT_LOCK_LEASE = 15.0
_NUMBER_KEYS = {"lock_wait", "lock_timeout", "lock_retries", "lock_lease"}


@dataclass
class Settings:
    """Resolved settings. ``metadata`` is loaded on first use, so commands that need no
    models (``heads``, ``history``) never import the application."""

    root: Path
    directory: Path
    url: URL | None = None
    metadata_ref: str | None = None
    pyproject: Path | None = None
    lint: dict[str, Any] = field(default_factory=dict)
    #: Seconds to wait for the migration lock another migrator holds, before giving up.
    lock_wait: float = DEFAULT_LOCK_WAIT
    #: Seconds a migration statement waits for a table lock before its transaction is retried.
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    #: How many times a migration that timed out on a table lock is tried again.
    lock_retries: int = DEFAULT_LOCK_RETRIES
    #: Seconds the migration lock on a server outlives its holder's last renewal: how long a
    #: killed migrator keeps the others waiting, and how long a paused one keeps its lock.
    lock_lease: float = DEFAULT_LOCK_LEASE
    #: The applied-migration ledger's table, beside the version table.
    ledger_table: str = DEFAULT_LEDGER_TABLE
    #: Starts the names of the databases made on a server for tests and checks
    #: (fastapi_alembic.database_names).
    test_database_prefix: str = DEFAULT_PREFIX
    #: The backends the project runs on, as configured (empty: the URL's, else all).
    dialects: tuple[str, ...] = ()
    #: The revision `check` lints after when it has no database (adopt writes the head).
    lint_baseline: str | None = None
    #: The alembic.ini section to read (``alembic -n NAME``; our ``--name``).
    section: str = "alembic"
    #: The project's alembic.ini when it is not the root's (``ini`` in pyproject, ``--ini``).
    ini: Path | None = None
    #: Where the URL was looked for, for the sentence when there is none.
    url_searched: str = ""
    #: Whether INFO messages (Alembic's "Running upgrade ...", an env.py's own) are shown
    #: while a job runs: the CLI says False unless -v; None leaves logging as the app set it.
    verbose: bool | None = None
    _metadata: MetaData | None = field(default=None, repr=False)

    @property
    def metadata(self) -> MetaData:
        if self._metadata is None:
            if not self.metadata_ref:
                raise ConfigError(
                    'No models are configured: set metadata = "yourapp.models:Base" under '
                    f"[tool.{TOOL_KEY}] in pyproject.toml, or pass --metadata."
                )
            self._metadata = import_metadata(self.metadata_ref, self.root)
        return self._metadata

    def require_models(self) -> None:
        """Import the models now, so a wrong setting is its own sentence before any work.
        An adopted env.py that passes run_migrations its own target_metadata (a list, say)
        needs no setting."""
        if self.metadata_ref is None and self._metadata is None and self.env_names_models:
            return
        self.metadata  # noqa: B018 - imported for its ConfigError

    @property
    def env_names_models(self) -> bool:
        """Whether env.py gives run_migrations a target_metadata of its own."""
        try:
            text = (self.directory / "env.py").read_text(encoding="utf-8")
        except OSError:
            return False
        # Our run_migrations(...) call itself (not Alembic's context.run_migrations()),
        # naming target_metadata inside its own parentheses.
        call = r"(?<![\w.])run_migrations\((?:[^()]|\([^()]*\))*?\btarget_metadata\s*="
        return re.search(call, text) is not None

    def require_url(self) -> URL:
        if self.url is None:
            searched = self.url_searched or f"--url, {URL_ENVIRONMENT_VARIABLE}"
            raise ConfigError(
                f"No database URL is set: looked in {searched}; export "
                f"{URL_ENVIRONMENT_VARIABLE}, pass --url, or set url under [tool.{TOOL_KEY}] in "
                "pyproject.toml."
            )
        return self.url

    @property
    def masked_url(self) -> str:
        return mask_url(self.url) if self.url is not None else "(no URL)"


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    return _find_file(start, "pyproject.toml")


def _find_file(start: Path, name: str) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def read_tool_table(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{pyproject} is not valid TOML: {str(error).rstrip('.')}.") from None
    except OSError as error:
        raise ConfigError(f"Cannot read {pyproject}: {error.strerror}.") from None
    table = data.get("tool", {}).get(TOOL_KEY, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.{TOOL_KEY}] in {pyproject} must be a table.")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"Unknown setting {unknown[0]!r} under [tool.{TOOL_KEY}] in {pyproject}: "
            f"the settings are {', '.join(sorted(_KNOWN_KEYS))}."
        )
    for key, value in table.items():
        if key in _TABLE_KEYS:
            if not isinstance(value, dict):
                raise ConfigError(f"[tool.{TOOL_KEY}.{key}] in {pyproject} must be a table.")
            continue
        if key in _NUMBER_KEYS:
            check_number(key, value, f"under [tool.{TOOL_KEY}] in {pyproject}")
        elif key == "dialects":
            check_dialects(value, f"under [tool.{TOOL_KEY}] in {pyproject}")
        elif not isinstance(value, str):
            raise ConfigError(f"{key} under [tool.{TOOL_KEY}] in {pyproject} must be a string.")
        elif key == "test_database_prefix":
            problem = prefix_problem(value, f"test_database_prefix in {pyproject}")
            if problem is not None:
                raise ConfigError(problem)
    return table


def check_dialects(value: Any, where: str) -> tuple[str, ...]:
    """``dialects``: a non-empty list of the backends lint knows."""
    known = spellings()  # the backends' names (MariaDB is linted as MySQL)
    names = ", ".join(known)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'dialects {where} must be a list of backends, e.g. ["postgresql"].')
    for name in value:
        if name.lower() not in known:
            raise ConfigError(f"dialects {where} names {name!r}: the backends are {names}.")
    return tuple(v.lower() for v in value)


def check_number(key: str, value: Any, where: str) -> float:
    """A seconds or count setting: a number, zero or more (whole for lock_retries)."""
    whole = key == "lock_retries"
    valid = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if not valid or (whole and not float(value).is_integer()):
        kind = "a whole number" if whole else "a number of seconds"
        raise ConfigError(f"{key} {where} must be {kind}, zero or more (got {value!r}).")
    return float(value)


def load_settings(
    *,
    url: str | URL | None = None,
    metadata: MetaData | Any | None = None,
    metadata_ref: str | None = None,
    directory: str | Path | None = None,
    config_path: str | Path | None = None,
    root: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    lock_wait: float | None = None,
    lock_timeout: float | None = None,
    lock_retries: int | None = None,
    section: str | None = None,
    alembic_ini: Path | None = None,
) -> Settings:
    """Merge the sources in order: arguments > environment > pyproject.toml > alembic.ini.

    The project root is ``root``, else the folder of the pyproject.toml in use, else of the
    nearest alembic.ini, else the current folder: relative paths (the migrations folder, a
    SQLite file) are taken from there. ``alembic_ini`` is the ini file plain ``alembic`` was
    given (default: the root's alembic.ini)."""
    environ = os.environ if environ is None else environ
    start = Path(root).resolve() if root else Path.cwd()
    pyproject: Path | None
    if config_path is not None:
        pyproject = Path(config_path).resolve()
        if not pyproject.is_file():
            raise ConfigError(f"The config file {config_path} does not exist.")
    else:
        pyproject = find_pyproject(start)
    # Fully specified in code: no file is read (the root is still the project's folder).
    specified = config_path is None and all(v is not None for v in (metadata, url, directory))
    table = read_tool_table(pyproject) if pyproject and not specified else {}
    if root:
        project_root = start
    elif pyproject is not None:
        project_root = pyproject.parent
    else:
        ini_found = _find_file(start, "alembic.ini")
        project_root = ini_found.parent if ini_found else start
    section = section or "alembic"
    # alembic.ini elsewhere than the root (a package folder): given, or named in pyproject
    ini = alembic_ini or (project_root / table["ini"] if table.get("ini") else None)

    raw_url = url or environ.get(URL_ENVIRONMENT_VARIABLE) or table.get("url")
    searched = ""
    if not raw_url:
        from_ini = read_ini_url(ini or project_root / "alembic.ini", section)
        raw_url = from_ini.url
        where = f"in {pyproject}" if pyproject else f"(no pyproject.toml at or above {start})"
        searched = (
            f"--url (alembic -x url=...), the {URL_ENVIRONMENT_VARIABLE} environment variable, "
            f"url under [tool.{TOOL_KEY}] {where}, and {from_ini.missing}"
        )
    location = alembic_script_location(project_root, section, ini)
    ini_folder = script_location_folder(location, project_root) if location else None
    if section != "alembic" and ini_folder is not None:
        # --name picks a tree (alembic -n NAME): its folder wins over pyproject's directory
        folder = Path(directory or ini_folder)
    else:
        folder = Path(directory or table.get("directory") or ini_folder or DEFAULT_DIRECTORY)
    settings = Settings(
        root=project_root,
        directory=folder if folder.is_absolute() else project_root / folder,
        url=anchored(parse_url(raw_url), project_root) if raw_url else None,
        url_searched=searched,
        metadata_ref=metadata_ref or table.get("metadata"),
        pyproject=None if specified else pyproject,
        lint=dict(table.get("lint", {})),
        lock_wait=_number("lock_wait", lock_wait, table, DEFAULT_LOCK_WAIT),
        lock_timeout=_number("lock_timeout", lock_timeout, table, DEFAULT_LOCK_TIMEOUT),
        lock_retries=int(_number("lock_retries", lock_retries, table, DEFAULT_LOCK_RETRIES)),
        lock_lease=max(1.0, _number("lock_lease", None, table, DEFAULT_LOCK_LEASE)),
        ledger_table=table.get("ledger_table") or DEFAULT_LEDGER_TABLE,
        test_database_prefix=table.get("test_database_prefix") or DEFAULT_PREFIX,
        dialects=tuple(v.lower() for v in table.get("dialects", ())),
        lint_baseline=table.get("lint-baseline") or None,
        section=section,
        ini=ini,
    )
    if metadata is not None:
        settings._metadata = as_metadata(metadata, "the metadata argument")
    return settings


def _number(key: str, given: float | None, table: dict[str, Any], default: float) -> float:
    if given is not None:
        return check_number(key, given, "given")
    return float(table.get(key, default))


def as_metadata(candidate: Any, described_as: str) -> MetaData:
    if isinstance(candidate, MetaData):
        return candidate
    inner = getattr(candidate, "metadata", None)
    if isinstance(inner, MetaData):
        return inner
    raise ConfigError(
        f"{described_as} is a {type(candidate).__name__}, not a SQLAlchemy MetaData or a "
        "declarative Base: point it at Base or Base.metadata."
    )


def import_metadata(reference: str, root: Path) -> MetaData:
    """Import ``module:attribute.path`` with the project root importable."""
    module_name, _, attribute_path = reference.partition(":")
    if not module_name or not attribute_path:
        raise ConfigError(
            f'metadata = {reference!r} is not of the form "module:attribute", '
            'for example "app.models:Base".'
        )
    root_entry = str(root)
    if root_entry not in sys.path:
        sys.path.insert(0, root_entry)
    try:
        # What the app prints or logs to stdout at import goes to stderr (--json stays clean).
        with running_project_code(root):
            target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ConfigError(
            f"Cannot import {module_name!r} for metadata = {reference!r}: {error}. "
            f"Run from the project root ({root}) or fix the setting."
        ) from None
    except SystemExit as error:  # not a way to end our command, and never silently
        raise ConfigError(
            f"Importing {module_name!r} for metadata = {reference!r} called sys.exit({error.code!r}): "
            "models must import without exiting; move that call under `if __name__ == "
            '"__main__":`.'
        ) from None
    except Exception as error:  # the app's own import failed: say where
        raise ConfigError(
            f"Importing {module_name!r} for metadata = {reference!r} failed with "
            f"{type(error).__name__}: {error}."
        ) from None
    for part in attribute_path.split("."):
        if not hasattr(target, part):
            raise ConfigError(
                f"{module_name!r} has no attribute {attribute_path!r} (metadata = {reference!r})."
            )
        target = getattr(target, part)
    return as_metadata(target, f"metadata = {reference!r}")

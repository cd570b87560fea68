"""The database URL in a project's own alembic.ini: Alembic's ``sqlalchemy.url``.

It is the last place FastAPI-Alembic looks, after ``--url``, ``DATABASE_URL`` and
``[tool.fastapi-alembic]``, so a project that already keeps its URL there works as plain
``alembic`` does. The value is read as Alembic reads it: from the section ``--name`` picks,
with ``%(here)s`` standing for the file's folder. The URL ``alembic init`` writes,
``driver://user:pass@localhost/dbname``, is a placeholder and is ignored.

Also where the project's Alembic configuration puts the migrations folder (script_location,
a path or a package resource), and [tool.alembic] in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import tomllib
from configparser import ConfigParser, InterpolationError
from configparser import Error as ConfigParserError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_alembic.errors import ConfigError

#: What ``alembic init`` writes as sqlalchemy.url: not a database.
ALEMBIC_PLACEHOLDER = "driver://user:pass@localhost/dbname"


@dataclass(frozen=True)
class IniUrl:
    """What one alembic.ini says about the database URL."""

    ini: Path
    section: str
    #: The URL to use; None when the file, the section or the option is missing, or holds
    #: Alembic's placeholder.
    url: str | None = None
    #: Why there is no URL, for the "no URL" sentence: where it was looked for.
    missing: str = ""


def read_ini_url(ini: Path, section: str) -> IniUrl:
    """``sqlalchemy.url`` from section ``section`` of ``ini``, interpolated as Alembic does."""
    where = f"sqlalchemy.url in {ini} [{section}]"
    if not ini.is_file():
        return IniUrl(ini, section, missing=f"sqlalchemy.url in alembic.ini (there is no {ini})")
    parser = ConfigParser(defaults={"here": str(ini.parent), "__file__": str(ini)})
    try:
        parser.read(ini, encoding="utf-8")
    except (ConfigParserError, OSError, UnicodeDecodeError):
        return IniUrl(ini, section, missing=f"{where} (the file cannot be read)")
    if not parser.has_option(section, "sqlalchemy.url"):
        return IniUrl(ini, section, missing=f"{where} (not set)")
    try:
        value = parser.get(section, "sqlalchemy.url").strip()
    except InterpolationError as error:
        raise ConfigError(
            # Without the raw value Python's message ends with: it may hold a password.
            f"{where} cannot be read: {str(error).split('. Raw value')[0].rstrip('.')}; write "
            "%% for a literal percent sign."
        ) from None
    if value == ALEMBIC_PLACEHOLDER:
        return IniUrl(
            ini,
            section,
            missing=f"{where} (Alembic's placeholder {ALEMBIC_PLACEHOLDER}, which is ignored)",
        )
    if not value:
        return IniUrl(ini, section, missing=f"{where} (empty)")
    return IniUrl(ini, section, url=value)


def alembic_toml_argument(root: Path) -> dict[str, Any]:
    """``toml_file=`` for Alembic's Config when pyproject.toml has a [tool.alembic] table
    (read by Alembic 1.16 and later; older versions have no such argument)."""
    pyproject = root / "pyproject.toml"
    if _alembic_toml_table(pyproject) is None:
        return {}
    from alembic.config import Config

    if "toml_file" not in inspect.signature(Config).parameters:
        raise ConfigError(
            f"{pyproject} configures Alembic under [tool.alembic], which needs Alembic 1.16 "
            "or later: upgrade Alembic, or move the settings to alembic.ini."
        )
    return {"toml_file": str(pyproject)}


def _alembic_toml_table(pyproject: Path) -> dict[str, Any] | None:
    if not pyproject.is_file():
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError):
        return None  # read_tool_table says what is wrong with it
    table = data.get("tool", {}).get("alembic")
    return table if isinstance(table, dict) else None


def alembic_script_location(root: Path, section: str, ini: Path | None = None) -> str | None:
    """Where the project's own Alembic configuration puts the migrations folder, if it says:
    alembic.ini's section (``ini``, else the root's), then [tool.alembic] in pyproject.toml."""
    here = root.as_posix()
    ini = ini or root / "alembic.ini"
    if ini.is_file():
        parser = ConfigParser(defaults={"here": ini.parent.as_posix()})
        try:
            parser.read(ini, encoding="utf-8")
            if parser.has_option(section, "script_location"):
                return parser.get(section, "script_location")
        except (ConfigParserError, UnicodeDecodeError):
            return None  # Alembic reports a broken alembic.ini when it reads it
    table = _alembic_toml_table(root / "pyproject.toml") or {}
    location = table.get("script_location")
    if isinstance(location, str):
        return location.replace("%(here)s", here)
    return None


def script_location_folder(location: str, root: Path) -> Path:
    """The folder a script_location names, as Alembic finds it: a path (relative ones from
    the project root, where ``alembic`` runs), or a package resource ``pkg:db:migrations``
    (``pkg:db/migrations``), found without importing the package."""
    if os.path.isabs(location) or ":" not in location:
        path = Path(location)
        return path if path.is_absolute() else root / path
    package, *parts = location.split(":")
    names = package.split(".")
    for base in (root / "src", root):
        if base.joinpath(*names).is_dir():
            return base.joinpath(*names, *parts)
    try:
        spec = importlib.util.find_spec(names[0])
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).joinpath(*names[1:], *parts)
    return root.joinpath(*names, *parts)

"""Where an existing Alembic project keeps its migrations folder: our settings, alembic.ini
(at the root, or where ``--ini`` or ``ini`` in [tool.fastapi-alembic] points, such as a package
folder), the section ``--name`` picks, or [tool.alembic]."""

from __future__ import annotations

import configparser
from pathlib import Path

from fastapi_alembic.config import Settings, alembic_script_location
from fastapi_alembic.errors import ConfigError


def find_migrations_folder(settings: Settings) -> Path:
    """The folder holding the project's env.py: ours, then where the project's Alembic
    configuration puts it (alembic.ini's section ``--name`` picks, then [tool.alembic])."""
    if (settings.directory / "env.py").is_file():
        return settings.directory
    root = settings.root
    location = alembic_script_location(root, settings.section)
    if location:
        folder = Path(location)
        folder = folder if folder.is_absolute() else root / folder
        if (folder / "env.py").is_file():
            return folder.resolve()
    others = _other_ini_sections(root / "alembic.ini", settings.section)
    if others:
        listed = ", ".join(f"[{name}]" for name in others)
        raise ConfigError(
            f"{root / 'alembic.ini'} has no [{settings.section}] section with a script_location "
            f"(it has {listed}): pass the one `alembic -n NAME` uses, as "
            f"`fastapi-alembic --name {others[0]} adopt`."
        )
    raise ConfigError(
        f"There is no Alembic env.py in {settings.directory} nor where alembic.ini points: "
        "pass --directory, or run `fastapi-alembic init` for a new project."
    )


def _other_ini_sections(ini: Path, section: str) -> list[str]:
    """alembic.ini's other sections with a script_location (``alembic -n NAME`` projects)."""
    if not ini.is_file():
        return []
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    return [
        name
        for name in parser.sections()
        if name != section and parser.has_option(name, "script_location")
    ]

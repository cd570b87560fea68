"""Where an existing Alembic project keeps its migrations folder: our settings, alembic.ini
(at the root, or where ``--ini`` or ``ini`` in [tool.fastapi-alembic] points, such as a package
folder), the section ``--name`` picks, or [tool.alembic]."""

from __future__ import annotations

import configparser
from pathlib import Path

from fastapi_alembic.alembic_ini import alembic_script_location, script_location_folder
from fastapi_alembic.config import Settings
from fastapi_alembic.errors import ConfigError


def find_migrations_folder(settings: Settings) -> Path:
    """The folder holding the project's env.py: the tree ``--name`` picks in alembic.ini, ours,
    then where the project's Alembic configuration puts it (alembic.ini, then [tool.alembic])."""
    root = settings.root
    ini = settings.ini or root / "alembic.ini"
    if settings.ini is not None and not ini.is_file():
        raise ConfigError(f"There is no {ini}: pass --ini the path of the project's alembic.ini.")
    location = alembic_script_location(root, settings.section, ini)
    from_ini = script_location_folder(location, root) if location else None
    named = from_ini is not None and settings.section != "alembic"
    if not named and (settings.directory / "env.py").is_file():
        return settings.directory
    if from_ini is not None and (from_ini / "env.py").is_file():
        return from_ini.resolve()
    others = _other_ini_sections(ini, settings.section)
    if others:
        listed = ", ".join(f"[{name}]" for name in others)
        raise ConfigError(
            f"{ini} has no [{settings.section}] section with a script_location "
            f"(it has {listed}): pass the one `alembic -n NAME` uses, as "
            f"`fastapi-alembic --name {others[0]} adopt`."
        )
    if from_ini is not None:
        raise ConfigError(
            f"{ini} [{settings.section}] puts the migrations in {location}, but there is no "
            f"env.py in {from_ini}: fix script_location, or pass --directory."
        )
    elsewhere = _inis_below(root) if settings.ini is None else []
    if elsewhere:
        found = elsewhere[0].relative_to(root).as_posix()
        raise ConfigError(
            f"There is no Alembic env.py in {settings.directory} and no alembic.ini in {root}, "
            f'but there is {found}: pass `--ini {found}` (or `ini = "{found}"` under '
            "[tool.fastapi-alembic])."
        )
    raise ConfigError(
        f"There is no Alembic env.py in {settings.directory} nor where alembic.ini points: "
        "pass --directory or --ini, or run `fastapi-alembic init` for a new project."
    )


def _inis_below(root: Path) -> list[Path]:
    """alembic.ini files in the project's folders (a package's), three levels down at most,
    outside virtual environments and hidden folders."""
    found: list[Path] = []
    for depth in ("*/alembic.ini", "*/*/alembic.ini", "*/*/*/alembic.ini"):
        for path in sorted(root.glob(depth)):
            parts = path.relative_to(root).parts[:-1]
            if not any(
                p.startswith(".") or p in ("node_modules", "venv", "site-packages") for p in parts
            ):
                found.append(path)
    return found


def is_one_of_several_trees(settings: Settings, folder: Path) -> bool:
    """Whether ``--name`` picks one tree among several: another section of alembic.ini puts
    its migrations in another folder (sections for environments share one folder)."""
    if settings.section == "alembic":
        return False
    ini = settings.ini or settings.root / "alembic.ini"
    for section in _other_ini_sections(ini, settings.section):
        location = alembic_script_location(settings.root, section, ini)
        if location and script_location_folder(location, settings.root).resolve() != folder:
            return True
    return False


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

"""The database URL in a project's own alembic.ini: Alembic's ``sqlalchemy.url``.

It is the last place FastAPI-Alembic looks, after ``--url``, ``DATABASE_URL`` and
``[tool.fastapi-alembic]``, so a project that already keeps its URL there works as plain
``alembic`` does. The value is read as Alembic reads it: from the section ``--name`` picks,
with ``%(here)s`` standing for the file's folder. The URL ``alembic init`` writes,
``driver://user:pass@localhost/dbname``, is a placeholder and is ignored.
"""

from __future__ import annotations

from configparser import ConfigParser, InterpolationError
from configparser import Error as ConfigParserError
from dataclasses import dataclass
from pathlib import Path

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

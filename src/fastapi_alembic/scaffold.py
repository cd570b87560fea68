"""What `init` writes: the migrations folder, alembic.ini, and the pyproject settings."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi_alembic.config import TOOL_KEY, Settings, read_tool_table
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.project_files import (
    is_sqlmodel_metadata,
    script_template,
    template,
    with_settings,
    write_file,
)


def write_environment(settings: Settings, *, force: bool = False) -> list[Path]:
    """Write env.py, script.py.mako, versions/ and alembic.ini; never touch existing revisions."""
    directory = settings.directory
    ini = settings.root / "alembic.ini"
    existing = [p for p in (directory / "env.py", ini) if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} already exists: pass --force to rewrite env.py, script.py.mako and "
            "alembic.ini (the revisions in versions/ are kept)."
        )
    # Import the models now: a wrong setting fails before anything is written.
    sqlmodel = is_sqlmodel_metadata(settings.metadata)
    blocking = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ConfigError(
            f"The migrations directory {directory} cannot be made: {blocking} is a file. "
            "Set directory (--directory or under [tool.fastapi-alembic]) to a folder."
        )
    relative = os.path.relpath(directory, settings.root)
    written = [
        write_file(directory / "env.py", template("env.py.tmpl")),
        write_file(directory / "script.py.mako", script_template(sqlmodel=sqlmodel)),
        write_file(directory / "README", template("README.tmpl")),
        write_file(ini, template("alembic.ini.tmpl").replace("{directory}", relative)),
    ]
    (directory / "versions").mkdir(parents=True, exist_ok=True)
    keep = directory / "versions" / ".gitkeep"
    if not any((directory / "versions").iterdir()):
        keep.touch()
    # Models given as an object (Python API) have no "module:attribute" to record.
    pyproject = record_settings(settings, relative) if settings.metadata_ref else None
    if pyproject is not None:
        written.append(pyproject)
    return written


def record_settings(settings: Settings, directory: str) -> Path | None:
    """Add [tool.fastapi-alembic] to pyproject.toml (made if missing) unless it is there."""
    pyproject = settings.pyproject or settings.root / "pyproject.toml"
    exists = pyproject.is_file()
    table = read_tool_table(pyproject) if exists else {}
    if table.get("metadata") not in (None, settings.metadata_ref):
        raise ConfigError(
            f"{pyproject} names metadata = {table['metadata']!r}, not "
            f"{settings.metadata_ref!r}: edit [tool.{TOOL_KEY}] there."
        )
    if "metadata" in table:
        return None
    wanted = {"metadata": str(settings.metadata_ref)}
    # A table already there gets only the models; a new one also names a folder other than
    # the default.
    if not table and directory != "migrations":
        wanted["directory"] = directory
    before = pyproject.read_text(encoding="utf-8") if exists else None
    return write_file(pyproject, with_settings(before, wanted))

"""What `init` writes: the migrations folder, alembic.ini, and the pyproject settings."""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path

from sqlalchemy import MetaData

from fastapi_alembic.config import TOOL_KEY, Settings, read_tool_table
from fastapi_alembic.errors import ConfigError


def _template(name: str) -> str:
    return files("fastapi_alembic.templates").joinpath(name).read_text(encoding="utf-8")


def script_template(*, sqlmodel: bool) -> str:
    """Our script.py.mako; a SQLModel app's revisions also need ``import sqlmodel``."""
    text = _template("script.py.mako")
    if not sqlmodel:
        return text
    from fastapi_alembic.adoption.plan import add_sqlmodel_import

    return add_sqlmodel_import(text)


def is_sqlmodel_metadata(metadata: MetaData) -> bool:
    """Whether ``metadata`` is SQLModel's (sqlmodel is imported only if the app did)."""
    sqlmodel = sys.modules.get("sqlmodel")
    return sqlmodel is not None and metadata is getattr(sqlmodel.SQLModel, "metadata", None)


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
        _write(directory / "env.py", _template("env.py.tmpl")),
        _write(directory / "script.py.mako", script_template(sqlmodel=sqlmodel)),
        _write(directory / "README", _template("README.tmpl")),
        _write(ini, _template("alembic.ini.tmpl").replace("{directory}", relative)),
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


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot write {path}: {error.strerror or error}.") from None
    return path


def record_settings(settings: Settings, directory: str) -> Path | None:
    """Add [tool.fastapi-alembic] to pyproject.toml (made if missing) unless it is there."""
    pyproject = settings.pyproject or settings.root / "pyproject.toml"
    lines = [f'metadata = "{settings.metadata_ref}"']
    if directory != "migrations":
        lines.append(f'directory = "{directory}"')
    if pyproject.is_file():
        table = read_tool_table(pyproject)
        if table:
            if table.get("metadata") not in (None, settings.metadata_ref):
                raise ConfigError(
                    f"{pyproject} names metadata = {table['metadata']!r}, not "
                    f"{settings.metadata_ref!r}: edit [tool.{TOOL_KEY}] there."
                )
            if "metadata" in table:
                return None
            text = pyproject.read_text(encoding="utf-8")
            header = f"[tool.{TOOL_KEY}]"
            pyproject.write_text(
                text.replace(header, header + "\n" + lines[0], 1), encoding="utf-8"
            )
            return pyproject
        text = pyproject.read_text(encoding="utf-8").rstrip("\n")
        pyproject.write_text(
            f"{text}\n\n[tool.{TOOL_KEY}]\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        return pyproject
    pyproject.write_text(f"[tool.{TOOL_KEY}]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return pyproject

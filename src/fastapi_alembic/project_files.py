"""What `init` and `adopt` both write into a project: our templates (script.py.mako with
``import sqlmodel`` for a SQLModel app) and the settings under [tool.fastapi-alembic] in
pyproject.toml. Neither verb writes these files in a way of its own."""

from __future__ import annotations

import re
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi_alembic.config import TOOL_KEY
from fastapi_alembic.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import MetaData

#: The settings table's header line (spaces may surround it, a comment follow it).
_HEADER = re.compile(
    rf"^[ \t]*\[tool\.{re.escape(TOOL_KEY)}\][ \t]*(#[^\r\n]*)?\r?\n?", re.MULTILINE
)


def template(name: str) -> str:
    """One of our templates (fastapi_alembic/templates/), as text."""
    return files("fastapi_alembic.templates").joinpath(name).read_text(encoding="utf-8")


def is_sqlmodel_metadata(metadata: MetaData) -> bool:
    """Whether ``metadata`` is SQLModel's (sqlmodel is imported only if the app did)."""
    sqlmodel = sys.modules.get("sqlmodel")
    return sqlmodel is not None and metadata is getattr(sqlmodel.SQLModel, "metadata", None)


def script_template(*, sqlmodel: bool) -> str:
    """Our script.py.mako; a SQLModel app's revisions also need ``import sqlmodel``."""
    text = template("script.py.mako")
    return add_sqlmodel_import(text) if sqlmodel else text


def add_sqlmodel_import(text: str) -> str:
    """``import sqlmodel`` after the template's ``import sqlalchemy as sa`` (or its first
    import): autogenerate writes ``sqlmodel.sql.sqltypes.AutoString()`` for str fields."""
    lines = text.splitlines(keepends=True)
    anchor = next(
        (i for i, line in enumerate(lines) if line.startswith("import sqlalchemy")),
        next((i for i, line in enumerate(lines) if re.match(r"(import|from) ", line)), None),
    )
    if anchor is None:
        return "import sqlmodel\n" + text
    lines.insert(anchor + 1, "import sqlmodel\n")
    return "".join(lines)


def with_settings(pyproject: str | None, settings: dict[str, str]) -> str:
    """pyproject.toml's text (None: there is no file yet) with ``settings`` added at the top of
    [tool.fastapi-alembic], or in that table made at the end when the file has none."""
    lines = "".join(f'{key} = "{value}"\n' for key, value in settings.items())
    text = pyproject or ""
    header = _HEADER.search(text)
    if header is not None:
        line = header.group(0)
        end = header.end() if line.endswith("\n") else len(text)
        joint = "" if line.endswith("\n") else "\n"  # the header ends the file
        return text[:end] + joint + lines + text[end:]
    start = text.rstrip("\n") + "\n\n" if text.strip() else ""
    return f"{start}[tool.{TOOL_KEY}]\n{lines}"


def write_file(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (its folders made), or say in one sentence why it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Cannot write {path}: {error.strerror or error}.") from None
    return path

"""What `adopt` changes in an existing Alembic project, shown as a diff before anything is
written: env.py (the old one kept as a backup), script.py.mako, and [tool.fastapi-alembic]."""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from fastapi_alembic.adoption.envpy import CannotAdopt, EnvReading, iter_statements, read_env
from fastapi_alembic.adoption.locating import find_migrations_folder, is_one_of_several_trees
from fastapi_alembic.adoption.rendering import render_env
from fastapi_alembic.config import (
    DEFAULT_DIRECTORY,
    TOOL_KEY,
    Settings,
    import_metadata,
)
from fastapi_alembic.errors import ConfigError
from fastapi_alembic.project_files import (
    add_sqlmodel_import,
    is_sqlmodel_metadata,
    script_template,
    with_settings,
    write_file,
)


@dataclass(frozen=True)
class FileChange:
    """One file adopt writes: its text before (None: a new file) and after."""

    path: Path
    before: str | None
    after: str
    shown: bool = True  # the backup, a copy of the old env.py, is not worth a diff

    def diff(self, root: Path) -> str:
        name = os.path.relpath(self.path, root)
        lines = difflib.unified_diff(
            (self.before or "").splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile="/dev/null" if self.before is None else f"a/{name}",
            tofile=f"b/{name}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass
class AdoptionPlan:
    """Everything adopt would write, and what it wants the user to know."""

    root: Path
    directory: Path
    changes: list[FileChange] = field(default_factory=list)
    backup: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def diff(self) -> str:
        return "".join(change.diff(self.root) for change in self.changes if change.shown)

    def write(self) -> list[Path]:
        """Write the backup first, then the rest; an existing backup is never overwritten."""
        written: list[Path] = []
        for change in self.changes:
            if change.before is None and change.path.exists():
                raise ConfigError(
                    f"{change.path} appeared while adopt was running: run adopt again."
                )
            written.append(write_file(change.path, change.after))
        return written

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "directory": str(self.directory),
            "backup": str(self.backup) if self.backup else None,
            "files": [str(c.path) for c in self.changes],
            "diff": self.diff(),
            "notes": self.notes,
        }


def plan_adoption(settings: Settings, heads: tuple[str, ...] = ()) -> AdoptionPlan:
    """What adopting the project at ``settings.root`` would change; writes nothing. With one
    head, it is written as ``lint-baseline``: `check` then lints only what comes after."""
    root = settings.root
    directory = find_migrations_folder(settings)
    env_path = directory / "env.py"
    plan = AdoptionPlan(root, directory)
    reading = read_env(env_path)
    table = _tool_table(settings.pyproject)
    # One tree of several (alembic -n NAME): its models stay in its env.py, and pyproject's
    # settings, shared by every tree, are not made its own.
    tree = is_one_of_several_trees(settings, directory)
    if tree and reading.metadata is not None:
        reference = None
    else:
        reference = settings.metadata_ref or _working_reference(reading, root, plan.notes)
    in_call = reading.metadata is not None
    if reference is not None and in_call and reference in reading.metadata_references:
        in_call = False  # [tool.fastapi-alembic] names the same models
    if not reading.wired and not in_call:
        reading = read_env(env_path, with_metadata=False)
    if reference is None and not in_call and not reading.wired:
        raise CannotAdopt(
            f"{env_path} gives Alembic no models (target_metadata is None) and "
            f"[tool.{TOOL_KEY}] names none: pass --metadata module:Base (your declarative Base "
            "or MetaData)."
        )
    metadata = import_metadata(reference, root) if reference else None
    if not reading.wired:
        plan.backup = _free_backup(env_path)
        plan.changes.append(FileChange(plan.backup, None, reading.source, shown=False))
        plan.notes.append(
            f"the old env.py is kept as {os.path.relpath(plan.backup, root)} (a copy, unchanged)"
        )
        plan.changes.append(
            FileChange(env_path, reading.source, render_env(reading, plan.backup.name, in_call))
        )
        _note_url(plan, reading)
        if reading.offline_only:
            plan.notes.append(
                "options the old env.py gave only to offline (--sql) runs are written as a "
                f"comment in the run_migrations call: {', '.join(reading.offline_only)}"
            )
        for text, kept in iter_statements(reading):
            if kept:
                first = text.strip().splitlines()[0]
                plan.notes.append(
                    f"kept as it was (adopt cannot tell it is only set-up): `{first}`"
                )
        plan.notes += reading.notes
        if reading.hook:
            plan.notes.append(
                "what the old env.py ran on its connection before the migrations is the "
                "on_connect hook: run_migrations runs it on the connection it is given"
            )
        for setting in reading.context_sets:
            plan.notes.append(f"`{setting}` is set around run_migrations, as it was around the run")
    uses_sqlmodel = _uses_sqlmodel(metadata, reading, directory)
    mako = _script_template(directory / "script.py.mako", uses_sqlmodel)
    if mako is not None:
        plan.changes.append(mako)
    baseline = heads[0] if len(heads) == 1 and not reading.wired else None
    if tree:
        reference, baseline = None, None
        plan.notes.append(
            f"[{settings.section}] is one tree of alembic.ini: run each command with "
            f"`fastapi-alembic --name {settings.section} ...`"
        )
    pyproject = _pyproject_change(settings, table, reference, directory, baseline, tree)
    if pyproject is not None:
        plan.changes.append(pyproject)
    return plan


def _tool_table(pyproject: Path | None) -> dict[str, Any]:
    if pyproject is None or not pyproject.is_file():
        return {}
    table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get(TOOL_KEY)
    return table if isinstance(table, dict) else {}


def _working_reference(reading: EnvReading, root: Path, notes: list[str]) -> str | None:
    """The first reading of env.py's target_metadata that imports as a MetaData."""
    failure: ConfigError | None = None
    for reference in reading.metadata_references:
        try:
            import_metadata(reference, root)
        except ConfigError as error:
            if failure is None or str(failure).startswith("Cannot import"):
                failure = error  # a module that imports and then fails says more
            continue
        return reference
    if failure is not None:
        notes.append(
            f"target_metadata stays in env.py, not in [tool.{TOOL_KEY}]: {str(failure).rstrip('.')}"
        )
    return None


def _free_backup(env_path: Path) -> Path:
    candidate = env_path.with_name("env.py.orig")
    number = 1
    while candidate.exists():
        candidate = env_path.with_name(f"env.py.orig.{number}")
        number += 1
    return candidate


def _note_url(plan: AdoptionPlan, reading: EnvReading) -> None:
    if reading.url is not None:
        plan.notes.append(
            f"plain `alembic` still finds the database with `{reading.url}` (unless given "
            "`-x url=...`); FastAPI-Alembic's commands use --url or DATABASE_URL"
        )
    elif reading.url_from_ini:
        plan.notes.append(
            "plain `alembic` reads the database from DATABASE_URL, then alembic.ini's "
            "sqlalchemy.url as before; FastAPI-Alembic's commands use --url or DATABASE_URL"
        )


def _uses_sqlmodel(metadata: MetaData | None, reading: EnvReading, directory: Path) -> bool:
    """The models are SQLModel's, or env.py or a revision imports sqlmodel (when installed)."""
    if metadata is not None and is_sqlmodel_metadata(metadata):
        return True
    if importlib.util.find_spec("sqlmodel") is None:
        return False  # a template importing it would break every revision
    if re.search(r"^\s*(from|import)\s+sqlmodel\b", reading.source, re.MULTILINE):
        return True
    versions = directory / "versions"
    return versions.is_dir() and any(
        "sqlmodel." in path.read_text(encoding="utf-8", errors="replace")
        for path in versions.glob("*.py")
    )


def _script_template(path: Path, uses_sqlmodel: bool) -> FileChange | None:
    """script.py.mako as it is, plus ``import sqlmodel`` for a SQLModel app's revisions."""
    if not path.is_file():
        return FileChange(path, None, script_template(sqlmodel=uses_sqlmodel))
    text = path.read_text(encoding="utf-8")
    if not uses_sqlmodel or re.search(r"^import sqlmodel\b", text, re.MULTILINE):
        return None
    return FileChange(path, text, add_sqlmodel_import(text))


def _pyproject_change(
    settings: Settings,
    table: dict[str, Any],
    reference: str | None,
    directory: Path,
    baseline: str | None = None,
    tree: bool = False,
) -> FileChange | None:
    """[tool.fastapi-alembic] with what it lacks: the models, the migrations folder, the
    history's head as the lint baseline, and alembic.ini's place when it is not the root.
    For one tree of several (``tree``), only the last: ``--name`` finds the rest."""
    wanted: dict[str, str] = {}
    if reference is not None and "metadata" not in table:
        wanted["metadata"] = reference
    relative = Path(os.path.relpath(directory, settings.root)).as_posix()
    if relative != DEFAULT_DIRECTORY and "directory" not in table and not tree:
        wanted["directory"] = relative
    if settings.ini is not None and "ini" not in table:
        ini = Path(os.path.relpath(settings.ini, settings.root)).as_posix()
        if ini != "alembic.ini":
            wanted["ini"] = ini
    if baseline is not None and "lint-baseline" not in table:
        wanted["lint-baseline"] = baseline
    if not wanted:
        return None
    path = settings.pyproject or settings.root / "pyproject.toml"
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    return FileChange(path, before, with_settings(before, wanted))

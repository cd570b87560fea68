"""Lint for one project: which revisions, which backends, which database, which settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError, RevisionError
from alembic.util import CommandError

import fastapi_alembic.revisions as graph
from fastapi_alembic.errors import ConfigError, DatabaseUnreachable, MigrationsError, ScriptError
from fastapi_alembic.lint.context import Environment
from fastapi_alembic.lint.database import backend_of, measure
from fastapi_alembic.lint.engine import RevisionFile, lint
from fastapi_alembic.lint.facts import backends as lint_backends
from fastapi_alembic.lint.facts import lint_backend
from fastapi_alembic.lint.report import LintReport
from fastapi_alembic.lint.rules import BY_ID
from fastapi_alembic.lint.selection import changed_since, template_imports
from fastapi_alembic.lint.settings import lint_settings
from fastapi_alembic.urls import mask_url

if TYPE_CHECKING:
    from fastapi_alembic.config import Settings


class Project(Protocol):
    """What lint reads of a project: its settings, its migrations folder and the loaded
    migration files (a Workspace, see workspace.py)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def directory(self) -> Path: ...

    def script_directory(self) -> ScriptDirectory: ...


def lint_project(
    project: Project,
    revisions: Sequence[str] | None = (),
    *,
    since: str | None = None,
    since_git: str | None = None,
    dialect: str | None = None,
    database: bool = True,
) -> LintReport:
    """Lint ``revisions`` (None: none at all), else those after ``since``, else those whose
    files changed since the git ref ``since_git``, else every revision (or those after the
    ``since`` setting)."""
    settings = project.settings
    options = lint_settings(settings.lint, set(BY_ID))
    script = project.script_directory()
    history = [RevisionFile.of(s) for s in graph.ordered(script)]
    if revisions is None:
        selected: set[str] | None = set()
    elif since_git and not revisions and not since:
        selected = changed_since(script, since_git, settings.root)
    else:
        selected = _select(script, revisions, since or (None if revisions else options.since))
    names = (dialect,) if dialect else settings.dialects
    environment = Environment(
        backends=_backends(names, settings.url and backend_of(settings.url)),
        threshold=options.threshold,
        app_packages=_app_packages(settings.metadata_ref),
        template_imports=template_imports(project.directory / "script.py.mako"),
        model_columns=_model_columns(project),
        heads=frozenset(script.get_heads()),
        runner_lock_timeout=settings.lock_timeout,
    )
    if any(name.lower() == "mariadb" for name in names):
        environment.mariadb = True
    url = settings.url
    measured = None
    if database and url is not None and backend_of(url) in environment.backends:
        try:
            # A few revisions (make's lint of what it wrote): count only the tables asked about.
            aware = measure(url, environment, lazily=selected is not None)
        except DatabaseUnreachable as error:
            raise DatabaseUnreachable(
                f"{error} Or lint without looking at the database: --no-database."
            ) from None
        if aware is not None:
            environment, measured = aware, mask_url(url)
    report = lint(history, selected, environment, options)
    return replace(report, database=measured)


def revisions_after(
    project: Project, *, since: str | None = None, since_git: str | None = None
) -> set[str]:
    """The revisions after ``since``, else those whose files changed since ``since_git``."""
    script = project.script_directory()
    if since:
        return _select(script, (), since) or set()
    if since_git:
        return changed_since(script, since_git, project.settings.root)
    return {s.revision for s in graph.ordered(script)}


def _backends(names: Sequence[str], from_url: str | None) -> tuple[str, ...]:
    """The backends to lint for: those named (--dialect, else the dialects setting), else
    the URL's, else every backend."""
    backends: list[str] = []
    for name in names:
        backend = lint_backend(name)  # mariadb is linted as mysql
        if backend is None:
            raise ConfigError(
                f"--dialect {name!r} is not one lint knows: use postgresql, mysql, mariadb "
                "or sqlite."
            )
        if backend not in backends:
            backends.append(backend)
    if backends:
        return tuple(backends)
    return (from_url,) if from_url else lint_backends()


def _resolve(script: ScriptDirectory, revision: str) -> str:
    try:
        found = script.get_revision(revision)
    except (CommandError, ResolutionError, RevisionError) as error:
        raise ScriptError(f"No revision matches {revision!r}: {str(error).rstrip('.')}.") from None
    if found is None:
        raise ScriptError(f"{revision!r} is the base, which has no migration file.")
    return found.revision


def _select(
    script: ScriptDirectory, revisions: Sequence[str], since: str | None
) -> set[str] | None:
    if revisions:
        return {_resolve(script, r) for r in revisions}
    if since:
        done = graph.applied_set(script, (_resolve(script, since),))
        return {s.revision for s in graph.ordered(script) if s.revision not in done}
    return None


def _app_packages(metadata_ref: str | None) -> tuple[str, ...]:
    if not metadata_ref:
        return ()
    return (metadata_ref.partition(":")[0].split(".")[0],)


def _model_columns(project: Project) -> dict[str, set[str]] | None:
    """The columns the models map, or None when they cannot be loaded (lint goes on)."""
    if not project.settings.metadata_ref and project.settings._metadata is None:
        return None
    try:
        metadata = project.settings.metadata
    except MigrationsError:
        return None
    return {t.name: {c.name for c in t.columns} for t in metadata.tables.values()}

"""Checking for CI: one head, the migrations reproduce the models, the database is at head,
the migrations pass lint, and no applied migration file was edited (the ledger)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

import fastapi_alembic.revisions as graph
from fastapi_alembic.database_names import scratch_name
from fastapi_alembic.database_pinning import WrongDatabase
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.base import DialectSupport
from fastapi_alembic.errors import (
    DatabaseStateError,
    DatabaseUnreachable,
    MigrationsError,
    RevisionExited,
)
from fastapi_alembic.jobs import bookkeeping, moving, reporting, running
from fastapi_alembic.jobs.common import current_heads, first_line
from fastapi_alembic.reports import CheckItem, CheckReport
from fastapi_alembic.urls import mask_url, parse_url

if TYPE_CHECKING:
    from fastapi_alembic.workspace import Workspace


def check(
    workspace: Workspace,
    *,
    scratch_url: str | URL | None,
    no_database: bool,
    since: str | None = None,
    since_git: str | None = None,
) -> CheckReport:
    """The body of ``Migrations.check``."""
    script = workspace.script_directory(workspace.environment_config())
    heads = tuple(script.get_heads())
    items = [
        CheckItem(
            "one head",
            len(heads) == 1,
            f"head is {heads[0]}"
            if len(heads) == 1
            else "there are no migrations yet"
            if not heads
            else f"{len(heads)} heads ({', '.join(sorted(heads))}): run `fastapi-alembic merge`",
        )
    ]
    items.append(_check_models(workspace, scratch_url))
    current: tuple[str, ...] | None = None
    if no_database:
        items.append(CheckItem("database at head", True, "skipped: --no-database"))
    else:
        item, current = _check_database_at_head(workspace, script, heads)
        items.append(item)
    items.append(_check_lint(workspace, script, current, since=since, since_git=since_git))
    items.extend(_check_applied_files(workspace, no_database=no_database))
    return CheckReport(tuple(items), notes=reporting.notes(workspace))


def _check_lint(
    workspace: Workspace,
    script: ScriptDirectory,
    current: tuple[str, ...] | None,
    *,
    since: str | None,
    since_git: str | None,
) -> CheckItem:
    """Lint what is new: with a database, the revisions not applied there (an applied one is
    history: its findings, and the rows its tables hold now, no longer decide anything);
    without one, those after --since, changed since --since-git, or after the baseline."""
    # sqlglot: only when checking
    from fastapi_alembic.lint.runner import lint_project, revisions_after

    name = "migrations pass lint"
    baseline = workspace.settings.lint_baseline
    try:
        if current is not None:
            pending = [s.revision for s in graph.pending(script, current)]
            if since or since_git:
                narrowed = revisions_after(workspace, since=since, since_git=since_git)
                pending = [r for r in pending if r in narrowed]
            where = mask_url(workspace.url)
            scope = f"not yet applied to {where}"
            if not pending:
                return CheckItem(name, True, f"every revision is applied to {where}: nothing new")
            report = lint_project(workspace, pending, database=True)
        elif since or since_git:
            report = lint_project(workspace, since=since, since_git=since_git, database=False)
            scope = f"after {since}" if since else f"changed since {since_git} (git)"
        elif baseline:
            report = lint_project(workspace, since=baseline, database=False)
            scope = f"after the baseline {baseline} (lint-baseline)"
        else:
            report = lint_project(workspace, database=False)
            scope = "every revision"
    except RevisionExited:
        raise  # a revision that ends the process stops every verb
    except MigrationsError as error:
        return CheckItem(name, False, str(error))
    if not report.revisions:
        return CheckItem(name, True, f"no revision {scope}: nothing new to lint")
    detail = f"{scope}: {report.summary()}"
    if report.errors:
        first = report.errors[0]
        detail += (
            f"; first: {first.revision} {first.rule}: {first.message}. "
            f"Run `fastapi-alembic lint {first.revision}` for the safe way to write it"
        )
    return CheckItem(name, report.ok, detail)


def _check_applied_files(workspace: Workspace, *, no_database: bool = False) -> list[CheckItem]:
    """One failed item per applied migration file edited or removed (from the ledger)."""
    name = "applied migrations unchanged"
    if no_database:
        return [CheckItem(name, True, "skipped: --no-database")]
    if for_url(workspace.url).absent(workspace.url):  # "database at head" says so; create nothing
        return [CheckItem(name, True, f"skipped: {mask_url(workspace.url)} does not exist")]
    try:

        def read(context: MigrationContext, script: ScriptDirectory) -> list[Any]:
            # A revision the files lack is its own sentence, not a lookup error.
            graph.require_known(script, current_heads(context))
            problems = bookkeeping.ledger_problems(workspace.settings, context, script)
            if any(problem.kind.startswith("missing") for problem in problems):
                return problems  # no rows to read drift from
            return [*problems, *bookkeeping.drift(workspace.settings, context, script)]

        found = running.inspect(workspace, read, models=False)
    except DatabaseUnreachable:
        return [CheckItem(name, True, f"skipped: {mask_url(workspace.url)} is not reachable")]
    except RevisionExited:
        raise  # a revision that ends the process stops every verb
    except MigrationsError as error:
        return [CheckItem(name, False, str(error))]
    if found:
        return [CheckItem(name, False, d.sentence) for d in found]
    return [CheckItem(name, True, "no applied migration file was edited or removed")]


def _check_models(workspace: Workspace, scratch_url: str | URL | None) -> CheckItem:
    name = "migrations match the models"
    base = parse_url(scratch_url) if scratch_url else workspace.url
    dialect = for_url(base)
    # SQLite scratch files go to the temporary folder, never beside (or into a mistyped
    # folder of) the app's database, and carry none of its URI options.
    server = dialect.scratch_server(base)
    try:
        scratch_db = dialect.create_database(
            server, scratch_name(workspace.settings.test_database_prefix, "check")
        )
    except (DBAPIError, OSError) as error:
        hint = dialect.privilege_hint
        raise DatabaseUnreachable(
            f"Cannot create the scratch database for `check` on {mask_url(server)} "
            f"({first_line(error, server)}): {hint}, or pass --scratch-url with a server "
            "where it may create databases."
        ) from None
    try:
        scratch = workspace.with_url(scratch_db)
        try:
            moving.upgrade(scratch, "heads", guard_data_loss=False)
        except WrongDatabase:
            raise  # not a finding about the migrations: the env.py must be fixed first
        except RevisionExited:
            raise  # a revision that ends the process stops every verb
        except MigrationsError as error:
            return CheckItem(name, False, f"upgrading a scratch database failed: {error}")
        differences = reporting.differences(scratch)
    finally:
        _drop_scratch(dialect, scratch_db)
    if differences:
        listed = "; ".join(d.description for d in differences)
        write = 'Run `fastapi-alembic make "..."` to write the missing migration.'
        if len(differences) <= 3:
            detail = f"a database migrated to head differs from the models: {listed}. {write}"
            return CheckItem(name, False, detail)
        detail = (
            f"a database migrated to head differs from the models in {len(differences)} ways. "
            + write
        )
        return CheckItem(name, False, detail, details=tuple(d.description for d in differences))
    return CheckItem(name, True, "a database migrated to head matches the models")


def _check_database_at_head(
    workspace: Workspace, script: ScriptDirectory, heads: tuple[str, ...]
) -> tuple[CheckItem, tuple[str, ...] | None]:
    """The check, and the database's revisions when they could be read and are known."""
    name = "database at head"
    absent = for_url(workspace.url).absent(workspace.url)
    try:
        if absent:  # never create a database just by looking at it
            raise DatabaseUnreachable(absent)
        current = reporting.current(workspace)
    except DatabaseUnreachable as error:
        detail = f"{str(error).rstrip('.')}; pass --no-database if this check runs without one"
        return CheckItem(name, False, detail), None
    except DatabaseStateError as error:
        return CheckItem(name, False, str(error)), None
    if set(current) == set(heads):
        return CheckItem(name, True, f"{mask_url(workspace.url)} is at head"), current
    try:
        graph.require_known(script, current)
    except DatabaseStateError as error:
        return CheckItem(name, False, str(error)), None
    behind = len(graph.pending(script, current))
    detail = (
        f"{mask_url(workspace.url)} is {behind} revision(s) behind head: "
        "run `fastapi-alembic upgrade`"
    )
    return CheckItem(name, False, detail), current


def _drop_scratch(dialect: DialectSupport, url: URL) -> None:
    """Remove a scratch database; if the server will not, say which one is left behind."""
    try:
        dialect.drop_database(url)
    except (DBAPIError, OSError) as error:
        raise DatabaseStateError(
            f"The scratch database {mask_url(url)} could not be removed "
            f"({first_line(error, url)}): drop it by hand."
        ) from None

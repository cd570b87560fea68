"""Checking for CI: one head, the migrations reproduce the models, the database is at head,
the migrations pass lint, and no applied migration file was edited (the ledger)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic import revisions as graph
from fastapi_alembic.database_names import scratch_name
from fastapi_alembic.dialects import DialectSupport, for_url
from fastapi_alembic.environment import WrongDatabase
from fastapi_alembic.errors import (
    DatabaseStateError,
    DatabaseUnreachable,
    MigrationsError,
    RevisionExited,
)
from fastapi_alembic.jobs import running
from fastapi_alembic.jobs.common import current_heads, first_line
from fastapi_alembic.reports import CheckItem, CheckReport
from fastapi_alembic.runtime import reading
from fastapi_alembic.urls import mask_url, parse_url

if TYPE_CHECKING:
    from fastapi_alembic.migrations import Migrations


def check(
    migrations: Migrations, *, scratch_url: str | URL | None, no_database: bool
) -> CheckReport:
    """The body of ``Migrations.check``."""
    script = migrations.script_directory(migrations.environment_config())
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
    items.append(_check_models(migrations, scratch_url))
    if no_database:
        items.append(CheckItem("database at head", True, "skipped: --no-database"))
    else:
        items.append(_check_database_at_head(migrations, script, heads))
    items.append(_check_lint(migrations, database=not no_database))
    items.extend(_check_applied_files(migrations, no_database=no_database))
    return CheckReport(tuple(items), notes=migrations.notes())


def _check_lint(migrations: Migrations, *, database: bool) -> CheckItem:
    try:
        report = migrations.lint(database=database)
    except DatabaseUnreachable:  # said by "database at head"; lint without the sizes
        report = migrations.lint(database=False)
    except RevisionExited:
        raise  # a revision that ends the process stops every verb
    except MigrationsError as error:
        return CheckItem("migrations pass lint", False, str(error))
    detail = report.summary()
    if report.errors:
        first = report.errors[0]
        detail += (
            f"; first: {first.revision} {first.rule}: {first.message}. "
            "Run `fastapi-alembic lint` for the safe way to write each"
        )
    return CheckItem("migrations pass lint", report.ok, detail)


def _check_applied_files(migrations: Migrations, *, no_database: bool = False) -> list[CheckItem]:
    """One failed item per applied migration file edited or removed (from the ledger)."""
    name = "applied migrations unchanged"
    if no_database:
        return [CheckItem(name, True, "skipped: --no-database")]
    if for_url(migrations.url).absent(migrations.url):  # "database at head" says so; create nothing
        return [CheckItem(name, True, f"skipped: {mask_url(migrations.url)} does not exist")]
    try:

        def read(context: MigrationContext, script: ScriptDirectory) -> list[Any]:
            # A revision the files lack is its own sentence, not a lookup error.
            graph.require_known(script, current_heads(context))
            return reading.drift(migrations.settings, context, script)

        found = running.inspect(migrations, read, models=False)
    except DatabaseUnreachable:
        return [CheckItem(name, True, f"skipped: {mask_url(migrations.url)} is not reachable")]
    except RevisionExited:
        raise  # a revision that ends the process stops every verb
    except MigrationsError as error:
        return [CheckItem(name, False, str(error))]
    if found:
        return [CheckItem(name, False, d.sentence) for d in found]
    return [CheckItem(name, True, "no applied migration file was edited or removed")]


def _check_models(migrations: Migrations, scratch_url: str | URL | None) -> CheckItem:
    name = "migrations match the models"
    base = parse_url(scratch_url) if scratch_url else migrations.url
    dialect = for_url(base)
    # SQLite scratch files go to the temporary folder, never beside (or into a mistyped
    # folder of) the app's database, and carry none of its URI options.
    server = dialect.scratch_server(base)
    try:
        scratch_db = dialect.create_database(
            server, scratch_name(migrations.settings.test_database_prefix, "check")
        )
    except (DBAPIError, OSError) as error:
        hint = dialect.template_store(server).privilege_hint
        raise DatabaseUnreachable(
            f"Cannot create the scratch database for `check` on {mask_url(server)} "
            f"({first_line(error, server)}): {hint}, or pass --scratch-url with a server "
            "where it may create databases."
        ) from None
    try:
        scratch = migrations.with_url(scratch_db)
        try:
            scratch.upgrade("heads", guard_data_loss=False)
        except WrongDatabase:
            raise  # not a finding about the migrations: the env.py must be fixed first
        except RevisionExited:
            raise  # a revision that ends the process stops every verb
        except MigrationsError as error:
            return CheckItem(name, False, f"upgrading a scratch database failed: {error}")
        differences = scratch.differences()
    finally:
        _drop_scratch(dialect, scratch_db)
    if differences:
        listed = "; ".join(d.description for d in differences)
        return CheckItem(
            name,
            False,
            f"a database migrated to head differs from the models: {listed}. "
            'Run `fastapi-alembic make "..."` to write the missing migration.',
        )
    return CheckItem(name, True, "a database migrated to head matches the models")


def _check_database_at_head(
    migrations: Migrations, script: ScriptDirectory, heads: tuple[str, ...]
) -> CheckItem:
    name = "database at head"
    absent = for_url(migrations.url).absent(migrations.url)
    try:
        if absent:  # never create a database just by looking at it
            raise DatabaseUnreachable(absent)
        current = migrations.current()
    except DatabaseUnreachable as error:
        return CheckItem(
            name,
            False,
            f"{str(error).rstrip('.')}; pass --no-database if this check runs without one",
        )
    except DatabaseStateError as error:
        return CheckItem(name, False, str(error))
    if set(current) == set(heads):
        return CheckItem(name, True, f"{mask_url(migrations.url)} is at head")
    try:
        graph.require_known(script, current)
    except DatabaseStateError as error:
        return CheckItem(name, False, str(error))
    behind = len(graph.pending(script, current))
    return CheckItem(
        name,
        False,
        f"{mask_url(migrations.url)} is {behind} revision(s) behind head: run `fastapi-alembic upgrade`",
    )


def _drop_scratch(dialect: DialectSupport, url: URL) -> None:
    """Remove a scratch database; if the server will not, say which one is left behind."""
    try:
        dialect.drop_database(url)
    except (DBAPIError, OSError) as error:
        raise DatabaseStateError(
            f"The scratch database {mask_url(url)} could not be removed "
            f"({first_line(error, url)}): drop it by hand."
        ) from None

"""The migration test suite: six checks of a migration history against scratch databases.

1. one head
2. upgrade from base to head, one revision at a time
3. the stairway: for each revision, up, down, and up again
4. after an upgrade to head, the models match the database
5. each downgrade leaves no trace: the schema after down equals the schema before up
6. rows survive: rows generated at each revision are still there after every later upgrade

Each check runs on a scratch database of its own, made on ``server`` and dropped afterwards.
Each failure names the revision and what differed. A check that could cover only part of the
history (a revision before it failed) is reported as partial, with the revisions it left out.
A revision whose file says ``# fastapi-alembic: rows-change <why>`` changes rows on purpose:
check 6 reports what it changed without failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from alembic.script import Script
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from fastapi_alembic import revisions as graph
from fastapi_alembic.database_names import scratch_name
from fastapi_alembic.dialects import for_url
from fastapi_alembic.dialects.engines import run_with_connection
from fastapi_alembic.errors import DatabaseUnreachable, MigrationsError, RevisionExited
from fastapi_alembic.migrations import Migrations
from fastapi_alembic.reports import CheckReport, SkippedRevision
from fastapi_alembic.testing.outcomes import CheckCallback, CheckRecorder, reason_of
from fastapi_alembic.testing.rows import RowLedger, first_line, model_types
from fastapi_alembic.testing.schema import describe_differences, schema_of
from fastapi_alembic.testing.scripts import (
    _declared_rows_change,
    _named,
    _parent_of,
    revision_files_loaded_once,
)
from fastapi_alembic.urls import mask_text, mask_url, parse_url

ONE_HEAD = "one head"
STEP_BY_STEP = "upgrade base to head one revision at a time"
STAIRWAY = "stairway: up, down, up again"
MODELS_MATCH = "models match after upgrade to head"
NO_TRACE = "downgrades leave no trace"
ROWS_SURVIVE = "rows survive every upgrade"
CHECKS = (ONE_HEAD, STEP_BY_STEP, STAIRWAY, MODELS_MATCH, NO_TRACE, ROWS_SURVIVE)

#: Up to this many differences are named on the check's line; more go one a line below it.
INLINE = 3


def default_server(migrations: Migrations) -> URL:
    """The app's own server (never its database), else a SQLite file in the temporary folder."""
    url = migrations.settings.url or parse_url("sqlite:///scratch.db")
    return for_url(url).scratch_server(url)


def run_suite(
    migrations: Migrations,
    server: str | URL | None = None,
    *,
    checks: tuple[str, ...] = CHECKS,
    on_check: CheckCallback | None = None,
) -> CheckReport:
    """Run the checks (all six by default) and report each; nothing raises for a failed check.

    A wrong metadata setting is not a failed check but bad configuration: it raises its
    ConfigError before any scratch database is made."""
    migrations.settings.require_models()
    suite = _Suite(
        migrations, parse_url(server) if server else default_server(migrations), on_check
    )
    with revision_files_loaded_once():
        return suite.run(checks)


def _among(requested: tuple[str, ...], *names: str) -> tuple[str, ...]:
    return tuple(name for name in names if name in requested)


class _Suite(CheckRecorder):
    def __init__(self, migrations: Migrations, server: URL, on_check: CheckCallback | None) -> None:
        super().__init__(server, on_check)
        self.migrations = migrations
        self.dialect = for_url(server)
        #: Where every check stops: the first revision that does not upgrade, and why.
        self.reachable = 0
        self.blocked = ""
        self._env_checked = False

    def declared_types(self) -> dict[tuple[str, str], Any]:
        try:
            return model_types(self.migrations.settings.metadata)
        except RevisionExited:
            raise  # a revision that ends the process stops every verb
        except MigrationsError:
            return {}

    def skips(
        self, order: list[Script], start: int, end: int, reason: str
    ) -> list[SkippedRevision]:
        return [SkippedRevision(s.revision, reason) for s in order[start:end]]

    def unreachable(self, order: list[Script]) -> list[SkippedRevision]:
        return self.skips(order, self.reachable, len(order), self.blocked)

    @contextmanager
    def scratch(self, purpose: str, checks: tuple[str, ...]) -> Iterator[Migrations]:
        """A scratch database for ``checks``; a database error while they run fails them
        with its first line instead of ending the suite with a traceback."""
        try:
            prefix = self.migrations.settings.test_database_prefix
            name = scratch_name(prefix, purpose)
            url = self.dialect.create_database(self.server, name)
        except DBAPIError as error:
            reason = mask_text(first_line(error), self.server.password).rstrip(".")
            hint = self.dialect.privilege_hint
            raise DatabaseUnreachable(
                f"Cannot create a scratch database on {mask_url(self.server)}: {reason}; "
                f"{hint if 'denied' in reason.lower() else 'check the server and try again'}."
            ) from None
        try:
            scratch = self.migrations.with_url(url)
            if not self._env_checked:
                # An env.py that connects elsewhere stops the suite with its one sentence
                # here, before any check runs (and reports a failure that is not one).
                scratch.current()
                self._env_checked = True
            yield scratch
        except SQLAlchemyError as error:
            reported = {item.name for item in self.items}
            for name in checks:
                if name not in reported:
                    self.report(name, False, f"stopped by a database error: {first_line(error)}")
        finally:
            with suppress(DBAPIError, MigrationsError, OSError):
                self.dialect.drop_database(url)

    def run(self, checks: tuple[str, ...]) -> CheckReport:
        script = self.migrations.script_directory()
        order = graph.ordered(script)
        self.reachable = len(order)
        if ONE_HEAD in checks:
            self.one_head(tuple(script.get_heads()))
        if not order:
            for name in checks:
                if name != ONE_HEAD:
                    self.report(name, True, "there are no migrations yet")
            return CheckReport(tuple(self.items))
        if STEP_BY_STEP in checks or MODELS_MATCH in checks:
            with self.scratch("suite_up", _among(checks, STEP_BY_STEP, MODELS_MATCH)) as scratch:
                self.step_by_step(scratch, order, report=STEP_BY_STEP in checks)
                if MODELS_MATCH in checks:
                    self.models_match(scratch, order)
        if STAIRWAY in checks or NO_TRACE in checks:
            with self.scratch("suite_stairs", _among(checks, STAIRWAY, NO_TRACE)) as scratch:
                self.stairway(scratch, order, checks)
        if ROWS_SURVIVE in checks:
            with self.scratch("suite_rows", _among(checks, ROWS_SURVIVE)) as scratch:
                self.rows_survive(scratch, order)
        return CheckReport(tuple(sorted(self.items, key=lambda item: CHECKS.index(item.name))))

    # -- 1 ------------------------------------------------------------------------------------

    def one_head(self, heads: tuple[str, ...]) -> None:
        if len(heads) == 1:
            self.report(ONE_HEAD, True, f"head is {heads[0]}")
        elif not heads:
            self.report(ONE_HEAD, True, "there are no migrations yet")
        else:
            self.report(
                ONE_HEAD,
                False,
                f"{len(heads)} heads ({', '.join(sorted(heads))}): join them with "
                '`fastapi-alembic merge -m "merge heads"`',
            )

    # -- 2 and 4 ------------------------------------------------------------------------------

    def step_by_step(self, scratch: Migrations, order: list[Script], *, report: bool) -> None:
        """Climb one revision at a time; where it fails, every other check stops too."""
        backend = self.server.get_backend_name()
        for index, script in enumerate(order):
            try:
                scratch.upgrade(script.revision, guard_data_loss=False)
            except RevisionExited:
                raise  # a revision that ends the process stops every verb
            except MigrationsError as error:
                reason = reason_of(error)
                self.reachable = index
                if self.dialect.is_foreign_sql_error(reason):
                    self.blocked = f"the history does not run on {backend} from {script.revision}"
                    detail = (
                        f"the history does not run on {backend}: upgrading to {_named(script)} "
                        f"failed: {reason}. Run the suite on a server of the backend it was "
                        "written for: `fastapi-alembic test --url <server URL>`"
                    )
                else:
                    self.blocked = f"upgrading to {script.revision} fails"
                    detail = f"upgrading to {_named(script)} failed: {reason}"
                if report:
                    self.report(STEP_BY_STEP, False, detail)
                return
        if report:
            self.report(STEP_BY_STEP, True, f"{len(order)} revision(s) applied one at a time")

    def models_match(self, scratch: Migrations, order: list[Script]) -> None:
        if self.reachable < len(order):
            self.partly(MODELS_MATCH, "", self.unreachable(order))
            return
        try:
            differences = scratch.differences()
        except RevisionExited:
            raise  # a revision that ends the process stops every verb
        except MigrationsError as error:
            self.report(MODELS_MATCH, False, reason_of(error))
            return
        if differences:
            listed = "; ".join(d.description for d in differences)
            write = 'Write the missing migration with `fastapi-alembic make "..."`'
            if len(differences) <= INLINE:
                detail = f"a database at head differs from the models: {listed}. {write}"
                self.report(MODELS_MATCH, False, detail)
            else:
                detail = f"a database at head differs from the models in {len(differences)} ways. {write}"
                self.report(MODELS_MATCH, False, detail, [d.description for d in differences])
        else:
            self.report(MODELS_MATCH, True, "a database at head matches the models")

    # -- 3 and 5 ------------------------------------------------------------------------------

    def stairway(self, scratch: Migrations, order: list[Script], checks: tuple[str, ...]) -> None:
        """Up, down and up again, each down-step with generated rows in every table: a
        downgrade meets the rows a real database holds (a NOT NULL column re-added without a
        default fails there, not on empty tables)."""
        traces: list[str] = []
        done = 0
        failure: str | None = None
        rows = RowLedger(self.declared_types(), track=False)
        before = schema_of(scratch.url)
        for script in order[: self.reachable]:
            name = _named(script)
            try:
                scratch.upgrade(script.revision, guard_data_loss=False)
            except RevisionExited:
                raise  # a revision that ends the process stops every verb
            except MigrationsError as error:
                failure = f"up to {name} failed: {reason_of(error)}"
                break
            after_up = schema_of(scratch.url)
            try:
                run_with_connection(scratch.url, rows.insert)
            except SQLAlchemyError as error:
                failure = f"making rows at {name} failed: {first_line(error)}"
                break
            try:
                scratch.downgrade(_parent_of(script))
            except RevisionExited:
                raise  # a revision that ends the process stops every verb
            except MigrationsError as error:
                held = " with rows in its tables" if rows.inserted else ""
                failure = f"down from {name} failed{held}: {reason_of(error)}"
                break
            try:  # up again on empty tables: the rows check climbs with rows
                run_with_connection(scratch.url, rows.clear)
            except SQLAlchemyError as error:
                failure = f"emptying the tables after down from {name} failed: {first_line(error)}"
                break
            after_down = schema_of(scratch.url)
            differences = describe_differences(before, after_down)
            if differences:
                traces.append(f"downgrading {name} left {'; '.join(differences)}")
            try:
                scratch.upgrade(script.revision, guard_data_loss=False)
            except RevisionExited:
                raise  # a revision that ends the process stops every verb
            except MigrationsError as error:
                failure = f"up again to {name} failed: {reason_of(error)}"
                break
            again = schema_of(scratch.url)
            if not differences and (changed := describe_differences(after_up, again)):
                failure = f"up again to {name} made a different schema: {'; '.join(changed)}"
                break
            before = again
            done += 1
        stopped = self.unreachable(order)
        if failure is not None:
            stopped = [
                *self.skips(
                    order, done, self.reachable, f"the stairway stopped at {order[done].revision}"
                ),
                *stopped,
            ]
        if STAIRWAY in checks:
            went = f"{done} revision(s) went up, down (with rows in the tables) and up again"
            if failure is not None:
                self.report(STAIRWAY, False, failure)
            elif stopped:
                self.partly(STAIRWAY, went, stopped)
            elif rows.inserted == 0 and rows.skipped:
                reason = "no rows could be made for any table"
                self.partly(
                    STAIRWAY,
                    f"{done} revision(s) went up, down and up again, on empty tables",
                    [SkippedRevision(s.revision, reason) for s in order],
                    [f"no rows could be made for {note}" for note in rows.skipped],
                )
            else:
                self.report(STAIRWAY, True, went, _unfilled(rows))
        if NO_TRACE in checks:
            if traces:
                summary = f"{len(traces)} of {done} downgrade(s) left a trace"
                self.report_many(NO_TRACE, False, traces, summary)
            elif stopped:
                covered = f"{done} of {len(order)} downgrade(s) restored the schema exactly"
                self.partly(NO_TRACE, covered if done else "", stopped)
            else:
                self.report(NO_TRACE, True, f"all {done} downgrade(s) restored the schema exactly")

    # -- 6 ------------------------------------------------------------------------------------

    def rows_survive(self, scratch: Migrations, order: list[Script]) -> None:
        ledger = RowLedger(self.declared_types())
        losses: list[str] = []
        on_purpose: list[str] = []
        for script in order[: self.reachable]:
            name = _named(script)
            try:
                scratch.upgrade(script.revision, guard_data_loss=False)
            except RevisionExited:
                raise  # a revision that ends the process stops every verb
            except MigrationsError as error:
                self.report(
                    ROWS_SURVIVE,
                    False,
                    f"upgrading to {name} with rows in the tables failed: {reason_of(error)}",
                )
                return
            try:
                lost = run_with_connection(scratch.url, ledger.verify)
                run_with_connection(scratch.url, ledger.insert)
            except SQLAlchemyError as error:
                self.report(
                    ROWS_SURVIVE,
                    False,
                    f"checking the rows after upgrading to {name} failed: {first_line(error)}",
                )
                return
            why = _declared_rows_change(script)
            if lost and why is not None:
                on_purpose.append(f"{name} changes rows on purpose ({why}): {'; '.join(lost)}")
            else:
                losses.extend(f"{name} {loss}" for loss in lost)
        notes = on_purpose + _unfilled(ledger)
        if losses:
            revisions = len({loss.split(" ", 1)[0] for loss in losses})
            summary = (
                f"{len(losses)} loss(es) of generated rows or values in {revisions} revision(s)"
            )
            if len(losses) == 1:
                self.report(ROWS_SURVIVE, False, losses[0], notes)
            else:
                self.report(ROWS_SURVIVE, False, summary, losses + notes)
            return
        if ledger.inserted == 0 and ledger.skipped:
            # Nothing was there to lose: that is no evidence that rows survive.
            reason = "no rows could be made for any table"
            self.partly(
                ROWS_SURVIVE,
                "",
                [SkippedRevision(s.revision, reason) for s in order],
                notes,
            )
            return
        survived = f"{ledger.inserted} generated row(s) survived every later upgrade"
        if self.reachable < len(order):
            self.partly(ROWS_SURVIVE, survived, self.unreachable(order), notes)
        else:
            self.report(ROWS_SURVIVE, True, survived, notes)


def _unfilled(ledger: RowLedger) -> list[str]:
    """A line per table no rows could be made for, and why."""
    return [f"no rows could be made for {note}" for note in ledger.skipped]

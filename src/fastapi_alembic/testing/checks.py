"""The migration test suite as six pytest tests. Opt in from any test module::

    from fastapi_alembic.testing.checks import *  # noqa: F403

The suite runs once per session (the ``migration_suite`` fixture, on the server of
``migrate_base_url``); each test reports one check, naming the revision and what differed.
"""

from __future__ import annotations

import pytest

from fastapi_alembic.reports import CheckReport
from fastapi_alembic.testing import suite


def _expect(report: CheckReport, name: str) -> None:
    for item in report.items:
        if item.name == name:
            if not item.ok:  # a partial check is no pass either: its detail says what was left out
                pytest.fail(f"{name}: {item.detail}", pytrace=False)
            return
    pytest.fail(f"{name}: the suite did not run this check", pytrace=False)


def test_migrations_have_one_head(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.ONE_HEAD)


def test_migrations_upgrade_one_at_a_time(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.STEP_BY_STEP)


def test_migrations_stairway(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.STAIRWAY)


def test_migrations_match_the_models(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.MODELS_MATCH)


def test_migrations_downgrades_leave_no_trace(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.NO_TRACE)


def test_migrations_keep_rows(migration_suite: CheckReport) -> None:
    _expect(migration_suite, suite.ROWS_SURVIVE)


__all__ = [
    "test_migrations_downgrades_leave_no_trace",
    "test_migrations_have_one_head",
    "test_migrations_keep_rows",
    "test_migrations_match_the_models",
    "test_migrations_stairway",
    "test_migrations_upgrade_one_at_a_time",
]

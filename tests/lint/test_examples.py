"""The two example apps lint clean for every backend: each finding fixed or silenced with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_alembic import Migrations

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("app", ["todo", "social"])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_example_app_lints_clean(app: str, dialect: str) -> None:
    report = Migrations(root=EXAMPLES / app).lint(dialect=dialect, database=False)
    assert report.revisions
    assert not report.findings, [f"{f.revision} {f.rule}: {f.message}" for f in report.findings]

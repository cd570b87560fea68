"""`fastapi-alembic test` on both example apps, as CI runs it: every check passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fastapi_alembic.cli import app
from tests.support.histories import server_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", ["todo", "social"])
def test_the_migration_suite_passes_on_the_example_app(example: str, tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(EXAMPLES / example)
    try:
        result = CliRunner().invoke(
            app, ["test", "--url", server_for("sqlite", tmp_path)], env={"DATABASE_URL": ""}
        )
    finally:
        os.chdir(cwd)
    output = result.stdout + result.stderr
    assert result.exit_code == 0, output
    assert output.count("✓") == 6, output
    assert "no rows could be made" not in output

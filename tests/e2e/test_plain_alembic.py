"""Plain `alembic` on a folder `fastapi-alembic init` made: it behaves as Alembic does."""

from __future__ import annotations

from pathlib import Path

from tests.support.helpers import Project, head_of


def test_alembic_logs_its_own_running_lines(fresh_url: str, tmp_path: Path) -> None:
    project = Project.create(tmp_path, fresh_url)
    assert project.run("init").exit_code == 0
    assert project.run("make", "create users and votes").exit_code == 0
    revision = head_of(project)

    up = project.run("upgrade", "head", program="alembic")
    assert up.exit_code == 0, up.output
    # Alembic's INFO line names the step by its migration function: deploy logs grep for it.
    assert f"Running upgrade  -> {revision}, create users and votes" in up.stderr, up.stderr

    down = project.run("downgrade", "base", program="alembic")
    assert down.exit_code == 0, down.output
    assert f"Running downgrade {revision} -> , create users and votes" in down.stderr

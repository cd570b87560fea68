"""The sentences of a failed move (jobs/moving.py), for failures no test server can be made to
produce on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_alembic.config import load_settings
from fastapi_alembic.jobs.moving import _explain_failure
from fastapi_alembic.workspace import Workspace
from tests.support.helpers import Project

PREPARED_ELSEWHERE = 'prepared statement "__fastapi_alembic_0f3a__" does not exist'


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project.create(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert made.cli("init").exit_code == 0
    return made


def sentence(project: Project, url: str, error: Exception) -> str:
    workspace = Workspace(load_settings(url=url, root=project.root, environ={}))
    config = workspace.environment_config(models=False, command=("upgrade", "head"))
    script = workspace.script_directory(config)
    return str(_explain_failure(workspace, error, "upgrade", "head", script))


def test_an_asyncpg_statement_run_on_another_session_says_why(project: Project) -> None:
    """Through a pooler in transaction mode, asyncpg's statement outside a transaction can be
    prepared on one server session and run on another (it depends on the pooler's timing):
    the sentence names the cause and the ways out, and never the password."""
    url = "postgresql+asyncpg://app:s3cret@pooler:6432/app"
    said = sentence(project, url, Exception(PREPARED_ELSEWHERE))
    assert said.startswith(f"The upgrade failed with Exception: {PREPARED_ELSEWHERE} (asyncpg")
    assert "a pooler in transaction mode may run it on another server session" in said
    assert "the pooler's session mode or directly, or use psycopg, postgresql+psycopg://" in said
    assert "s3cret" not in said
    # The same words from another driver are that driver's own failure: no advice about asyncpg.
    other = sentence(project, url.replace("+asyncpg", "+psycopg"), Exception(PREPARED_ELSEWHERE))
    assert "asyncpg" not in other

"""Starting the app brings an empty database to head before it serves."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fastapi_alembic import Migrations
from todo.app import create_app


def test_starting_the_app_migrates_an_empty_database(
    migrations: Migrations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert migrations.with_url(url).current() == ()

    with TestClient(create_app()) as client:
        assert migrations.with_url(url).status().up_to_date
        due = str(date.today() + timedelta(days=1))
        response = client.post(
            "/api/todo/", json={"name": "First task", "priority": 1, "due_date": due}
        )
        assert response.status_code == 201
        assert client.get("/api/todo/").json() == [response.json()]


def test_ready_says_whether_the_database_is_at_the_codes_revision(
    migrations: Migrations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    with TestClient(create_app()) as client:
        assert client.get("/ready").json() == {"ready": True}
        migrations.with_url(url).downgrade("-1")  # another release stepped the database back
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json() == {
            "detail": "The database is not at the revision this code expects"
        }


def test_ready_is_503_when_the_database_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1; without the lifespan the app serves without migrating.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://todo@127.0.0.1:1/todo")
    client = TestClient(create_app(), raise_server_exceptions=False)
    response = client.get("/ready")
    assert response.status_code == 503

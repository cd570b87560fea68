"""Starting the app brings an empty database to head before it serves."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fastapi_migrate import Migrations
from social.app import create_app


def test_starting_the_app_migrates_an_empty_database(
    migrations: Migrations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'social.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert migrations.with_url(url).current() == ()

    with TestClient(create_app()) as client:
        assert migrations.with_url(url).status().up_to_date
        account = {"email": "first@example.com", "password": "correct horse"}
        assert client.post("/users/", json=account).status_code == 201
        login = client.post(
            "/login", data={"username": account["email"], "password": account["password"]}
        )
        assert login.status_code == 200

"""Starting the app: it needs SECRET_KEY, then brings an empty database to head before it
serves."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fastapi_alembic import Migrations
from social.app import create_app
from social.settings import MissingSecretKeyError, Settings


def test_starting_the_app_migrates_an_empty_database(
    migrations: Migrations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'social.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "a signing key for this test only, long enough")
    assert migrations.with_url(url).current() == ()

    with TestClient(create_app()) as client:
        assert migrations.with_url(url).status().up_to_date
        account = {"email": "first@example.com", "password": "correct horse"}
        assert client.post("/users/", json=account).status_code == 201
        login = client.post(
            "/login", data={"username": account["email"], "password": account["password"]}
        )
        assert login.status_code == 200


def test_without_secret_key_the_app_refuses_to_start_and_leaves_the_database_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "social.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings(_env_file=None)  # nor from a .env file a developer may have

    with (
        pytest.raises(MissingSecretKeyError, match=r"^SECRET_KEY is not set: set it"),
        TestClient(create_app(settings)),
    ):
        pass

    assert not database.exists()

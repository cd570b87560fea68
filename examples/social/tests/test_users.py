"""POST /users/ and GET /users/{id}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import LoggedInUser


def test_sign_up_returns_201_and_the_public_fields(client: TestClient) -> None:
    body = {"email": "ada@example.com", "password": "analytical engine", "phone_number": "+44 1"}

    response = client.post("/users/", json=body)

    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "created_at", "phone_number"}
    assert user["email"] == "ada@example.com"
    assert user["phone_number"] == "+44 1"
    assert datetime.fromisoformat(user["created_at"])


def test_sign_up_with_a_taken_email_returns_409(client: TestClient) -> None:
    body = {"email": "ada@example.com", "password": "analytical engine"}
    assert client.post("/users/", json=body).status_code == 201

    response = client.post("/users/", json=body)

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_sign_up_with_a_bad_email_or_short_password_returns_422(client: TestClient) -> None:
    response = client.post("/users/", json={"email": "not-an-email", "password": "short"})

    assert response.status_code == 422
    assert {tuple(error["loc"]) for error in response.json()["detail"]} == {
        ("body", "email"),
        ("body", "password"),
    }


def test_get_user_returns_200_with_email_and_phone_to_the_user_themself(
    client: TestClient, sign_up: Callable[..., LoggedInUser]
) -> None:
    ada = sign_up(phone_number="+44 20 7946 0000")

    response = client.get(f"/users/{ada.id}", headers=ada.headers)

    assert response.status_code == 200
    shown = response.json()
    assert (shown["id"], shown["email"]) == (ada.id, ada.email)
    assert shown["phone_number"] == "+44 20 7946 0000"


@pytest.mark.parametrize("caller", ["anonymous", "another user"])
def test_get_user_hides_email_and_phone_from_anyone_else(
    client: TestClient, sign_up: Callable[..., LoggedInUser], caller: str
) -> None:
    ada = sign_up(phone_number="+44 20 7946 0000")
    headers = {} if caller == "anonymous" else sign_up().headers

    response = client.get(f"/users/{ada.id}", headers=headers)

    assert response.status_code == 200
    shown = response.json()
    assert shown["id"] == ada.id
    assert shown["email"] is None
    assert shown["phone_number"] is None
    assert datetime.fromisoformat(shown["created_at"])


def test_get_user_with_a_bad_token_returns_401(client: TestClient, user: LoggedInUser) -> None:
    response = client.get(f"/users/{user.id}", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401


def test_get_missing_user_returns_404(client: TestClient) -> None:
    response = client.get("/users/999")

    assert response.status_code == 404

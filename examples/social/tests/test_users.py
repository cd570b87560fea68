"""POST /users/ and GET /users/{id}."""

from datetime import datetime

from fastapi.testclient import TestClient


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


def test_get_user_returns_200(client: TestClient) -> None:
    created = client.post("/users/", json={"email": "ada@example.com", "password": "12345678"})

    response = client.get(f"/users/{created.json()['id']}")

    assert response.status_code == 200
    assert response.json() == created.json()


def test_get_missing_user_returns_404(client: TestClient) -> None:
    response = client.get("/users/999")

    assert response.status_code == 404

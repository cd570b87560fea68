"""POST /login, and what a missing or bad token gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import jwt
import pytest
from fastapi.testclient import TestClient

from social.app import app
from social.security import user_id_from_token
from social.settings import Settings

if TYPE_CHECKING:
    from conftest import LoggedInUser


def test_login_returns_a_bearer_token_for_the_user(client: TestClient, user: LoggedInUser) -> None:
    response = client.post("/login", data={"username": user.email, "password": user.password})

    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert user_id_from_token(token["access_token"], app.state.settings) == user.id


@pytest.mark.parametrize("wrong", ["email", "password"])
def test_login_with_a_wrong_email_or_password_returns_403(
    client: TestClient, user: LoggedInUser, wrong: str
) -> None:
    form = {"username": user.email, "password": user.password}
    form["username" if wrong == "email" else "password"] = "wrong@example.com"

    response = client.post("/login", data=form)

    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid Credentials"}


def test_login_takes_a_form_not_json(client: TestClient, user: LoggedInUser) -> None:
    response = client.post("/login", json={"username": user.email, "password": user.password})

    assert response.status_code == 422


def make_token(settings: Settings, **claims: object) -> str:
    return jwt.encode(claims, settings.signing_key(), algorithm=settings.jwt_algorithm)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param(lambda user_id: "Bearer not-a-token", id="garbage"),
        pytest.param(
            lambda user_id: (
                "Bearer "
                + jwt.encode(
                    {"sub": str(user_id), "exp": 2**31},
                    "a different secret, long enough for HS256",
                    algorithm="HS256",
                )
            ),
            id="wrong-signature",
        ),
        pytest.param(
            lambda user_id: (
                "Bearer "
                + make_token(
                    app.state.settings,
                    sub=str(user_id),
                    exp=datetime.now(UTC) - timedelta(minutes=1),
                )
            ),
            id="expired",
        ),
        pytest.param(
            lambda user_id: "Bearer " + make_token(app.state.settings, sub="999", exp=2**31),
            id="unknown-user",
        ),
    ],
)
def test_a_missing_or_bad_token_returns_401_asking_for_bearer(
    client: TestClient, user: LoggedInUser, authorization: Callable[[int], str] | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization(user.id)}

    response = client.get("/posts/", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"

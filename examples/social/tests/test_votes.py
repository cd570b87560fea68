"""POST /vote/: dir 1 adds the caller's vote, dir 0 takes it back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import LoggedInUser


@pytest.fixture
def post(client: TestClient, user: LoggedInUser) -> dict[str, Any]:
    response = client.post(
        "/posts/", json={"title": "Vote me", "content": "!"}, headers=user.headers
    )
    created: dict[str, Any] = response.json()
    return created


def cast(client: TestClient, user: LoggedInUser, post_id: int, direction: int) -> Any:
    return client.post("/vote/", json={"post_id": post_id, "dir": direction}, headers=user.headers)


def votes_on(client: TestClient, user: LoggedInUser, post_id: int) -> int:
    votes: int = client.get(f"/posts/{post_id}", headers=user.headers).json()["votes"]
    return votes


def test_voting_returns_201_and_counts(
    client: TestClient, user: LoggedInUser, post: dict[str, Any]
) -> None:
    response = cast(client, user, post["id"], 1)

    assert response.status_code == 201
    assert response.json() == {"message": "Vote added"}
    assert votes_on(client, user, post["id"]) == 1


def test_voting_twice_returns_409(
    client: TestClient, user: LoggedInUser, post: dict[str, Any]
) -> None:
    cast(client, user, post["id"], 1)

    response = cast(client, user, post["id"], 1)

    assert response.status_code == 409
    assert votes_on(client, user, post["id"]) == 1


def test_taking_a_vote_back_returns_201(
    client: TestClient, user: LoggedInUser, post: dict[str, Any]
) -> None:
    cast(client, user, post["id"], 1)

    response = cast(client, user, post["id"], 0)

    assert response.status_code == 201
    assert response.json() == {"message": "Vote removed"}
    assert votes_on(client, user, post["id"]) == 0


def test_taking_back_a_vote_never_cast_returns_404(
    client: TestClient, user: LoggedInUser, post: dict[str, Any]
) -> None:
    response = cast(client, user, post["id"], 0)

    assert response.status_code == 404
    assert response.json() == {"detail": "Vote does not exist"}


@pytest.mark.parametrize("direction", [0, 1])
def test_voting_on_a_missing_post_returns_404(
    client: TestClient, user: LoggedInUser, direction: int
) -> None:
    response = cast(client, user, 999, direction)

    assert response.status_code == 404
    assert response.json() == {"detail": "Post 999 not found"}


def test_a_direction_other_than_0_or_1_returns_422(
    client: TestClient, user: LoggedInUser, post: dict[str, Any]
) -> None:
    response = cast(client, user, post["id"], 2)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "dir"]


def test_voting_needs_a_token(client: TestClient, post: dict[str, Any]) -> None:
    response = client.post("/vote/", json={"post_id": post["id"], "dir": 1})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"

"""/posts: listing with votes, paging and search; creating, reading, replacing, deleting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

if TYPE_CHECKING:
    from conftest import LoggedInUser


def new_post(client: TestClient, user: LoggedInUser, **changes: Any) -> dict[str, Any]:
    body = {"title": "A first post", "content": "Hello, world"} | changes
    response = client.post("/posts/", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def vote(client: TestClient, user: LoggedInUser, post_id: int) -> None:
    response = client.post("/vote/", json={"post_id": post_id, "dir": 1}, headers=user.headers)
    assert response.status_code == 201, response.text


def test_create_returns_201_with_the_caller_as_owner(
    client: TestClient, user: LoggedInUser
) -> None:
    response = client.post(
        "/posts/", json={"title": "Hello", "content": "World"}, headers=user.headers
    )

    assert response.status_code == 201
    post = response.json()
    assert post["owner_id"] == user.id
    assert post["owner"]["email"] == user.email
    assert post["published"] is True
    assert datetime.fromisoformat(post["created_at"])
    assert response.headers["location"].endswith(f"/posts/{post['id']}")


def test_create_rejects_a_missing_title_with_422(client: TestClient, user: LoggedInUser) -> None:
    response = client.post("/posts/", json={"content": "No title"}, headers=user.headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]


def test_list_returns_200_with_each_posts_vote_count(
    client: TestClient, sign_up: Callable[[], LoggedInUser]
) -> None:
    alice, bob = sign_up(), sign_up()
    popular = new_post(client, alice, title="Popular")
    quiet = new_post(client, bob, title="Quiet")
    vote(client, alice, popular["id"])
    vote(client, bob, popular["id"])

    response = client.get("/posts/", headers=alice.headers)

    assert response.status_code == 200
    votes = {post["id"]: post["votes"] for post in response.json()}
    assert votes == {popular["id"]: 2, quiet["id"]: 0}


def test_list_pages_with_limit_and_skip(client: TestClient, user: LoggedInUser) -> None:
    ids = [new_post(client, user, title=f"Post {number}")["id"] for number in range(12)]

    first_page = client.get("/posts/", headers=user.headers).json()
    second_page = client.get("/posts/", params={"skip": 10}, headers=user.headers).json()
    three = client.get("/posts/", params={"limit": 3}, headers=user.headers).json()

    assert len(first_page) == 10
    assert sorted(post["id"] for post in first_page + second_page) == sorted(ids)
    assert [post["id"] for post in three] == [post["id"] for post in first_page[:3]]


def test_list_searches_titles(client: TestClient, user: LoggedInUser) -> None:
    match = new_post(client, user, title="Migrations made easy")
    new_post(client, user, title="Something else", content="migrations in the content only")
    new_post(client, user, title="100% coverage")

    found = client.get("/posts/", params={"search": "MIGRATION"}, headers=user.headers).json()
    percent = client.get("/posts/", params={"search": "0%"}, headers=user.headers).json()
    literal = client.get("/posts/", params={"search": "n%e"}, headers=user.headers).json()

    assert [post["id"] for post in found] == [match["id"]]
    assert [post["title"] for post in percent] == ["100% coverage"]
    assert literal == []


def test_list_rejects_a_negative_skip_with_422(client: TestClient, user: LoggedInUser) -> None:
    response = client.get("/posts/", params={"skip": -1}, headers=user.headers)

    assert response.status_code == 422


def test_get_returns_200_with_the_vote_count(client: TestClient, user: LoggedInUser) -> None:
    post = new_post(client, user)
    vote(client, user, post["id"])

    response = client.get(f"/posts/{post['id']}", headers=user.headers)

    assert response.status_code == 200
    assert response.json() == post | {"votes": 1}


def test_get_missing_post_returns_404(client: TestClient, user: LoggedInUser) -> None:
    response = client.get("/posts/999", headers=user.headers)

    assert response.status_code == 404


def test_put_replaces_the_post_and_returns_200(client: TestClient, user: LoggedInUser) -> None:
    post = new_post(client, user)
    replacement = {"title": "Edited", "content": "New words", "published": False}

    response = client.put(f"/posts/{post['id']}", json=replacement, headers=user.headers)

    assert response.status_code == 200
    assert response.json() == post | replacement
    assert client.get(f"/posts/{post['id']}", headers=user.headers).json()["title"] == "Edited"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_changing_a_missing_post_returns_404(
    client: TestClient, user: LoggedInUser, method: str
) -> None:
    body = {"title": "Edited", "content": "New words"}

    response = client.request(method, "/posts/999", json=body, headers=user.headers)

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_changing_someone_elses_post_returns_403(
    client: TestClient, sign_up: Callable[[], LoggedInUser], method: str
) -> None:
    owner, other = sign_up(), sign_up()
    post = new_post(client, owner)
    body = {"title": "Edited", "content": "New words"}

    response = client.request(method, f"/posts/{post['id']}", json=body, headers=other.headers)

    assert response.status_code == 403
    assert (
        client.get(f"/posts/{post['id']}", headers=owner.headers).json()["title"] == post["title"]
    )


def test_delete_returns_204_and_removes_the_post(client: TestClient, user: LoggedInUser) -> None:
    post = new_post(client, user)
    vote(client, user, post["id"])

    response = client.delete(f"/posts/{post['id']}", headers=user.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/posts/{post['id']}", headers=user.headers).status_code == 404


def test_list_reads_posts_owners_and_votes_in_one_query(
    client: TestClient, sign_up: Callable[[], LoggedInUser], migrated_engine: Engine
) -> None:
    alice, bob = sign_up(), sign_up()
    for number in range(3):
        post = new_post(client, alice if number % 2 else bob, title=f"Post {number}")
        vote(client, alice, post["id"])
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(migrated_engine, "before_cursor_execute", record)
    try:
        response = client.get("/posts/", headers=alice.headers)
    finally:
        event.remove(migrated_engine, "before_cursor_execute", record)

    assert [post["votes"] for post in response.json()] == [1, 1, 1]
    assert len([statement for statement in statements if "posts" in statement]) == 1

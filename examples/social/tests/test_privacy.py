"""Personal data and drafts: a user's email and phone number are shown to that user only, in
/users/{id} and wherever a post embeds its owner; a draft is seen by its author only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import LoggedInUser

PHONE = "+44 20 7946 0000"


def new_post(client: TestClient, author: LoggedInUser, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/posts/", json={"title": "Hello", "content": "!"} | changes, headers=author.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_posts_show_their_owners_contact_details_to_the_owner_only(
    client: TestClient, sign_up: Callable[..., LoggedInUser]
) -> None:
    ada, bob = sign_up(phone_number=PHONE), sign_up()
    post = new_post(client, ada)

    for caller, expected in [(ada, (ada.email, PHONE)), (bob, (None, None))]:
        listed = client.get("/posts/", headers=caller.headers).json()
        by_id = client.get(f"/posts/{post['id']}", headers=caller.headers).json()
        for shown in (listed[0], by_id):
            assert shown["owner"]["id"] == ada.id
            assert (shown["owner"]["email"], shown["owner"]["phone_number"]) == expected
    assert (post["owner"]["email"], post["owner"]["phone_number"]) == (ada.email, PHONE)


def test_a_draft_is_listed_for_its_author_only(
    client: TestClient, sign_up: Callable[..., LoggedInUser]
) -> None:
    ada, bob = sign_up(), sign_up()
    published = new_post(client, ada, title="Out")
    draft = new_post(client, ada, title="Draft", published=False)
    bobs_draft = new_post(client, bob, title="Bob's draft", published=False)

    def listed_for(caller: LoggedInUser) -> set[int]:
        return {post["id"] for post in client.get("/posts/", headers=caller.headers).json()}

    assert listed_for(ada) == {published["id"], draft["id"]}
    assert listed_for(bob) == {published["id"], bobs_draft["id"]}


def test_someone_elses_draft_is_not_found_by_id_for_reading_changing_or_voting(
    client: TestClient, sign_up: Callable[..., LoggedInUser]
) -> None:
    ada, bob = sign_up(), sign_up()
    draft = new_post(client, ada, title="Draft", published=False)
    url = f"/posts/{draft['id']}"
    body = {"title": "Taken over", "content": "?"}

    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.put(url, json=body, headers=bob.headers).status_code == 404
    assert client.delete(url, headers=bob.headers).status_code == 404
    vote = {"post_id": draft["id"], "dir": 1}
    assert client.post("/vote/", json=vote, headers=bob.headers).status_code == 404

    assert client.get(url, headers=ada.headers).json()["title"] == "Draft"
    assert client.post("/vote/", json=vote, headers=ada.headers).status_code == 201


@pytest.mark.parametrize("published", [True, False])
def test_publishing_and_unpublishing_changes_who_sees_the_post(
    client: TestClient, sign_up: Callable[..., LoggedInUser], published: bool
) -> None:
    ada, bob = sign_up(), sign_up()
    post = new_post(client, ada, published=not published)
    body = {"title": post["title"], "content": post["content"], "published": published}

    replaced = client.put(f"/posts/{post['id']}", json=body, headers=ada.headers)

    assert replaced.status_code == 200
    seen_by_bob = client.get(f"/posts/{post['id']}", headers=bob.headers)
    assert seen_by_bob.status_code == (200 if published else 404)

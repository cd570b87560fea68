"""What every answer promises: out-of-range numbers are refused, never a 500; times carry
their UTC offset; bodies over the limit get 413; the OpenAPI document lists every answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from social.app import app
from social.models import MAX_ID, Post, User

if TYPE_CHECKING:
    from conftest import LoggedInUser

# Past the 32-bit INTEGER of PostgreSQL and MariaDB, past SQLite's 64-bit one, and below 1.
OUT_OF_RANGE = [MAX_ID + 1, 2**63, 2**64, 10**30, 0, -1, -(2**63) - 1]


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_ids_out_of_range_are_refused_with_422(
    client: TestClient, user: LoggedInUser, number: int
) -> None:
    answers = {
        "GET /users": client.get(f"/users/{number}"),
        "GET /posts": client.get(f"/posts/{number}", headers=user.headers),
        "PUT /posts": client.put(
            f"/posts/{number}", json={"title": "t", "content": "c"}, headers=user.headers
        ),
        "DELETE /posts": client.delete(f"/posts/{number}", headers=user.headers),
        "POST /vote": client.post(
            "/vote/", json={"post_id": number, "dir": 1}, headers=user.headers
        ),
        "skip": client.get("/posts/", params={"skip": number}, headers=user.headers),
        "limit": client.get("/posts/", params={"limit": number}, headers=user.headers),
    }

    statuses = {asked: answer.status_code for asked, answer in answers.items()}
    if number == 0:  # a valid offset
        assert statuses.pop("skip") == 200
    assert statuses == dict.fromkeys(statuses, 422)


def test_the_largest_id_reaches_the_database_and_is_not_found(
    client: TestClient, user: LoggedInUser
) -> None:
    vote = {"post_id": MAX_ID, "dir": 1}

    assert client.get(f"/users/{MAX_ID}").status_code == 404
    assert client.get(f"/posts/{MAX_ID}", headers=user.headers).status_code == 404
    assert client.post("/vote/", json=vote, headers=user.headers).status_code == 404
    skipped = client.get("/posts/", params={"skip": MAX_ID}, headers=user.headers)
    assert (skipped.status_code, skipped.json()) == (200, [])


@pytest.mark.parametrize(
    "subject",
    [str(MAX_ID + 1), str(2**63), "9" * 5000, "0", "-1", "+1", " 1", "1.0", "1e3", "\u0661"],
)
def test_a_token_naming_no_possible_user_is_a_401(
    client: TestClient, user: LoggedInUser, subject: str
) -> None:
    settings = app.state.settings
    claims = {"sub": subject, "exp": datetime.now(UTC) + timedelta(minutes=5)}
    token = jwt.encode(claims, settings.signing_key(), algorithm=settings.jwt_algorithm)

    response = client.get("/posts/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_created_at_is_now_in_utc_with_its_offset(client: TestClient, user: LoggedInUser) -> None:
    post = client.post("/posts/", json={"title": "t", "content": "c"}, headers=user.headers)
    me = client.get(f"/users/{user.id}", headers=user.headers)

    for created_at in (post.json()["created_at"], me.json()["created_at"]):
        moment = datetime.fromisoformat(created_at)
        assert moment.utcoffset() == timedelta(0), created_at
        assert abs(moment - datetime.now(UTC)) < timedelta(minutes=5), created_at


def test_a_time_in_another_zone_is_stored_as_the_same_moment(
    client: TestClient, user: LoggedInUser, migrated_session: Session
) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    migrated_session.add(Post(title="t", content="c", owner_id=user.id, created_at=moment))
    migrated_session.commit()

    [post] = client.get("/posts/", headers=user.headers).json()

    assert post["created_at"] == "2026-03-29T06:30:00Z"
    stored = migrated_session.get(User, user.id)
    assert stored is not None and stored.created_at.tzinfo == UTC


LIMIT = app.state.settings.max_body_bytes


def test_a_body_at_the_limit_is_accepted(client: TestClient, user: LoggedInUser) -> None:
    body = '{"title": "t", "content": "%s"}'
    content = "x" * (LIMIT - len(body % ""))

    response = client.post(
        "/posts/",
        content=body % content,
        headers=user.headers | {"Content-Type": "application/json"},
    )

    assert response.status_code == 201


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_with_413_and_not_stored(
    client: TestClient, user: LoggedInUser, declared: bool
) -> None:
    body = b'{"title": "big", "content": "' + b"x" * LIMIT + b'"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post(
        "/posts/",
        content=body if declared else chunks(),
        headers=user.headers | {"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is over the limit of {LIMIT} bytes"}
    assert client.get("/posts/", headers=user.headers).json() == []


def test_a_sign_up_over_the_limit_is_refused_with_413(client: TestClient) -> None:
    body = {"email": "ada@example.com", "password": "p" * LIMIT}

    assert client.post("/users/", json=body).status_code == 413


DOCUMENTED = {
    ("post", "/users/"): {"201", "400", "409", "413", "422"},
    ("get", "/users/{user_id}"): {"200", "401", "404", "422"},
    ("post", "/login"): {"200", "400", "403", "413", "422"},
    ("get", "/posts/"): {"200", "401", "422"},
    ("post", "/posts/"): {"201", "400", "401", "413", "422"},
    ("get", "/posts/{post_id}"): {"200", "401", "404", "422"},
    ("put", "/posts/{post_id}"): {"200", "400", "401", "403", "404", "413", "422"},
    ("delete", "/posts/{post_id}"): {"204", "401", "403", "404", "422"},
    ("post", "/vote/"): {"201", "400", "401", "404", "409", "413", "422"},
}


def test_the_openapi_document_lists_every_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    documented = {
        (method, path): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }

    assert documented == DOCUMENTED
    ids = paths["/posts/{post_id}"]["get"]["parameters"][0]["schema"]
    assert (ids["minimum"], ids["maximum"]) == (1, MAX_ID)


def test_text_with_a_nul_character_is_refused_on_every_backend(
    client: TestClient, user: LoggedInUser
) -> None:
    """PostgreSQL cannot store or compare it: refused before any query, on every backend."""
    post = {"title": "t", "content": "c"}
    account = {"email": "nul@example.com", "password": "correct horse", "phone_number": "1"}

    answers = {
        "title": client.post("/posts/", json=post | {"title": "a\x00b"}, headers=user.headers),
        "content": client.post("/posts/", json=post | {"content": "\x00"}, headers=user.headers),
        "search": client.get("/posts/", params={"search": "\x00"}, headers=user.headers),
        "email": client.post("/users/", json=account | {"email": "a\x00@example.com"}),
        "phone": client.post("/users/", json=account | {"phone_number": "\x00"}),
    }

    assert {field: answer.status_code for field, answer in answers.items()} == dict.fromkeys(
        answers, 422
    )
    login = client.post("/login", data={"username": "\x00", "password": "correct horse"})
    assert login.status_code == 403

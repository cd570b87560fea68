"""What every answer promises: out-of-range ids are refused, never a 500; bodies over the
limit get 413; the OpenAPI document lists every answer."""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from todo.app import app
from todo.models import MAX_ID

# Past the 32-bit INTEGER of PostgreSQL and MariaDB, past SQLite's 64-bit one, and below 1.
OUT_OF_RANGE = [MAX_ID + 1, 2**63, 2**64, 10**30, 0, -1, -(2**63) - 1]
TASK = {"name": "Water the plants", "priority": 3, "due_date": str(date.today())}


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_ids_out_of_range_are_refused_with_422(client: TestClient, number: int) -> None:
    statuses = {
        method: client.request(method, f"/api/todo/{number}", json=TASK).status_code
        for method in ("GET", "PUT", "DELETE")
    }

    assert statuses == {"GET": 422, "PUT": 422, "DELETE": 422}


def test_the_largest_id_reaches_the_database_and_is_not_found(client: TestClient) -> None:
    statuses = {
        method: client.request(method, f"/api/todo/{MAX_ID}", json=TASK).status_code
        for method in ("GET", "PUT", "DELETE")
    }

    assert statuses == {"GET": 404, "PUT": 404, "DELETE": 404}


LIMIT = app.state.settings.max_body_bytes


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_with_413_and_not_stored(
    client: TestClient, declared: bool
) -> None:
    body = b'{"name": "' + b"x" * LIMIT + b'", "priority": 1, "due_date": "2030-01-01"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post(
        "/api/todo/",
        content=body if declared else chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is over the limit of {LIMIT} bytes"}
    assert client.get("/api/todo/").json() == []


def test_a_body_under_the_limit_is_read(client: TestClient) -> None:
    padded = '{"name": "Water the plants", "priority": 3, "due_date": "%s"%s}'
    body = padded % (date.today() + timedelta(days=1), " " * (LIMIT - 200))

    response = client.post("/api/todo/", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 201


DOCUMENTED = {
    ("get", "/api/todo/"): {"200", "422"},
    ("post", "/api/todo/"): {"201", "400", "413", "422"},
    ("get", "/api/todo/{task_id}"): {"200", "404", "422"},
    ("put", "/api/todo/{task_id}"): {"200", "400", "404", "413", "422"},
    ("delete", "/api/todo/{task_id}"): {"204", "404", "422"},
    ("get", "/ready"): {"200", "503"},
}


def test_the_openapi_document_lists_every_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    documented = {
        (method, path): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }

    assert documented == DOCUMENTED
    ids = paths["/api/todo/{task_id}"]["get"]["parameters"][0]["schema"]
    assert (ids["minimum"], ids["maximum"]) == (1, MAX_ID)


def test_a_name_with_a_nul_character_is_refused_on_every_backend(client: TestClient) -> None:
    """PostgreSQL cannot store it: refused before any query, on every backend."""
    response = client.post("/api/todo/", json=TASK | {"name": "Water\x00 the plants"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]

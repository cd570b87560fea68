"""Every /api/todo endpoint and status code, against a database built by the migrations."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from todo.models import Task

TODAY = date.today()


def task_body(**changes: Any) -> dict[str, Any]:
    body = {"name": "Water the plants", "priority": 3, "due_date": str(TODAY + timedelta(days=7))}
    return body | changes


def create(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/todo/", json=task_body(**changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_returns_201_the_task_and_its_location(client: TestClient) -> None:
    response = client.post("/api/todo/", json=task_body())

    assert response.status_code == 201
    task = response.json()
    assert task["name"] == "Water the plants"
    assert task["priority"] == 3
    assert task["done"] is False
    assert datetime.fromisoformat(task["created_at"])
    assert response.headers["location"].endswith(f"/api/todo/{task['id']}")
    assert client.get(response.headers["location"]).json() == task


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Tiny"),
        ("name", "x" * 101),
        ("priority", 0),
        ("priority", 10),
        ("due_date", str(TODAY - timedelta(days=1))),
        ("due_date", str(TODAY + timedelta(days=367))),
    ],
)
def test_create_rejects_invalid_fields_with_422_naming_the_field(
    client: TestClient, field: str, value: Any
) -> None:
    response = client.post("/api/todo/", json=task_body(**{field: value}))

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


def test_create_accepts_the_bounds(client: TestClient) -> None:
    create(client, name="x" * 5, priority=1, due_date=str(TODAY))
    create(client, name="x" * 100, priority=9, due_date=str(TODAY + timedelta(days=365)))


def test_list_returns_200_with_every_task_by_default(client: TestClient) -> None:
    first = create(client, name="First task")
    second = create(client, name="Second task", done=True)

    response = client.get("/api/todo/")

    assert response.status_code == 200
    assert {task["id"] for task in response.json()} == {first["id"], second["id"]}


def test_list_filters_out_done_tasks(client: TestClient) -> None:
    open_task = create(client, name="Still to do")
    create(client, name="Finished already", done=True)

    response = client.get("/api/todo/", params={"include_done": False})

    assert [task["id"] for task in response.json()] == [open_task["id"]]


def test_list_filters_by_due_date(client: TestClient) -> None:
    soon = create(client, name="Due tomorrow", due_date=str(TODAY + timedelta(days=1)))
    create(client, name="Due next month", due_date=str(TODAY + timedelta(days=30)))

    response = client.get("/api/todo/", params={"due_before": str(TODAY + timedelta(days=2))})

    assert [task["id"] for task in response.json()] == [soon["id"]]


def test_list_filters_in_sql(client: TestClient, migrated_engine: Engine) -> None:
    create(client, name="Still to do")
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(migrated_engine, "before_cursor_execute", record)
    try:
        due_before = str(TODAY + timedelta(days=2))
        client.get("/api/todo/", params={"include_done": False, "due_before": due_before})
    finally:
        event.remove(migrated_engine, "before_cursor_execute", record)

    [query] = [statement for statement in statements if statement.startswith("SELECT")]
    where = query.partition("WHERE")[2]
    assert "tasks.done" in where
    assert "tasks.due_date <" in where


def test_list_rejects_a_bad_date_with_422(client: TestClient) -> None:
    response = client.get("/api/todo/", params={"due_before": "next week"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "due_before"]


def test_get_returns_200_and_the_task(client: TestClient) -> None:
    task = create(client)

    response = client.get(f"/api/todo/{task['id']}")

    assert response.status_code == 200
    assert response.json() == task


def test_get_returns_404_for_a_missing_task(client: TestClient) -> None:
    response = client.get("/api/todo/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_created_at_is_returned_as_stored_in_utc(
    client: TestClient, migrated_session: Session
) -> None:
    stored = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    task = Task(name="Old task", priority=2, due_date=TODAY, created_at=stored)
    migrated_session.add(task)
    migrated_session.commit()

    response = client.get(f"/api/todo/{task.id}")

    assert response.json()["created_at"] == "2024-05-06T05:08:09Z"


def test_created_at_is_now_with_its_utc_offset(client: TestClient) -> None:
    created_at = datetime.fromisoformat(create(client)["created_at"])

    assert created_at.utcoffset() == timedelta(0)
    assert abs(created_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_put_replaces_the_task_and_returns_200(client: TestClient) -> None:
    task = create(client)
    replacement = task_body(name="Repot the cactus", priority=8, done=True)

    response = client.put(f"/api/todo/{task['id']}", json=replacement)

    assert response.status_code == 200
    replaced = response.json()
    assert replaced | {"id": task["id"], "created_at": task["created_at"]} == replaced
    assert {key: replaced[key] for key in replacement} == replacement
    assert client.get(f"/api/todo/{task['id']}").json() == replaced


def test_put_returns_404_for_a_missing_task(client: TestClient) -> None:
    response = client.put("/api/todo/999", json=task_body())

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_put_rejects_invalid_fields_with_422(client: TestClient) -> None:
    task = create(client)

    response = client.put(f"/api/todo/{task['id']}", json=task_body(priority=12))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "priority"]


def test_delete_returns_204_and_removes_the_task(client: TestClient) -> None:
    task = create(client)

    response = client.delete(f"/api/todo/{task['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/todo/{task['id']}").status_code == 404


def test_delete_returns_404_for_a_missing_task(client: TestClient) -> None:
    response = client.delete("/api/todo/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}

"""The /api/todo endpoints."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import select

from todo.database import SessionDep
from todo.models import Task
from todo.schemas import BODY_ANSWERS, NOT_FOUND, TaskId, TaskIn, TaskOut

router = APIRouter(prefix="/api/todo", tags=["tasks"])

TASK_NOT_FOUND = "Task not found"
PathTaskId = Annotated[TaskId, Path()]


def get_task_or_404(session: SessionDep, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=TASK_NOT_FOUND)
    return task


@router.get("/", response_model=list[TaskOut])
def list_tasks(
    session: SessionDep,
    include_done: Annotated[bool, Query(description="Also list finished tasks.")] = True,
    due_before: Annotated[date | None, Query(description="Only tasks due before this day.")] = None,
) -> list[Task]:
    query = select(Task).order_by(Task.due_date, Task.priority, Task.id)
    if not include_done:
        query = query.where(Task.done.is_(False))
    if due_before is not None:
        query = query.where(Task.due_date < due_before)
    return list(session.scalars(query))


@router.post(
    "/", response_model=TaskOut, status_code=status.HTTP_201_CREATED, responses=BODY_ANSWERS
)
def create_task(task_in: TaskIn, session: SessionDep, request: Request, response: Response) -> Task:
    task = Task(**task_in.model_dump())
    session.add(task)
    session.commit()
    session.refresh(task)  # created_at comes from the database
    response.headers["Location"] = str(request.url_for("get_task", task_id=task.id))
    return task


@router.get("/{task_id}", response_model=TaskOut, responses=NOT_FOUND)
def get_task(task_id: PathTaskId, session: SessionDep) -> Task:
    return get_task_or_404(session, task_id)


@router.put("/{task_id}", response_model=TaskOut, responses=NOT_FOUND | BODY_ANSWERS)
def replace_task(task_id: PathTaskId, task_in: TaskIn, session: SessionDep) -> Task:
    task = get_task_or_404(session, task_id)
    for field, value in task_in.model_dump().items():
        setattr(task, field, value)
    session.commit()
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_task(task_id: PathTaskId, session: SessionDep) -> None:
    session.delete(get_task_or_404(session, task_id))
    session.commit()

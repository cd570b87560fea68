"""What the API accepts and returns."""

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from todo.models import MAX_ID

#: A task id as the API takes it: anything outside the column's range cannot name a row, and is
#: refused with 422 before it reaches a query (where it would overflow the column type).
TaskId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: No NUL characters: PostgreSQL's text types cannot hold one, so every backend refuses it alike
#: (422) rather than PostgreSQL failing the query.
TaskName = Annotated[
    str,
    Field(min_length=5, max_length=100, pattern=r"^[^\x00]*$", examples=["Write the report"]),
]
Priority = Annotated[int, Field(ge=1, le=9, description="1 is the most urgent, 9 the least.")]


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + timedelta(days=365)


class TaskIn(BaseModel):
    """A task as a client writes it (POST creates one, PUT replaces one)."""

    name: TaskName
    priority: Priority
    due_date: date = Field(description="From today to one year ahead.")
    done: bool = False

    @field_validator("due_date")
    @classmethod
    def due_within_a_year(cls, due_date: date) -> date:
        today = date.today()
        if not today <= due_date <= one_year_after(today):
            raise ValueError(
                f"due_date must be from today ({today}) to one year ahead ({one_year_after(today)})"
            )
        return due_date


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    priority: int
    due_date: date
    done: bool
    created_at: Annotated[AwareDatetime, Field(description="Set by the database, in UTC.")]


class Problem(BaseModel):
    """Every error answer but 422 (whose detail lists the fields at fault)."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such task"}
}
#: Every endpoint that reads a body can answer these.
BODY_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "The body could not be read: not UTF-8 text",
    },
    413: {
        "model": Problem,
        "description": "The request body is over the size limit (MAX_BODY_BYTES, 64 KiB by default)",
    },
}

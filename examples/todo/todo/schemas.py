"""What the API accepts and returns."""

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

TaskName = Annotated[str, Field(min_length=5, max_length=100, examples=["Write the report"])]
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
    created_at: datetime

"""The tables, as SQLAlchemy 2 typed models. Migrations create them; the app never does."""

from datetime import date, datetime

from sqlalchemy import DateTime, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: migrations can then drop or alter them on every backend (SQLite's
# batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int]
    due_date: Mapped[date]
    # "0" is a default every backend reads as false (a boolean column's literal differs).
    done: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Set by the database on insert, so every writer (and every backend) agrees.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

"""The tables, as SQLAlchemy 2 typed models. Migrations create them; the app never does."""

from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Dialect, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: The largest id the tables hold on every backend: INTEGER is 32-bit on PostgreSQL and
#: MariaDB (SQLite's is 64-bit). The API refuses larger numbers before they reach a query.
MAX_ID = 2**31 - 1

# Named constraints: migrations can then drop or alter them on every backend (SQLite's
# batch mode needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, always read back with its UTC offset.

    PostgreSQL keeps TIMESTAMP WITH TIME ZONE; SQLite and MariaDB keep the bare wall-clock
    time, and hand it back naive. Here that time is UTC: values are written in UTC, SQLite's
    CURRENT_TIMESTAMP is UTC, and the app's MariaDB sessions use UTC (database.py).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # a naive time given to the app means UTC, as stored
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

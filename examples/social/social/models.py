"""The tables, as SQLAlchemy 2 typed models. Migrations create them; the app never does."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, ForeignKey, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
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


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # "1" is a default every backend reads as true (a boolean column's literal differs).
    published: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    owner: Mapped["User"] = relationship(back_populates="posts")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    phone_number: Mapped[str | None] = mapped_column(String(32))

    # The database deletes a user's posts and votes (ON DELETE CASCADE); the session lets it.
    posts: Mapped[list[Post]] = relationship(back_populates="owner", passive_deletes=True)


class Vote(Base):
    __tablename__ = "votes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )

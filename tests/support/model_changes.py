"""Model changes people make, each as the models before and after (the fidelity corpus).

Every model here also serves the "no noise" check: once migrated, ``make`` on the same models
must write nothing, so the tables carry the column types that backends reflect differently.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    func,
    text,
)

from tests.support.fidelity import Change


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


def users(
    metadata: MetaData, *extra: Any, name: str = "users", phone: str | None = "phone"
) -> Table:
    columns: list[Any] = [
        Column("id", Integer, primary_key=True),
        Column("email", String(200), nullable=False),
    ]
    if phone:
        columns.append(Column(phone, String(50)))
    return Table(name, metadata, *columns, *extra)


def posts(
    metadata: MetaData, *extra: Any, ondelete: str | None = "CASCADE", users_table: str = "users"
) -> Table:
    return Table(
        "posts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", String(200), nullable=False),
        Column(
            "owner_id", Integer, ForeignKey(f"{users_table}.id", ondelete=ondelete), nullable=False
        ),
        *extra,
    )


USERS_ROWS = {
    "users": [
        {"id": 1, "email": "a@example.com", "phone": "555-1"},
        {"id": 2, "email": "b@example.com", "phone": None},
    ]
}
POSTS_ROWS = {**USERS_ROWS, "posts": [{"id": 1, "title": "hello", "owner_id": 1}]}


def _with(*extra_columns: Any, table_args: tuple[Any, ...] = ()) -> Any:
    def build(metadata: MetaData) -> None:
        # a Column belongs to one table: each build gets its own copies
        users(metadata, *[c._copy() for c in extra_columns], *table_args)

    return build


def _phone(length: int) -> Any:
    def build(metadata: MetaData) -> None:
        Table(
            "users",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("email", String(200), nullable=False),
            Column("phone", String(length)),
        )

    return build


def _users(metadata: MetaData) -> None:
    users(metadata)


def _users_posts(metadata: MetaData) -> None:
    users(metadata)
    posts(metadata)


def _mood(
    values: tuple[str, ...], *, name: str = "mood", native: bool = True, schema_tables: int = 1
) -> Any:
    def build(metadata: MetaData) -> None:
        mood = Enum(*values, name=name, native_enum=native, create_constraint=not native)
        users(metadata, Column("mood", mood, nullable=True))
        if schema_tables > 1:
            Table(
                "moods_log", metadata, Column("id", Integer, primary_key=True), Column("mood", mood)
            )

    return build


def _mood_with_default(values: tuple[str, ...]) -> Any:
    def build(metadata: MetaData) -> None:
        mood = Enum(*values, name="mood")
        users(metadata, Column("mood", mood, server_default="happy", nullable=False))

    return build


def _enum_rows(value: str = "happy") -> dict[str, list[dict[str, Any]]]:
    return {"users": [{"id": 1, "email": "a@example.com", "phone": None, "mood": value}]}


def _everything(metadata: MetaData) -> None:
    """Types and defaults every backend reflects in its own way."""
    Table(
        "things",
        metadata,
        Column("id", Integer, Identity(), primary_key=True),
        Column("flag", Boolean, server_default=false(), nullable=False),
        Column("flag_text", Boolean, server_default="1", nullable=False),
        Column("payload", JSON),
        Column("price", Numeric(10, 2), server_default="0"),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        Column("plain_at", DateTime, server_default=func.current_timestamp()),
        Column("token", Uuid, default=uuid.uuid4),
        Column("body", Text, comment="the body"),
        Column("label", String(40), server_default="none", comment="a label"),
        Column("count", BigInteger, server_default=text("0")),
        Column("double_price", Numeric(12, 2), Computed("price * 2", persisted=True)),
        CheckConstraint("count >= 0", name="ck_things_count"),
        comment="things of every type",
    )


def _association(metadata: MetaData) -> None:
    users(metadata)
    Table("groups", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
    Table(
        "user_groups",
        metadata,
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    )


def _groups(metadata: MetaData) -> None:
    users(metadata)
    Table("groups", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))


def _schema(extra: bool) -> Any:
    def build(metadata: MetaData) -> None:
        users(metadata)
        columns = [Column("id", Integer, primary_key=True), Column("total", Numeric(10, 2))]
        if extra:
            columns.append(Column("note", String(100)))
        Table("invoices", metadata, *columns, schema="fm_billing")

    return build


def _billing_status(values: tuple[str, ...]) -> Any:
    def build(metadata: MetaData) -> None:
        status = Enum(*values, name="invoice_status", schema="fm_billing")
        Table(
            "invoices",
            metadata,
            Column("id", Integer, primary_key=True),
            Column("status", status),
            schema="fm_billing",
        )

    return build


def _profiles(metadata: MetaData) -> None:
    users(metadata, phone=None)
    Table(
        "profiles",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("phone", String(50)),
    )


CORPUS: list[Change] = [
    Change("add table", lambda m: None, _users),
    Change("drop table", _users_posts, _users, rows=USERS_ROWS, survive={"users": ["id", "email"]}),
    Change(
        "add nullable column",
        _with(),
        _with(Column("nickname", String(40))),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "add NOT NULL column with a server default",
        _with(),
        _with(Column("active", Boolean, server_default=false(), nullable=False)),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "drop column",
        _with(Column("nickname", String(40))),
        _with(),
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
    ),
    Change(
        "rename column",
        _users,
        lambda m: users(m, phone="phone_number"),
        rows=USERS_ROWS,
        renames=("users.phone:users.phone_number",),
        survive={"users": ["id", "phone_number=phone"]},
    ),
    Change(
        "rename an indexed column",
        lambda m: users(m, Index("ix_users_phone", "phone")),
        lambda m: users(m, Index("ix_users_phone_number", "phone_number"), phone="phone_number"),
        rows=USERS_ROWS,
        renames=("users.phone:users.phone_number",),
        survive={"users": ["id", "phone_number=phone"]},
    ),
    Change(
        "rename table",
        _users,
        lambda m: users(m, name="members"),
        rows=USERS_ROWS,
        renames=("users:members",),
        survive={"members": ["id", "email", "phone"]},
    ),
    Change(
        "rename a table other tables point at",
        _users_posts,
        lambda m: (users(m, name="members"), posts(m, users_table="members")),
        rows=POSTS_ROWS,
        renames=("users:members",),
        survive={"members": ["id", "email"]},
    ),
    Change(
        "widen a string", _users, _phone(120), rows=USERS_ROWS, survive={"users": ["id", "phone"]}
    ),
    Change(
        "narrow a string (values fit)",
        _users,
        _phone(20),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "integer to big integer",
        _with(Column("visits", Integer)),
        _with(Column("visits", BigInteger)),
        rows={"users": [{"id": 1, "email": "a", "phone": None, "visits": 7}]},
        survive={"users": ["id", "visits"]},
    ),
    Change(
        "numeric precision",
        _with(Column("balance", Numeric(10, 2))),
        _with(Column("balance", Numeric(14, 4))),
        rows={"users": [{"id": 1, "email": "a", "phone": None, "balance": 12}]},
        survive={"users": ["id"]},
    ),
    Change(
        "string to text",
        _with(Column("bio", String(100))),
        _with(Column("bio", Text)),
        rows={"users": [{"id": 1, "email": "a", "phone": None, "bio": "hello"}]},
        survive={"users": ["id", "bio"]},
    ),
    Change(
        "make a column nullable",
        _with(Column("nickname", String(40), nullable=False)),
        _with(Column("nickname", String(40), nullable=True)),
        rows={"users": [{"id": 1, "email": "a", "phone": None, "nickname": "al"}]},
        survive={"users": ["id", "nickname"]},
    ),
    Change(
        "make a column NOT NULL",
        _with(Column("nickname", String(40), nullable=True)),
        _with(Column("nickname", String(40), nullable=False)),
        rows={"users": [{"id": 1, "email": "a", "phone": None, "nickname": "al"}]},
        survive={"users": ["id", "nickname"]},
    ),
    Change(
        "add a server default",
        _with(Column("status", String(20))),
        _with(Column("status", String(20), server_default="new")),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "change a server default",
        _with(Column("status", String(20), server_default="new")),
        _with(Column("status", String(20), server_default="fresh")),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "drop a server default",
        _with(Column("status", String(20), server_default="new")),
        _with(Column("status", String(20))),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "add an index",
        _users,
        lambda m: users(m, Index("ix_users_phone", "phone")),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "drop an index",
        lambda m: users(m, Index("ix_users_phone", "phone")),
        _users,
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "add a unique index",
        _users,
        lambda m: users(m, Index("ix_users_email", "email", unique=True)),
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
    ),
    Change(
        "add a composite index",
        _users,
        lambda m: users(m, Index("ix_users_email_phone", "email", "phone")),
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
    ),
    Change(
        "add a partial index",
        _users,
        lambda m: users(
            m,
            Index(
                "ix_users_phone_set",
                "phone",
                postgresql_where=text("phone IS NOT NULL"),
                sqlite_where=text("phone IS NOT NULL"),
            ),
        ),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
        backends=("sqlite", "postgres"),
    ),
    Change(
        "add an expression index",
        _users,
        lambda m: users(m, Index("ix_users_email_lower", func.lower(text("email")))),
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
        backends=("postgres",),
    ),
    Change(
        "add a unique constraint",
        _users,
        lambda m: users(m, UniqueConstraint("email", name="uq_users_email")),
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
    ),
    Change(
        "drop a unique constraint",
        lambda m: users(m, UniqueConstraint("email", name="uq_users_email")),
        _users,
        rows=USERS_ROWS,
        survive={"users": ["id", "email"]},
    ),
    Change(
        "add a foreign key with ON DELETE CASCADE",
        lambda m: (
            users(m),
            Table(
                "posts",
                m,
                Column("id", Integer, primary_key=True),
                Column("title", String(200), nullable=False),
                Column("owner_id", Integer, nullable=False),
            ),
        ),
        _users_posts,
        rows=POSTS_ROWS,
        survive={"posts": ["id", "owner_id"]},
    ),
    Change(
        "change ON DELETE of a foreign key",
        _users_posts,
        lambda m: (users(m), posts(m, ondelete="RESTRICT")),
        rows=POSTS_ROWS,
        survive={"posts": ["id", "owner_id"]},
    ),
    Change(
        "drop a foreign key",
        _users_posts,
        lambda m: (
            users(m),
            Table(
                "posts",
                m,
                Column("id", Integer, primary_key=True),
                Column("title", String(200), nullable=False),
                Column("owner_id", Integer, nullable=False),
            ),
        ),
        rows=POSTS_ROWS,
        survive={"posts": ["id", "owner_id"]},
    ),
    Change(
        "add a many-to-many association table",
        _groups,
        _association,
        rows=USERS_ROWS,
        survive={"users": ["id"]},
    ),
    Change(
        "add a table in another schema",
        _users,
        _schema(False),
        backends=("postgres",),
    ),
    Change(
        "add a column to a table in another schema",
        _schema(False),
        _schema(True),
        backends=("postgres",),
    ),
    Change(
        "add a table with an enum column",
        _users,
        lambda m: (
            users(m),
            Table(
                "moods",
                m,
                Column("id", Integer, primary_key=True),
                Column("mood", Enum(Mood, name="mood_kind")),
            ),
        ),
        rows=USERS_ROWS,
        survive={"users": ["id"]},
    ),
    Change(
        "add an enum column",
        _users,
        _mood(("happy", "sad")),
        rows=USERS_ROWS,
        survive={"users": ["id", "phone"]},
    ),
    Change(
        "drop an enum column",
        _mood(("happy", "sad")),
        _users,
        rows=_enum_rows(),
        survive={"users": ["id"]},
    ),
    Change(
        "add an enum value at the end",
        _mood(("happy", "sad")),
        _mood(("happy", "sad", "angry")),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
        no_ddl_on=("sqlite",),
    ),
    Change(
        "add an enum value in the middle",
        _mood(("happy", "sad")),
        _mood(("happy", "calm", "sad")),
        rows=_enum_rows("sad"),
        survive={"users": ["id", "mood"]},
        no_ddl_on=("sqlite",),
    ),
    Change(
        "remove an enum value no row holds",
        _mood(("happy", "sad", "angry")),
        _mood(("happy", "sad")),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
        no_ddl_on=("sqlite",),
    ),
    Change(
        "rename an enum value no row holds",
        _mood(("happy", "sad")),
        _mood(("happy", "unhappy")),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
    ),
    Change(
        "add a value to an enum two tables share",
        _mood(("happy", "sad"), schema_tables=2),
        _mood(("happy", "sad", "angry"), schema_tables=2),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
        no_ddl_on=("sqlite",),
    ),
    Change(
        "add a value to a non-native enum (CHECK constraint)",
        _mood(("happy", "sad"), native=False),
        _mood(("happy", "sad", "angry"), native=False),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
    ),
    Change(
        "remove an enum value from a column with a default",
        _mood_with_default(("happy", "sad", "angry")),
        _mood_with_default(("happy", "sad")),
        rows=_enum_rows(),
        survive={"users": ["id", "mood"]},
        no_ddl_on=("sqlite",),
    ),
    Change(
        "add a value to an enum in another schema",
        _billing_status(("draft", "sent")),
        _billing_status(("draft", "sent", "paid")),
        backends=("postgres",),
    ),
    Change(
        "every type and default, unchanged but one column",
        _everything,
        lambda m: (_everything(m), users(m)),
    ),
    Change(
        "move a column to a new table",
        _users,
        _profiles,
        rows=USERS_ROWS,
        unsafe=True,
    ),
]

"""The table the data-loss guard's tests drop and narrow, and two small ways to reach its rows."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects.engines import run_with_connection

CREATE = (
    'op.create_table("people", sa.Column("id", sa.Integer(), primary_key=True), '
    'sa.Column("note", sa.String(50)), sa.Column("price", sa.Integer()))'
)


def sql(url: str, *statements: str) -> None:
    def run(connection):  # type: ignore[no-untyped-def]
        for statement in statements:
            connection.execute(text(statement))

    run_with_connection(make_url(url), run)


def rows(url: str, table: str = "people") -> list[tuple]:  # type: ignore[type-arg]
    return run_with_connection(
        make_url(url), lambda c: [tuple(r) for r in c.execute(text(f"SELECT * FROM {table}"))]
    )

"""The migration lock's table (lease.py) and the sentences about it: who holds it, and why no
lock can be had."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_alembic.dialects.registry import aliases_of
from fastapi_alembic.errors import ConfigError, DatabaseStateError
from fastapi_alembic.urls import mask_url

LOCK_TABLE = "fastapi_alembic_lock"


def lock_table(schema: str | None, backend: str | None = None) -> Table:
    """The lock's table; ``backend`` (a URL's backend name) adds what MySQL needs."""
    # Row locks: MyISAM would lock the table and ignore FOR SHARE. Given for MySQL alone:
    # SQLAlchemy checks a mysql_ option by loading MySQL's whole dialect.
    mysql: dict[str, Any] = {"mysql_engine": "InnoDB"} if backend in aliases_of("mysql") else {}
    return Table(
        LOCK_TABLE,
        MetaData(),
        Column("name", String(191), primary_key=True),  # 191: an index limit of old MySQL
        Column("token", String(64)),
        Column("holder", String(255)),
        Column("since_ms", BigInteger),
        Column("expires_ms", BigInteger),
        schema=schema,
        **mysql,
    )


def no_lock(error: DBAPIError, url: URL, table: str) -> DatabaseStateError | ConfigError:
    """No safe lock to be had: say what to change, before any migration runs."""
    reason = (str(getattr(error, "orig", error)).strip().splitlines() or ["?"])[0]
    where = f"{mask_url(url)} ({table})"
    if "statement pooling mode" in reason or "statement mode" in reason:
        return ConfigError(
            f"Cannot take the migration lock on {where}: the URL goes through a pooler in "
            "statement mode, where no transaction spans two statements, so nothing can be "
            "migrated safely: use the pooler's transaction or session mode, or connect to "
            "the database directly."
        )
    return DatabaseStateError(
        f"Cannot take the migration lock on {where}: the lock's table {LOCK_TABLE} cannot "
        f"be made or written ({reason}), so nothing was migrated: grant the migration's "
        f"user the right to create and write {LOCK_TABLE} in that schema."
    )


def described(holder: str | None, since_ms: int | None) -> str:
    who = holder or "another migrator"
    if since_ms is None:
        return who
    since = datetime.fromtimestamp(since_ms / 1000, UTC)
    return f"{who} since {since:%Y-%m-%d %H:%M:%S} UTC"

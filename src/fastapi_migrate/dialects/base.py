"""What differs between database backends, gathered per backend in one class each."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL


class DialectSupport:
    """Defaults for a backend with transactional DDL and CREATE/DROP DATABASE."""

    name = "default"
    #: Alembic's batch mode: recreate tables for ALTERs the backend cannot do in place.
    render_as_batch = False
    #: Whether a failed migration is rolled back whole (DDL inside the transaction).
    transactional_ddl = True
    #: The database to connect to while creating or dropping another one.
    maintenance_database: str | None = None

    def prepare_engine(self, engine: Engine) -> None:
        """Adjust a freshly made (sync) engine before first use."""

    def scratch_name(self, purpose: str) -> str:
        return f"fm_{purpose}_{uuid.uuid4().hex[:12]}"

    def database_url(self, url: URL, name: str) -> URL:
        """The URL of database ``name`` on the same server as ``url``."""
        return url.set(database=name)

    def maintenance_url(self, url: URL) -> URL:
        return url.set(database=self.maintenance_database)

    def create_database_sql(self, name: str) -> str:
        return f'CREATE DATABASE "{name}"'

    def drop_database_sql(self, name: str) -> str:
        return f'DROP DATABASE IF EXISTS "{name}"'

    def create_database(self, url: URL, name: str) -> URL:
        """Create an empty database beside ``url``'s and return its URL."""
        from fastapi_migrate.db import run_with_connection

        run_with_connection(
            self.maintenance_url(url),
            lambda conn: conn.execute(text(self.create_database_sql(name))),
            autocommit=True,
        )
        return self.database_url(url, name)

    def drop_database(self, url: URL) -> None:
        """Drop the database that ``url`` names."""
        from fastapi_migrate.db import run_with_connection

        name = url.database or ""
        run_with_connection(
            self.maintenance_url(url),
            lambda conn: conn.execute(text(self.drop_database_sql(name))),
            autocommit=True,
        )

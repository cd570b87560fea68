"""PostgreSQL: transactional DDL; databases made and dropped from the `postgres` database."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fastapi_migrate.dialects.base import DialectSupport, ServerTemplateStore, TemplateStore


class PostgreSQLSupport(DialectSupport):
    name = "postgresql"
    maintenance_database = "postgres"

    def drop_database_sql(self, name: str) -> str:
        # FORCE ends sessions a crashed run left behind (PostgreSQL 13+).
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    def template_store(self, server: URL) -> TemplateStore:
        return PostgreSQLTemplateStore(self, server)

    def schema_extras(self, connection: Connection) -> dict[str, str]:
        # Enum types outlive the tables that use them: a downgrade must drop them itself.
        rows = connection.exec_driver_sql(
            "SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) "
            "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() GROUP BY t.typname"
        ).all()
        return {f"enum type {name}": f"({labels})" for name, labels in rows}


class PostgreSQLTemplateStore(ServerTemplateStore):
    """Templates are real PostgreSQL templates: a copy is one CREATE DATABASE ... TEMPLATE.

    A published template refuses connections (ALLOW_CONNECTIONS false), so nothing can hold
    it open and make a copy fail with "source database is being accessed by other users".
    """

    privilege_hint = "the test user needs CREATEDB (ALTER ROLE <user> CREATEDB)"

    def names(self, prefix: str) -> list[str]:
        found = self.scalars("SELECT datname FROM pg_database")
        return [name for name in found if str(name).startswith(prefix)]

    def exists(self, name: str) -> bool:
        return bool(self.scalars("SELECT 1 FROM pg_database WHERE datname = :name", name=name))

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        self.execute(f"SELECT pg_advisory_lock({number})")
        try:
            yield
        finally:
            self.execute(f"SELECT pg_advisory_unlock({number})")

    def build_target(self, name: str, building: str) -> URL:
        self.execute(f'CREATE DATABASE "{building}"')
        return self.url_of(building)

    def publish(self, built: URL, name: str) -> None:
        building = built.database or ""
        # Migrations leave dead catalog rows behind (every ALTER rewrites some); a copy would
        # copy them too. Compacting once makes every copy smaller and faster (see docs).
        from fastapi_migrate.db import run_with_connection

        run_with_connection(built, lambda c: c.exec_driver_sql("VACUUM FULL"), autocommit=True)
        self.execute(
            f'ALTER DATABASE "{building}" RENAME TO "{name}"',
            f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false',
        )

    def copy(self, template: str, name: str) -> URL:
        for attempt in range(50):
            try:
                self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except DBAPIError as error:
                # Another session may still be leaving the template: wait a moment for it.
                if "being accessed by other users" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        return self.url_of(name)

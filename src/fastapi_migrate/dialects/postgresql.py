"""PostgreSQL: transactional DDL; databases made and dropped from the `postgres` database."""

from __future__ import annotations

from fastapi_migrate.dialects.base import DialectSupport


class PostgreSQLSupport(DialectSupport):
    name = "postgresql"
    maintenance_database = "postgres"

    def drop_database_sql(self, name: str) -> str:
        # FORCE ends sessions a crashed run left behind (PostgreSQL 13+).
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

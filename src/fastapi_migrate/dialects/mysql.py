"""MySQL and MariaDB: DDL commits implicitly, so a failed migration can leave part done."""

from __future__ import annotations

from fastapi_migrate.dialects.base import DialectSupport


class MySQLSupport(DialectSupport):
    name = "mysql"
    transactional_ddl = False
    maintenance_database = None  # connect with no default database

    def create_database_sql(self, name: str) -> str:
        return f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"

    def drop_database_sql(self, name: str) -> str:
        return f"DROP DATABASE IF EXISTS `{name}`"

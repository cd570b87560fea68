"""Alembic environment, wired by FastAPI-Migrate.

The models and the database URL come from [tool.fastapi-migrate] in pyproject.toml and the
DATABASE_URL environment variable, so `fastapi-migrate upgrade` and plain `alembic upgrade head`
both work here. Pass Alembic options through, for example:

    run_migrations(include_object=skip_legacy_tables)
"""

from fastapi_migrate.env import run_migrations

run_migrations()

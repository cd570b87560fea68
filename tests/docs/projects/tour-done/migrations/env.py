"""Alembic environment, wired by FastAPI-Alembic.

The models and the database URL come from [tool.fastapi-alembic] in pyproject.toml and the
DATABASE_URL environment variable, so `fastapi-alembic upgrade` and plain `alembic upgrade head`
both work here. Pass Alembic options through, for example:

    run_migrations(include_object=skip_legacy_tables)
"""

from fastapi_alembic.env import run_migrations

run_migrations()

"""The adoption of existing Alembic folders: `fastapi-alembic adopt`."""

"""The test suite, laid out as src/fastapi_alembic is; shared helpers live in tests.support."""

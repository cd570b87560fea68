import pytest
from sqlalchemy import text
from fastapi_migrate.db import run_with_connection
from sqlalchemy.engine import make_url


def test_fresh_database_answers(fresh_url: str) -> None:
    assert run_with_connection(make_url(fresh_url), lambda c: c.execute(text("SELECT 1")).scalar()) == 1

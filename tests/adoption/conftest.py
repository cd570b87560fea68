"""Fixtures of the adoption tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fastapi_alembic.dialects import for_url


@pytest.fixture
def second_url(fresh_url: str, tmp_path: Path) -> Iterator[str]:
    """Another new database beside ``fresh_url``: the one alembic.ini names."""
    if fresh_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'plain.db'}"
        return
    server = make_url(fresh_url)
    dialect = for_url(server)
    url = dialect.create_database(server, dialect.scratch_name("plain"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dialect.drop_database(url)

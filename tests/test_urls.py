"""URLs (urls.py): the password masked in URLs and free text, bare dialect names, bad input."""

from __future__ import annotations

import pytest

from fastapi_alembic.errors import ConfigError
from fastapi_alembic.urls import mask_text, mask_url, parse_url


def test_mask_url_hides_the_password() -> None:
    assert mask_url("postgresql://bob:hunter2@db/app") == "postgresql://bob:***@db/app"
    assert mask_url("sqlite:///app.db") == "sqlite:///app.db"


def test_mask_text_hides_urls_and_literal_secrets_in_free_text() -> None:
    text = "failed for mysql+pymysql://root:pa55@host/db and again pa55"
    assert mask_text(text, "pa55") == "failed for mysql+pymysql://root:***@host/db and again ***"


def test_bare_dialect_names_get_an_installed_driver() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("mysql://u@h/db").drivername == "mysql+pymysql"
    assert parse_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"


def test_malformed_url() -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        parse_url("just some words")

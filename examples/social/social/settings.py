"""Settings from the environment (or a .env file beside the app)."""

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=APP_ROOT / ".env", extra="ignore")

    #: SQLite beside the app unless DATABASE_URL names PostgreSQL or MariaDB.
    database_url: str = f"sqlite:///{APP_ROOT / 'social.db'}"
    #: Signs the access tokens. Without SECRET_KEY a random one is made at each start, so
    #: tokens stop working on restart: set it wherever the app really runs.
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    jwt_algorithm: str = "HS256"
    access_token_expire_minutes: int = Field(default=30, gt=0)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]

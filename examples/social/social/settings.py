"""Settings from the environment (or a .env file beside the app)."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROOT = Path(__file__).resolve().parents[1]


class MissingSecretKeyError(RuntimeError):
    """The app was started without SECRET_KEY."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=APP_ROOT / ".env", extra="ignore")

    #: SQLite beside the app unless DATABASE_URL names PostgreSQL or MariaDB.
    database_url: str = f"sqlite:///{APP_ROOT / 'social.db'}"
    #: Signs the access tokens; required at start-up. Every process serving the app needs the
    #: same one, or a token made by one is refused by the others. `python -m social` (the
    #: demo) makes one when it is missing and keeps it in a file; nothing else invents one.
    secret_key: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    access_token_expire_minutes: int = Field(default=30, gt=0)
    #: Request bodies over this many bytes are refused with 413.
    max_body_bytes: int = Field(default=64 * 1024, gt=0)

    @field_validator("secret_key")
    @classmethod
    def _empty_is_not_set(cls, key: SecretStr | None) -> SecretStr | None:
        return key if key is not None and key.get_secret_value().strip() else None

    def signing_key(self) -> str:
        if self.secret_key is None:
            raise MissingSecretKeyError(
                "SECRET_KEY is not set: set it (the same value for every process serving the "
                "app) in the environment or in the .env file beside the app, for instance to "
                "the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`; "
                "`python -m social` makes one for the demo."
            )
        return self.secret_key.get_secret_value()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]

"""Settings from the environment (or a .env file beside the app)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=APP_ROOT / ".env", extra="ignore")

    #: SQLite beside the app unless DATABASE_URL names PostgreSQL or MariaDB.
    database_url: str = f"sqlite:///{APP_ROOT / 'todo.db'}"
    #: Request bodies over this many bytes are refused with 413.
    max_body_bytes: int = Field(default=64 * 1024, gt=0)

"""The tour's engine and the session dependency."""

import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
# A relative SQLite path is the project root's, as FastAPI-Alembic reads it.
URL = os.environ.get("DATABASE_URL", "sqlite:///app.db").replace(
    "sqlite:///app.db", f"sqlite:///{ROOT / 'app.db'}"
)
engine = create_engine(URL)


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session

"""The engine, and a session per request."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def create_database_engine(url: str) -> Engine:
    return configure_connections(create_engine(url, pool_pre_ping=True))


def configure_connections(engine: Engine) -> Engine:
    """What every connection the app uses needs, per backend."""
    if engine.dialect.name in ("mysql", "mariadb"):
        # DATETIME has no time zone: NOW() and the values read back are the session's, so
        # the session's is UTC, whatever the server's (models.UTCDateTime relies on it).
        @event.listens_for(engine, "connect")
        def _use_utc(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET time_zone = '+00:00'")

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, from the factory the app was built with."""
    session_factory: sessionmaker[Session] = request.app.state.session_factory
    with session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

"""The application: migrations at start-up, then the routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, status
from sqlalchemy.exc import DBAPIError

from fastapi_alembic import Migrations
from fastapi_alembic.errors import MigrationsError
from todo.body_limit import BodySizeLimit
from todo.database import create_database_engine, create_session_factory
from todo.models import Base
from todo.routes import router
from todo.settings import APP_ROOT, Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_database_engine(settings.database_url)
    migrations = Migrations(metadata=Base, url=settings.database_url, root=APP_ROOT)
    bring_to_head = migrations.lifespan(mode="upgrade")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bring_to_head(app):
            yield
        engine.dispose()

    app = FastAPI(title="To-do API", version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.session_factory = create_session_factory(engine)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(router)

    @app.get("/ready", tags=["health"], responses={503: {"description": NOT_READY}})
    def ready() -> dict[str, bool]:
        """Whether this instance may take traffic: its database is at the revision the code
        expects. Asked on a connection from the app's pool, in milliseconds."""
        try:
            with engine.connect() as connection:
                at_head = migrations.is_up_to_date(connection)
        except (MigrationsError, DBAPIError):  # half done, or the database down: not ready
            at_head = False
        if not at_head:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=NOT_READY)
        return {"ready": True}

    return app


NOT_READY = "The database is not at the revision this code expects"


app = create_app()

"""The application: migrations at start-up, then the routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fastapi_migrate import Migrations
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
    return app


app = create_app()

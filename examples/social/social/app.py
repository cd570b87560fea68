"""The application: the signing key and migrations checked at start-up, then the routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fastapi_alembic import Migrations
from social.body_limit import BodySizeLimit
from social.database import create_database_engine, create_session_factory
from social.models import Base
from social.routers import auth, posts, users, votes
from social.settings import APP_ROOT, Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_database_engine(settings.database_url)
    migrations = Migrations(metadata=Base, url=settings.database_url, root=APP_ROOT)
    bring_to_head = migrations.lifespan(mode="upgrade")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.signing_key()  # no key: refuse to start, before touching the database
        async with bring_to_head(app):
            yield
        engine.dispose()

    app = FastAPI(title="Social API", version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.session_factory = create_session_factory(engine)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in (auth.router, users.router, posts.router, votes.router):
        app.include_router(router)
    return app


app = create_app()

"""The case backend's ASGI application: 接诉即办 lifecycle, dispatch, ratings, rates, Open311."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.db import engine_for, migrate, session_factory
from backend.settings import BackendSettings, get_settings


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        yield

    app = FastAPI(title="Jiesu case backend", version="1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = session_factory(engine)

    @app.get("/health", tags=["health"])
    def health(request: Request) -> JSONResponse:
        try:
            with request.app.state.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception as error:
            return JSONResponse({"status": "unavailable", "error": type(error).__name__}, 503)
        return JSONResponse({"status": "ok"})

    return app

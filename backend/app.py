"""The case backend's ASGI application: 接诉即办 lifecycle, dispatch, ratings, rates, Open311."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.cases.routes import router as cases_router
from backend.db import engine_for, migrate, session_factory
from backend.errors import DomainError
from backend.knowledge.routes import router as knowledge_router
from backend.knowledge.service import knowledge_base
from backend.open311.formats import render_error
from backend.open311.routes import discovery as open311_discovery
from backend.open311.routes import keys as open311_keys
from backend.open311.routes import router as open311_router
from backend.openapi import install as install_openapi
from backend.reference.routes import router as reference_router
from backend.routing.loader import ClassifierHolder
from backend.routing.routes import router as routing_router
from backend.settings import BackendSettings, get_settings
from backend.staff.routes import router as staff_router
from backend.staff.service import ensure_admin
from backend.stats.routes import router as stats_router
from common.body_limit import BodyLimit
from common.limits import RateLimiter

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 1024


def create_app(settings: BackendSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine_for(settings.database_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        admin_password = settings.backend_admin_password
        with sessions.begin() as session:
            ensure_admin(
                session=session, password=admin_password.get_secret_value() if admin_password else None
            )
        knowledge_base()  # built now, not by the first citizen's question
        # Loaded before /health answers: loading takes seconds (20 s on a busy machine), and a first
        # routing or case creation waiting for it would pass the gateway's 5 s timeout.
        await asyncio.to_thread(routing.get)
        yield

    app = FastAPI(
        title="Jiesu case backend",
        version="1.0",
        description="The 12345 hotline's cases: 受理 → 派单 → 签收/退单 → 办理 → 办结 → 回访 → 归档.",
        lifespan=lifespan,
        **settings.api_docs_urls(),
    )
    app.state.settings = settings
    app.state.sessions = sessions
    routing = ClassifierHolder(settings.routing_models_dir)
    app.state.routing = routing
    app.state.router = routing.suggest
    app.state.routing_limiter = RateLimiter(limit=settings.backend_routing_rate_per_minute)
    app.state.open311_limiter = RateLimiter(limit=settings.backend_open311_rate_per_minute)
    routers = (
        cases_router,
        staff_router,
        stats_router,
        reference_router,
        routing_router,
        knowledge_router,
        open311_router,
        open311_discovery,
        open311_keys,
    )
    for router in routers:
        app.include_router(router)
    _add_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=MAX_BODY_BYTES,
        refuse=lambda scope, message: _error(Request(scope), 413, message),
    )

    @app.get("/health", tags=["health"])
    def health(request: Request) -> JSONResponse:
        try:
            with request.app.state.sessions() as session:
                session.execute(text("SELECT 1"))
        except DBAPIError as error:
            log.warning("health: database unavailable: %s", type(error.orig).__name__)
            return JSONResponse({"status": "unavailable"}, 503)
        return JSONResponse({"status": "ok"})

    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        return _error(request, error.status_code, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: {e.get('msg')}"
            for e in error.errors()[:10]
        ]
        return _error(request, 422, "; ".join(problems), details=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        """Unknown paths and methods under /open311 answer in the spec's error format too."""
        if _open311(request):
            return render_error(request.url.path, error.status_code, str(error.detail))
        return await http_exception_handler(request, error)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, error: OperationalError) -> Response:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return _error(request, 503, "the case database is unavailable; nothing was saved, please retry")


def _open311(request: Request) -> bool:
    return request.url.path.startswith("/open311/")


def _error(request: Request, status: int, message: str, details: list[str] | None = None) -> Response:
    """The native API's {"detail": ...}, or Open311's error list (XML or JSON) under /open311."""
    if _open311(request):
        return render_error(request.url.path, status, message)
    body: dict[str, object] = {"detail": message}
    if details:
        body["errors"] = details
    return JSONResponse(body, status)

"""The channel gateway's ASGI application: web chat, Telegram, pushes, operators, all on one core."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated

import httpx
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from common.body_limit import BodyLimit
from common.database import sqlite_pragmas
from common.limits import RateLimiter
from connectors.clock import make_clock
from connectors.console.alerts import AlertFeed
from connectors.console.auth import end_revoked, forget_plaintext_logins
from connectors.console.desk_routes import router as console_desk_router
from connectors.console.hub import ConsoleHub
from connectors.console.routes import router as console_router
from connectors.console.takeover import Takeover
from connectors.core.conversation import ConversationCore
from connectors.core.rasa_pool import RasaPool
from connectors.push.feed import CaseFeed
from connectors.security import SecurityHeaders
from connectors.settings import GatewaySettings, get_settings
from connectors.sms.aliyun import AliyunSms
from connectors.sms.channel import SmsAdapter, SmsUpdates
from connectors.sms.routes import router as sms_router
from connectors.telegram.runner import TelegramRunner
from connectors.telegram.webhook import MAX_UPDATE_BYTES
from connectors.telegram.webhook import router as telegram_router
from connectors.upgrade import upgrade
from connectors.webchat import errors as webchat_errors
from connectors.webchat.channel import WebChatAdapter
from connectors.webchat.routes import STATIC as WEBCHAT_STATIC
from connectors.webchat.routes import router as webchat_router
from connectors.webchat.uploads import router as webchat_uploads_router
from connectors.wechat.api import WeChatApi
from connectors.wechat.channel import PassiveReplies, WeChatAdapter
from connectors.wechat.crypto import MessageCrypto
from connectors.wechat.routes import WeChatCallbacks
from connectors.wechat.routes import router as wechat_router
from connectors.wiring import Gateway, wired

log = logging.getLogger(__name__)
# Citizens' messages are at most CHAT_MAX_MESSAGE_CHARS (2,000) characters, operators' alike; Telegram's
# updates have their own limit (MAX_UPDATE_BYTES), a web chat photo CHAT_MAX_PHOTO_MB. Telegram's and
# WeChat's photos reach the gateway only by its own download.
MAX_BODY_BYTES = 64 * 1024


def async_url(url: str) -> str:
    """Pick the asyncio driver for a database URL (aiosqlite, psycopg)."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    if url.startswith(("postgresql:", "postgresql+psycopg:")):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    return url


def make_async_engine(url: str) -> AsyncEngine:
    """The gateway's engine; bound parameters (citizens' messages) never appear in errors or logs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(async_url(url), connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(
        async_url(url), pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


async def retry_pending(core: ConversationCore, interval_s: float) -> None:
    """Keep answering messages that wait for the bot (it was down or busy) or were left unanswered,
    from start-up on (a stopped gateway may have left some)."""
    while True:
        try:
            await core.recover()
            answered = await core.process_pending()
            if answered:
                log.info("answered %d queued replies", answered)
        except Exception:
            log.exception("retrying queued messages failed")
        await asyncio.sleep(interval_s)


async def watch_console_logins(gateway: Gateway) -> None:
    """End console logins (and their WebSockets) within seconds of their end in the backend."""
    service_token = gateway.settings.backend_service_token.get_secret_value()
    while True:
        await asyncio.sleep(gateway.settings.console_session_check_s)
        try:
            ended = await end_revoked(gateway.sessions, gateway.console_backend, service_token, gateway.hub)
            if ended:
                log.info("ended %d console logins the backend no longer honours", ended)
        except Exception:
            log.exception("checking console logins failed")


async def service_healthy(url: str) -> bool:
    """Whether a service's health endpoint answers 200 within two seconds."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


def start_wechat(settings: GatewaySettings, core: ConversationCore) -> WeChatCallbacks | None:
    """The WeChat Official Account channel, when its settings are there (off otherwise, like Telegram)."""
    if not settings.wechat_on:
        log.info("WeChat is off: WECHAT_TOKEN is not set")
        return None
    assert settings.wechat_token and settings.wechat_app_id and settings.wechat_app_secret
    token = settings.wechat_token.get_secret_value()
    api = WeChatApi(
        base_url=settings.wechat_api_base_url,
        app_id=settings.wechat_app_id,
        app_secret=settings.wechat_app_secret.get_secret_value(),
    )
    crypto = None
    aes = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else ""
    if aes:
        crypto = MessageCrypto(token=token, encoding_aes_key=aes, app_id=settings.wechat_app_id)
    passive = PassiveReplies()
    fields = [f.strip() for f in settings.wechat_template_fields.split(",") if f.strip()]
    template = settings.wechat_template_id or None
    core.add_adapter(WeChatAdapter(api, passive, template_id=template, template_fields=fields))
    uploads = settings.data_path("uploads")
    uploads.mkdir(parents=True, exist_ok=True)
    log.info("WeChat is on (%s mode)", "safe" if crypto else "plaintext")
    return WeChatCallbacks(
        token=token,
        crypto=crypto,
        api=api,
        passive=passive,
        uploads=uploads,
        passive_s=settings.wechat_passive_reply_s,
        max_skew_s=settings.wechat_max_skew_s,
    )


def start_sms(
    settings: GatewaySettings, core: ConversationCore
) -> tuple[SmsUpdates | None, AliyunSms | None]:
    """SMS updates for citizens who called, when a provider is configured (off otherwise)."""
    if not settings.sms_on:
        log.info("SMS is off: SMS_ACCESS_KEY_ID is not set")
        return None, None
    assert settings.sms_access_key_secret is not None
    provider = AliyunSms(
        base_url=settings.sms_api_base_url,
        access_key_id=settings.sms_access_key_id or "",
        access_key_secret=settings.sms_access_key_secret.get_secret_value(),
        sign_name=settings.sms_sign_name or "",
        timeout_s=settings.sms_timeout_s,
    )
    templates = {
        "accepted": settings.sms_template_accepted or "",
        "resolved": settings.sms_template_resolved or "",
        "rated": settings.sms_template_rated or "",
    }
    core.add_adapter(SmsAdapter(provider, core.sessions, templates))
    log.info("SMS is on (Alibaba Cloud SMS)")
    return SmsUpdates(core, core.sessions), provider


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_async_engine(settings.database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        secret_key = settings.gateway_secret_key.get_secret_value()
        await upgrade(engine, sessions, key=secret_key, tracker_url=settings.tracker_store_url)
        await forget_plaintext_logins(engine)
        rasa = RasaPool(  # a pool of one for a single server
            urls=settings.rasa_urls,
            token=settings.rasa_token.get_secret_value(),
            timeout_s=settings.rasa_timeout_s,
        )
        core = ConversationCore(
            sessions=sessions,
            rasa=rasa,
            max_chars=settings.chat_max_message_chars,
            secret_key=secret_key,
            max_in_flight=settings.rasa_max_in_flight,
            max_waiting=settings.rasa_max_waiting,
            queue_wait_s=settings.rasa_queue_wait_s,
        )
        core.actions_healthy = partial(service_healthy, f"{settings.actions_url}/health")
        webchat = WebChatAdapter(sessions, core)
        core.add_adapter(webchat)
        uploads = settings.data_path("uploads")
        uploads.mkdir(parents=True, exist_ok=True)
        console_backend = httpx.AsyncClient(
            base_url=settings.backend_url.rstrip("/"), timeout=settings.backend_timeout_s
        )
        takeover = Takeover(core, bot=rasa, sessions=sessions)
        hub = ConsoleHub(takeover, settings.console_disconnect_grace_s)
        core.listeners.append(hub.listener)
        telegram: TelegramRunner | None = None
        if settings.telegram_bot_token is None:
            log.info("Telegram is off: TELEGRAM_BOT_TOKEN is not set")
        else:
            telegram = TelegramRunner(settings, core, uploads, sessions)
            telegram.start()
        wechat = start_wechat(settings, core)
        sms, sms_provider = start_sms(settings, core)
        feed = CaseFeed(
            sessions=sessions,
            core=core,
            bot=rasa,
            sms=sms,
            backend_url=settings.backend_url,
            token=settings.backend_service_token.get_secret_value(),
            timeout_s=settings.backend_timeout_s,
        )
        alerts = AlertFeed(
            sessions=sessions,
            hub=hub,
            backend=console_backend,
            token=settings.backend_service_token.get_secret_value(),
        )
        clock = make_clock(settings)
        await asyncio.to_thread(clock.start)
        gateway = Gateway(
            settings=settings,
            sessions=sessions,
            core=core,
            bot=rasa,
            webchat=webchat,
            uploads=uploads,
            chat_limiter=RateLimiter(limit=settings.chat_messages_per_minute),
            session_limiter=RateLimiter(limit=settings.chat_sessions_per_minute),
            console_backend=console_backend,
            takeover=takeover,
            hub=hub,
            feed=feed,
            clock=clock,
            telegram=telegram,
            wechat=wechat,
            sms=sms,
        )
        app.state.gateway = gateway
        workers = [
            asyncio.create_task(retry_pending(core, settings.retry_interval_s)),
            asyncio.create_task(core.outbox.run()),
            asyncio.create_task(feed.run(settings.feed_interval_s)),
            asyncio.create_task(alerts.run(settings.feed_interval_s)),
            asyncio.create_task(watch_console_logins(gateway)),
        ]
        try:
            yield
        finally:
            for worker in workers:
                worker.cancel()
            for worker in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            if telegram is not None:
                await telegram.stop()
            if wechat is not None:
                await wechat.close()
            await feed.close()
            if sms_provider is not None:
                await sms_provider.close()
            await asyncio.to_thread(clock.stop)
            clock.leases.engine.dispose()
            await console_backend.aclose()
            await rasa.close()
            await engine.dispose()

    app = FastAPI(title="Jiesu channel gateway", version="1.0", lifespan=lifespan, **settings.api_docs_urls())
    photo_bytes = settings.chat_max_photo_mb * 1024 * 1024
    app.add_middleware(
        BodyLimit,
        max_bytes=MAX_BODY_BYTES,
        paths={"/telegram/webhook": MAX_UPDATE_BYTES, webchat_errors.PHOTO_PATH: photo_bytes},
        refuse=webchat_errors.body_refusal(settings.chat_max_photo_mb),
    )
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, a refused body's too
    webchat_errors.install(app)
    app.include_router(webchat_router)
    app.include_router(webchat_uploads_router)
    app.include_router(telegram_router)
    app.include_router(wechat_router)
    app.include_router(sms_router)
    app.include_router(console_router)
    app.include_router(console_desk_router)
    app.mount("/chat/static", StaticFiles(directory=WEBCHAT_STATIC), name="chat-static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/chat/")

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> JSONResponse:
        """Up or down, and nothing more: this answers anyone."""
        if not await database_up(request):
            return JSONResponse({"status": "unavailable"}, 503)
        return JSONResponse({"status": "ok"})

    @app.get("/health/details", tags=["health"])
    async def health_details(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        """The bot, each Rasa server and Telegram: for our own services (the service token) only."""
        token = settings.backend_service_token.get_secret_value()
        if not hmac.compare_digest(f"Bearer {token}".encode(), (authorization or "").encode()):
            raise HTTPException(401, "the service token is required")
        if not await database_up(request):
            return JSONResponse({"status": "unavailable"}, 503)
        rasa = wired(request).bot
        telegram = wired(request).telegram
        return JSONResponse(
            {
                "status": "ok",
                "bot": "up" if await rasa.healthy() else "down",
                "bot_servers": await rasa.status() if len(rasa.urls) > 1 else None,
                "telegram": telegram.state if telegram else "off",
                "wechat": "on" if wired(request).wechat else "off",
                "sms": "on" if wired(request).sms else "off",
            }
        )

    return app


async def database_up(request: Request) -> bool:
    try:
        async with wired(request).sessions() as session:
            await session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health: database unavailable: %s", type(error).__name__)
        return False
    return True

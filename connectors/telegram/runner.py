"""Start Telegram beside the other channels, and keep trying while Telegram cannot be reached."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from connectors.core.conversation import ConversationCore
from connectors.settings import GatewaySettings
from connectors.telegram.bot import build_application
from connectors.telegram.channel import TelegramAdapter
from connectors.telegram.updates import StoredUpdates

log = logging.getLogger(__name__)


class TelegramRunner:
    def __init__(
        self,
        settings: GatewaySettings,
        core: ConversationCore,
        uploads: Path,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.settings = settings
        self.core = core
        self.uploads = uploads
        self.sessions = sessions
        self.application: Application | None = None
        self.updates: StoredUpdates | None = None
        self.state = "starting"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.uploads.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._start_until_up())

    async def _start_until_up(self) -> None:
        delay = 1.0
        while True:
            application = build_application(self.settings, self.core, self.uploads, self.sessions)
            updates: StoredUpdates = application.bot_data["updates"]
            try:
                await application.initialize()
                await application.start()
                replayed = await updates.replay(application.bot)
                if replayed:
                    log.info("handling %d Telegram updates again that were stored but not handled", replayed)
                await self._receive(application)
            except TelegramError as error:
                log.warning("Telegram not reachable (%s); retrying in %.0f s", type(error).__name__, delay)
                self.state = "unreachable"
                await _quietly_shut(application)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            self.application, self.updates = application, updates
            self.core.add_adapter(TelegramAdapter(application.bot))
            self.state = f"on ({self.settings.telegram_mode})"
            log.info("Telegram is on (%s)", self.settings.telegram_mode)
            return

    async def _receive(self, application: Application) -> None:
        if self.settings.telegram_mode == "polling":
            assert application.updater is not None
            await application.bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            return
        secret = self.settings.telegram_webhook_secret
        await application.bot.set_webhook(
            url=f"{self.settings.public_url}/telegram/webhook",
            secret_token=secret.get_secret_value() if secret else None,
            allowed_updates=Update.ALL_TYPES,
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.application is not None:
            await _quietly_shut(self.application)


async def _quietly_shut(application: Application) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    try:
        await application.shutdown()
    except (TelegramError, RuntimeError) as error:
        log.debug("Telegram shutdown: %s", error)

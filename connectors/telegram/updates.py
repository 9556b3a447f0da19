"""Telegram updates stored before Telegram is told they arrived, and handled again if they were not.

Telegram forgets an update once it is acknowledged: in polling mode by the offset of the next
getUpdates call, in webhook mode by the 200 answer. python-telegram-bot's updater awaits the update
queue's `put` for each update it fetched before it asks for more, and the webhook route awaits it
before answering, so an update is in the database before either acknowledgement. It is marked done
once its handlers ran without an error; one left undone (the gateway stopped, a handler failed) is
queued again at the next start, at most MAX_ATTEMPTS times, then kept as failed for someone to read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, Update
from telegram.ext import SimpleUpdateProcessor

from connectors.core.models import SeenUpdate, UpdateState

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class StoredUpdates(asyncio.Queue[object]):
    """The application's update queue: every Telegram update is stored before it is queued."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.sessions = sessions
        self.failed: set[int] = set()  # updates whose handlers raised (the error handler says so)

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self.take(item)
        else:
            await super().put(item)  # the application's own signals

    async def take(self, update: Update) -> bool:
        """Store an update and queue it; False (and nothing queued) when it was seen before."""
        async with self.sessions() as session:
            session.add(
                SeenUpdate(update_id=update.update_id, state=UpdateState.RECEIVED, payload=update.to_dict())
            )
            try:
                await session.commit()
            except IntegrityError:
                return False
        await super().put(update)
        return True

    async def replay(self, bot: Bot) -> int:
        """Queue again the updates stored but never handled; return how many."""
        async with self.sessions() as session:
            rows = list(
                await session.scalars(
                    select(SeenUpdate)
                    .where(SeenUpdate.state == UpdateState.RECEIVED)
                    .order_by(SeenUpdate.update_id)
                )
            )
            again: list[dict[str, Any]] = []
            for row in rows:
                row.attempts += 1
                if row.attempts > MAX_ATTEMPTS or row.payload is None:
                    row.state = UpdateState.FAILED
                    log.error(
                        "Telegram update %s failed %d times; kept as failed", row.update_id, MAX_ATTEMPTS
                    )
                else:
                    again.append(row.payload)
            await session.commit()
        for payload in again:
            await super().put(Update.de_json(payload, bot))
        return len(again)

    async def finish(self, update_id: int) -> None:
        """Mark an update handled and forget its content, unless its handlers failed."""
        if update_id in self.failed:
            self.failed.discard(update_id)
            return
        async with self.sessions() as session:
            await session.execute(
                update(SeenUpdate)
                .where(SeenUpdate.update_id == update_id)
                .values(state=UpdateState.DONE, payload=None)
            )
            await session.commit()


class FinishingProcessor(SimpleUpdateProcessor):
    """Handle updates concurrently, and mark each one done once its handlers ran."""

    def __init__(self, max_concurrent_updates: int, updates: StoredUpdates) -> None:
        super().__init__(max_concurrent_updates)
        self.updates = updates

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine
        if isinstance(update, Update):
            await self.updates.finish(update.update_id)

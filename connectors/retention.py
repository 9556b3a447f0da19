"""Retention for the gateway: transcripts of conversations idle longer than the retention period are
deleted, with the photos citizens sent; what the backend keeps about cases is anonymised there."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.models import ConsoleSession, Conversation, Message, OutboxItem, SeenUpdate, utcnow

SEEN_UPDATES_KEPT = timedelta(days=7)


async def forget_idle(
    sessions: async_sessionmaker[AsyncSession], uploads: Path, *, days: int, now: datetime | None = None
) -> tuple[int, int]:
    """Delete idle conversations with their transcripts, and old uploads; return (conversations, files)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    async with sessions() as session:
        idle = list(
            await session.scalars(select(Conversation.id).where(Conversation.last_message_at < cutoff))
        )
        for chunk in (idle[i : i + 500] for i in range(0, len(idle), 500)):
            await session.execute(delete(OutboxItem).where(OutboxItem.conversation_id.in_(chunk)))
            await session.execute(delete(Message).where(Message.conversation_id.in_(chunk)))
            await session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))
        await session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < now - SEEN_UPDATES_KEPT))
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        await session.commit()
    return len(idle), await asyncio.to_thread(_delete_old_files, uploads, days)


def _delete_old_files(folder: Path, days: int) -> int:
    oldest = time.time() - days * 86400
    deleted = 0
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < oldest:
                path.unlink()
                deleted += 1
    return deleted

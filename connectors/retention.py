"""Retention for the gateway and the bot's memory, by the age of each message.

After the retention period the gateway forgets: conversations idle that long (with their whole
transcript), every older message of a conversation still going on (a Telegram chat can last for
years), the photos citizens sent, and the events of Rasa's tracker store (what citizens said, the
slots the bot filled: names, phones, addresses). What the backend keeps about cases is anonymised
there (`python -m backend retention`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, Float, MetaData, Table, delete, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.core.models import (
    ConsoleSession,
    Conversation,
    Message,
    MessageState,
    OutboxItem,
    SeenInbound,
    SeenUpdate,
    utcnow,
)

SEEN_UPDATES_KEPT = timedelta(days=7)
UNANSWERED = (MessageState.RECEIVED, MessageState.PENDING)  # kept until answered, then forgotten
# Rasa's SQL tracker store keeps one row per event, its time in seconds since the epoch
TRACKER_EVENTS = Table("events", MetaData(), Column("timestamp", Float))


@dataclass(frozen=True)
class Forgotten:
    conversations: int
    messages: int  # of conversations still going on
    files: int
    tracker_events: int


async def forget_old(
    sessions: async_sessionmaker[AsyncSession],
    uploads: Path,
    *,
    days: int,
    tracker_store: AsyncEngine | None = None,
    now: datetime | None = None,
) -> Forgotten:
    """Delete what is older than `days` days: idle conversations, messages, uploads, tracker events."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    conversations = await _forget_idle(sessions, cutoff)
    messages = await _forget_messages(sessions, cutoff)
    files = await asyncio.to_thread(_delete_old_files, uploads, cutoff.timestamp())
    events = await forget_tracker_events(tracker_store, cutoff) if tracker_store is not None else 0
    return Forgotten(conversations=conversations, messages=messages, files=files, tracker_events=events)


async def _forget_idle(sessions: async_sessionmaker[AsyncSession], cutoff: datetime) -> int:
    async with sessions() as session:
        idle = list(
            await session.scalars(select(Conversation.id).where(Conversation.last_message_at < cutoff))
        )
        for chunk in (idle[i : i + 500] for i in range(0, len(idle), 500)):
            await session.execute(delete(OutboxItem).where(OutboxItem.conversation_id.in_(chunk)))
            await session.execute(delete(Message).where(Message.conversation_id.in_(chunk)))
            await session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))
        await session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < utcnow() - SEEN_UPDATES_KEPT))
        await session.execute(delete(SeenInbound).where(SeenInbound.seen_at < utcnow() - SEEN_UPDATES_KEPT))
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < utcnow()))
        await session.commit()
    return len(idle)


async def _forget_messages(sessions: async_sessionmaker[AsyncSession], cutoff: datetime) -> int:
    """Delete messages older than the cutoff in conversations still going on (not those unanswered)."""
    old = select(Message.id).where(Message.created_at < cutoff, Message.state.not_in(UNANSWERED))
    async with sessions() as session:
        ids = list(await session.scalars(old))
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            await session.execute(delete(OutboxItem).where(OutboxItem.message_id.in_(chunk)))
            await session.execute(delete(Message).where(Message.id.in_(chunk)))
        await session.commit()
    return len(ids)


async def forget_tracker_events(tracker_store: AsyncEngine, cutoff: datetime) -> int:
    """Delete the events of Rasa's SQL tracker store older than the cutoff. A conversation going on
    keeps its newer events, from which Rasa rebuilds its tracker (older slot values are forgotten)."""
    async with tracker_store.begin() as connection:
        if not await connection.run_sync(lambda sync: inspect(sync).has_table(TRACKER_EVENTS.name)):
            return 0  # Rasa has not run against this store yet
        result = await connection.execute(
            delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.timestamp < cutoff.timestamp())
        )
    return int(result.rowcount or 0)


def _delete_old_files(folder: Path, oldest: float) -> int:
    deleted = 0
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < oldest:
                path.unlink()
                deleted += 1
    return deleted

"""The outbox: every message to a citizen is delivered at least once, in order, retried with back-off.

A transcript message enters the outbox once (unique), is claimed by a worker with a lease, handed to
its channel's adapter, and marked sent. A transient failure (rate limit, 5xx, timeout) reschedules
it; the oldest undelivered message of a conversation holds back the later ones, so order is kept.
After a crash, a claimed message whose lease ran out is tried again.

Each round claims the oldest undelivered message of every conversation whose turn it is, however
long another conversation's backlog (a round once read the first 1,000 undelivered messages, so one
conversation's backlog could keep every other waiting), and no database session is open while a
channel sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from connectors.core.models import Conversation, Message, OutboxItem, OutboxState, utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 600.0
CLAIMED_PER_ROUND = 200  # conversations served in one round, the longest due first


class TransientFailure(Exception):
    """Try again later (after `retry_after` seconds when the channel says so)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The channel will never take this message (the citizen blocked the bot, the chat is gone)."""


class Held(Exception):
    """The channel can deliver this message only after the citizen writes again (WeChat lets an
    account answer a citizen for 48 hours after their last message). A held message does not hold
    back the conversation's later messages; `release` makes it due when the citizen is back."""


class Transmitter(Protocol):
    name: str

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        """Send one message; return the channel's id for it. Raise Transient/PermanentFailure."""
        ...


def backoff(attempts: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, ... seconds, at most ten minutes."""
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.transmitters: dict[str, Transmitter] = {}
        self._wake = asyncio.Event()

    def enqueue(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        """Queue stored messages in the caller's transaction; call `wake` after committing."""
        for message in messages:
            session.add(OutboxItem(message_id=message.id, conversation_id=message.conversation_id))

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle_s: float = 1.0) -> None:
        """Deliver due messages until cancelled."""
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:
                log.exception("outbox round failed")
                delivered = 0
            if not delivered:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=idle_s)

    async def deliver_due(self) -> int:
        """One round: claim the oldest due message of each conversation and deliver it."""
        claimed = await self._claim()
        results = await asyncio.gather(
            *(self._deliver(item_id) for item_id in claimed), return_exceptions=True
        )
        for item_id, result in zip(claimed, results, strict=True):
            if isinstance(result, BaseException):  # its lease runs out and it is tried again
                log.error("delivery of outbox item %s failed", item_id, exc_info=result)
        return sum(r for r in results if isinstance(r, int))

    async def _claim(self) -> list[int]:
        now = utcnow()
        undelivered = (OutboxState.PENDING, OutboxState.SENDING)
        heads = (
            select(func.min(OutboxItem.id).label("id"))
            .where(OutboxItem.state.in_(undelivered))
            .group_by(OutboxItem.conversation_id)
            .subquery()
        )
        async with self.sessions() as session:
            due = list(
                await session.scalars(
                    select(OutboxItem.id)
                    .join(heads, OutboxItem.id == heads.c.id)
                    .where(OutboxItem.next_attempt_at <= now)
                    .order_by(OutboxItem.next_attempt_at)
                    .limit(CLAIMED_PER_ROUND)
                )
            )
            claimed = []
            for item_id in due:
                result = await session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id == item_id,
                        OutboxItem.next_attempt_at <= now,
                        OutboxItem.state.in_(undelivered),
                    )
                    .values(
                        state=OutboxState.SENDING,
                        next_attempt_at=now + LEASE,
                        attempts=OutboxItem.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(item_id)
            await session.commit()
        return claimed

    async def _deliver(self, item_id: int) -> int:
        async with self.sessions() as session:
            item = await session.get_one(
                OutboxItem,
                item_id,
                options=[selectinload(OutboxItem.message), selectinload(OutboxItem.conversation)],
            )
        transmitter = self.transmitters.get(item.conversation.channel)
        try:
            if transmitter is None:
                raise TransientFailure(f"no adapter for {item.conversation.channel}")
            external_id = await transmitter.transmit(item.conversation, item.message)
        except TransientFailure as failure:
            delay = max(failure.retry_after or 0.0, backoff(item.attempts))
            log.warning(
                "delivery of message %s failed (%s), retry in %.0f s", item.message_id, failure, delay
            )
            await self._settle(
                item_id,
                state=OutboxState.PENDING,
                last_error=str(failure)[:200],
                next_attempt_at=utcnow() + timedelta(seconds=delay),
            )
            return 0
        except PermanentFailure as failure:
            log.warning("message %s cannot be delivered: %s", item.message_id, failure)
            await self._settle(item_id, state=OutboxState.FAILED, last_error=str(failure)[:200])
            return 0
        except Held as held:
            log.info("message %s held until the citizen writes again: %s", item.message_id, held)
            await self._settle(item_id, state=OutboxState.HELD, last_error=str(held)[:200])
            return 0
        await self._settle(item_id, state=OutboxState.SENT, sent_at=utcnow(), external_id=external_id)
        return 1

    async def release(self, conversation_id: int) -> int:
        """Make a conversation's held messages due again (its citizen wrote); return how many."""
        async with self.sessions() as session:
            result = await session.execute(
                update(OutboxItem)
                .where(OutboxItem.conversation_id == conversation_id, OutboxItem.state == OutboxState.HELD)
                .values(state=OutboxState.PENDING, next_attempt_at=utcnow())
            )
            await session.commit()
        released = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if released:
            self.wake()
        return released

    async def _settle(self, item_id: int, **values: object) -> None:
        """Record how a delivery went, in a short transaction of its own."""
        async with self.sessions() as session:
            await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(**values))
            await session.commit()

"""The outbox and the rating triggers: one conversation's backlog or failure holds back no other, and
no database session is open while a channel sends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from connectors.app import make_async_engine
from connectors.core.models import (
    Author,
    Base,
    Conversation,
    Direction,
    Message,
    OutboxItem,
    OutboxState,
    PendingRating,
    utcnow,
)
from connectors.core.outbox import Outbox, TransientFailure
from connectors.push.feed import CaseFeed
from tests.connectors.test_turns import core_on, in_own_thread, with_fake_rasa
from tests.fakes.rasa import FakeRasa


class Channel:
    """A channel that records what it sends; it can hold each send until released, or refuse one chat."""

    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.sending = 0  # sends under way
        self.release = asyncio.Event()
        self.release.set()
        self.limited: set[str] = set()  # chats answering 429
        self.broken: set[str] = set()  # chats whose send raises something unexpected

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        self.sending += 1
        await self.release.wait()
        if conversation.identity in self.limited:
            raise TransientFailure("rate limited (429)", retry_after=30)
        if conversation.identity in self.broken:
            raise RuntimeError("a bug in the channel")
        self.sent.append(message.text)
        return str(message.id)


async def outbox_on(tmp_path: Path) -> tuple[Outbox, Channel, AsyncEngine]:
    engine = make_async_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    outbox = Outbox(async_sessionmaker(engine, expire_on_commit=False))
    channel = Channel()
    outbox.transmitters[channel.name] = channel
    return outbox, channel, engine


async def queue(outbox: Outbox, chat: str, texts: list[str]) -> int:
    """Queue messages to one Telegram chat in bulk; return the conversation's id."""
    async with outbox.sessions() as session:
        conversation = Conversation(channel="telegram", identity=chat, sender_id=f"telegram-{chat}")
        session.add(conversation)
        await session.flush()
        rows = [
            {
                "conversation_id": conversation.id,
                "direction": Direction.OUT,
                "author": Author.SYSTEM,
                "text": t,
            }
            for t in texts
        ]
        await session.execute(insert(Message), rows)
        ids = list(
            await session.scalars(select(Message.id).where(Message.conversation_id == conversation.id))
        )
        await session.execute(
            insert(OutboxItem), [{"message_id": i, "conversation_id": conversation.id} for i in ids]
        )
        await session.commit()
        return conversation.id


async def a_long_backlog_does_not_starve_others(tmp_path: Path) -> None:
    outbox, channel, engine = await outbox_on(tmp_path)
    channel.limited.add("1001")
    await queue(outbox, "1001", [f"第{i}条工单进展" for i in range(1500)])  # a chat Telegram limits
    await queue(outbox, "1002", ["您的工单已派发"])
    await queue(outbox, "1003", ["您的工单已办结"])
    await outbox.deliver_due()  # 1001's first message is refused for 30 s: its backlog waits
    await outbox.deliver_due()
    assert sorted(channel.sent) == sorted(["您的工单已派发", "您的工单已办结"])
    await engine.dispose()


def test_one_conversations_backlog_does_not_starve_the_others(tmp_path: Path) -> None:
    in_own_thread(a_long_backlog_does_not_starve_others, tmp_path)


async def no_session_while_a_channel_sends(tmp_path: Path) -> None:
    outbox, channel, engine = await outbox_on(tmp_path)
    for chat in range(20):  # more than the pool's 5 + 10 connections
        await queue(outbox, str(2000 + chat), ["您的工单已派发"])
    channel.release.clear()  # Telegram hangs
    round_ = asyncio.create_task(outbox.deliver_due())
    for _ in range(200):
        if channel.sending == 20:
            break
        await asyncio.sleep(0.05)
    assert channel.sending == 20  # every send under way at once,
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # none holding a connection
    channel.release.set()
    assert await round_ == 20
    await engine.dispose()


def test_no_session_is_held_while_a_channel_sends(tmp_path: Path) -> None:
    in_own_thread(no_session_while_a_channel_sends, tmp_path)


async def a_failing_send_does_not_stop_the_round(tmp_path: Path) -> None:
    outbox, channel, engine = await outbox_on(tmp_path)
    broken = await queue(outbox, "3001", ["第一条"])
    await queue(outbox, "3002", ["第二条"])
    channel.broken.add("3001")
    assert await outbox.deliver_due() == 1
    assert channel.sent == ["第二条"]
    async with outbox.sessions() as session:
        item = await session.scalar(select(OutboxItem).where(OutboxItem.conversation_id == broken))
        assert item is not None and item.state == OutboxState.SENDING  # tried again when its lease ends
        assert item.next_attempt_at > utcnow() + timedelta(seconds=30)
    await engine.dispose()


def test_a_failing_send_does_not_stop_the_others(tmp_path: Path) -> None:
    in_own_thread(a_failing_send_does_not_stop_the_round, tmp_path)


async def a_failed_rating_trigger_does_not_block_later_ones(tmp_path: Path, fake: FakeRasa) -> None:
    async with core_on(tmp_path, fake) as (core, _):
        feed = CaseFeed(
            sessions=core.sessions, core=core, bot=core.rasa, backend_url=fake.url, token="t", timeout_s=5
        )  # type: ignore[attr-defined]
        async with core.sessions() as session:
            for event_id, chat in ((1, "4001"), (2, "4002")):
                conversation = Conversation(channel="telegram", identity=chat, sender_id=f"telegram-{chat}")
                session.add(conversation)
                await session.flush()
                session.add(
                    PendingRating(
                        event_id=event_id, conversation_id=conversation.id, case_number=f"20261127{chat}"
                    )
                )
            await session.commit()
        fake.refuse["telegram-4001"] = 500  # the rating action fails for this conversation alone
        assert await feed.start_ratings() == 1
        assert [t["sender"] for t in fake.triggered] == ["telegram-4002"]
        assert await feed.start_ratings() == 0  # the failed one waits for its back-off
        async with core.sessions() as session:
            assert list(await session.scalars(select(PendingRating.event_id))) == [1]  # not dropped
        del fake.refuse["telegram-4001"]
        feed._failed[1] = (1, 0.0)  # its back-off is over
        assert await feed.start_ratings() == 1
        assert [t["sender"] for t in fake.triggered] == ["telegram-4002", "telegram-4001"]
        await feed.close()


def test_one_failed_rating_trigger_does_not_block_later_ones(tmp_path: Path) -> None:
    with_fake_rasa(a_failed_rating_trigger_does_not_block_later_ones, tmp_path)
